// Batched single-precision GEMM over OpenBLAS: out[i] = op(A[aOff[i]]) · op(B[bOff[i]]).
// Broadcasting of batch dimensions is resolved by the caller into per-batch element offsets, so
// this file only checks bounds, cuts the work into tiles and calls cblas_sgemm.
//
// Results must not depend on the thread count. OpenBLAS's own threading does not guarantee that:
// on an AMD EPYC (OpenBLAS 0.3.21, DYNAMIC_ARCH picking Haswell kernels) 1 and 2 threads gave
// different bits, presumably because its per-thread M/N ranges move elements between full and edge
// micro-tiles, which accumulate differently; an earlier machine happened to agree. So
// OpenBLAS always runs single-threaded here, and we split each product ourselves into tiles of C
// whose boundaries are a function of (m, n) alone; every tile is one single-threaded cblas_sgemm,
// whichever thread runs it, so the bytes are the same for any thread count.
#include <cblas.h>

#include <algorithm>
#include <cstdio>

#include "gemm.h"
#include "kernels.h"
#include "napi-util.h"
#include "parallel.h"

namespace wsblas {

namespace {

// Tiles of C, chosen from the shape only. Start at 256 x 1024 and halve (columns first, down to 512;
// then rows, down to 64) until there are 4 tiles, two per core on the 2-core machines we measure on;
// threads claim tiles as they go (parallelTasks), so a preempted thread does not stall the product.
// Smaller tiles repack more of A and B per flop, hence the floors (8 tiles with a 256-column floor
// made the 64-token projections 64 x 256 x 1024 calls, each repacking all of A).
Tiling chooseTiling(int64_t batch, int64_t m, int64_t n) {
  constexpr int64_t kWantTasks = 4, kMinM = 64, kMinN = 512;
  Tiling t{std::min<int64_t>(m, 256), std::min<int64_t>(n, 1024), 0, 0};
  auto tasks = [&] { return batch * ((m + t.tileM - 1) / t.tileM) * ((n + t.tileN - 1) / t.tileN); };
  while (tasks() < kWantTasks) {
    if (t.tileN > kMinN) t.tileN = std::max<int64_t>(kMinN, t.tileN / 2);
    else if (t.tileM > kMinM) t.tileM = std::max<int64_t>(kMinM, t.tileM / 2);
    else break;
  }
  t.tilesM = (m + t.tileM - 1) / t.tileM;
  t.tilesN = (n + t.tileN - 1) / t.tileN;
  return t;
}

// Below this many flops per call, starting threads costs more than it saves (one chunk: serial).
constexpr double kThreadFlops = 4.0e6;

void runTiledGemm(const float* a, const float* b, float* out, int64_t batch, int64_t m, int64_t n,
                  int64_t k, bool transA, bool transB, const double* aOff, const double* bOff) {
  const Tiling t = chooseTiling(batch, m, n);
  const int64_t perBatch = t.tilesM * t.tilesN, tasks = batch * perBatch;
  auto runTask = [&](int64_t task) {
    const int64_t bi = task / perBatch;
    gemmTile(t, task % perBatch, a + static_cast<int64_t>(aOff[bi]), b + static_cast<int64_t>(bOff[bi]),
             out + bi * m * n, m, n, k, transA, transB);
  };
  const double flops = 2.0 * static_cast<double>(batch) * m * n * k;
  if (flops < kThreadFlops) {
    for (int64_t task = 0; task < tasks; task++) runTask(task);
    return;
  }
  parallelTasks(tasks, runTask);
}

}  // namespace

void gemmTile(const Tiling& t, int64_t tile, const float* a, const float* b, float* out, int64_t m, int64_t n,
              int64_t k, bool transA, bool transB) {
  const int lda = transA ? static_cast<int>(m) : static_cast<int>(k);
  const int ldb = transB ? static_cast<int>(k) : static_cast<int>(n);
  const int64_t i0 = (tile / t.tilesN) * t.tileM, j0 = (tile % t.tilesN) * t.tileN;
  const int64_t rows = std::min(t.tileM, m - i0), cols = std::min(t.tileN, n - j0);
  cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
              static_cast<int>(rows), static_cast<int>(cols), static_cast<int>(k), 1.0f,
              a + (transA ? i0 : i0 * k), lda, b + (transB ? j0 * k : j0), ldb, 0.0f, out + i0 * n + j0,
              static_cast<int>(n));
}

void gemmAsBatchItem(int64_t batch, const float* a, const float* b, float* out, int64_t m, int64_t n, int64_t k,
                     bool transA, bool transB) {
  const Tiling t = chooseTiling(batch, m, n);
  for (int64_t tile = 0; tile < t.tilesM * t.tilesN; tile++) gemmTile(t, tile, a, b, out, m, n, k, transA, transB);
}

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
  runTiledGemm(a, b, out, batch, m, n, k, transA, transB, aOff, bOff);
  return nullptr;
}

napi_value SetThreads(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  if (!getArgs(env, info, 1, argv)) return nullptr;
  int64_t n;
  if (!getInt(env, argv[0], "threads", &n)) return nullptr;
  if (n < 1) return throwError(env, "wsflow native: threads must be >= 1");
  openblas_set_num_threads(1);  // see the top of this file: we thread over tiles ourselves
  setElementwiseThreads(static_cast<int>(n));
  return nullptr;
}

napi_value GetThreads(napi_env env, napi_callback_info /*info*/) {
  napi_value result;
  napi_create_int32(env, elementwiseThreads(), &result);
  return result;
}

napi_value BlasConfig(napi_env env, napi_callback_info /*info*/) {
  napi_value result;
  napi_create_string_utf8(env, openblas_get_config(), NAPI_AUTO_LENGTH, &result);
  return result;
}

}  // namespace wsblas
