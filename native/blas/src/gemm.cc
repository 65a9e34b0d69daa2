// Batched single-precision GEMM over OpenBLAS: out[i] = op(A[aOff[i]]) · op(B[bOff[i]]).
// Broadcasting of batch dimensions is resolved by the caller into per-batch element offsets, so
// this file only checks bounds and calls cblas_sgemm. Summation order: OpenBLAS splits the M/N
// dimensions across threads, never K, so every output element is reduced in the same order for a
// given OpenBLAS build and thread count; results are identical run to run.
#include <cblas.h>

#include <cstdio>

#include "kernels.h"
#include "napi-util.h"
#include "parallel.h"

namespace wsblas {

napi_value Gemm(napi_env env, napi_callback_info info) {
  napi_value argv[11];
  if (!getArgs(env, info, 11, argv)) return nullptr;
  float *a, *b, *out;
  size_t aLen, bLen, outLen;
  int64_t batch, m, n, k;
  bool transA, transB;
  double *aOff, *bOff;
  size_t aOffLen, bOffLen;
  if (!getFloat32(env, argv[0], "a", &a, &aLen) || !getFloat32(env, argv[1], "b", &b, &bLen) ||
      !getFloat32(env, argv[2], "out", &out, &outLen) ||
      !getInt(env, argv[3], "batch", &batch) || !getInt(env, argv[4], "m", &m) ||
      !getInt(env, argv[5], "n", &n) || !getInt(env, argv[6], "k", &k) ||
      !getBool(env, argv[7], "transA", &transA) || !getBool(env, argv[8], "transB", &transB) ||
      !getFloat64(env, argv[9], "aOffsets", &aOff, &aOffLen) ||
      !getFloat64(env, argv[10], "bOffsets", &bOff, &bOffLen)) {
    return nullptr;
  }
  if (static_cast<int64_t>(aOffLen) != batch || static_cast<int64_t>(bOffLen) != batch) {
    return throwError(env, "wsflow native gemm: offsets must have one entry per batch");
  }
  if (static_cast<int64_t>(outLen) < batch * m * n) {
    return throwError(env, "wsflow native gemm: output buffer too small");
  }
  for (int64_t i = 0; i < batch; i++) {
    if (aOff[i] < 0 || static_cast<int64_t>(aOff[i]) + m * k > static_cast<int64_t>(aLen) ||
        bOff[i] < 0 || static_cast<int64_t>(bOff[i]) + k * n > static_cast<int64_t>(bLen)) {
      char msg[160];
      std::snprintf(msg, sizeof msg, "wsflow native gemm: batch %lld reads outside its operands",
                    static_cast<long long>(i));
      return throwError(env, msg);
    }
  }
  if (m == 0 || n == 0) return nullptr;
  if (k == 0) {
    for (int64_t i = 0; i < batch * m * n; i++) out[i] = 0.0f;
    return nullptr;
  }
  const int lda = transA ? static_cast<int>(m) : static_cast<int>(k);
  const int ldb = transB ? static_cast<int>(k) : static_cast<int>(n);
  for (int64_t i = 0; i < batch; i++) {
    cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans,
                transB ? CblasTrans : CblasNoTrans, static_cast<int>(m), static_cast<int>(n),
                static_cast<int>(k), 1.0f, a + static_cast<int64_t>(aOff[i]), lda,
                b + static_cast<int64_t>(bOff[i]), ldb, 0.0f, out + i * m * n,
                static_cast<int>(n));
  }
  return nullptr;
}

napi_value SetThreads(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  if (!getArgs(env, info, 1, argv)) return nullptr;
  int64_t n;
  if (!getInt(env, argv[0], "threads", &n)) return nullptr;
  if (n < 1) return throwError(env, "wsflow native: threads must be >= 1");
  openblas_set_num_threads(static_cast<int>(n));
  setElementwiseThreads(static_cast<int>(n));
  return nullptr;
}

napi_value GetThreads(napi_env env, napi_callback_info /*info*/) {
  napi_value result;
  napi_create_int32(env, openblas_get_num_threads(), &result);
  return result;
}

napi_value BlasConfig(napi_env env, napi_callback_info /*info*/) {
  napi_value result;
  napi_create_string_utf8(env, openblas_get_config(), NAPI_AUTO_LENGTH, &result);
  return result;
}

}  // namespace wsblas
