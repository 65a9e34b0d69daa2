// Fused forward kernels of the Qwen3 block: each does in one pass over memory what the model's
// composed tfjs ops do in several (RMSNorm: square, mean, add, rsqrt, two multiplies; SwiGLU:
// sigmoid and two multiplies), with every intermediate rounded to float exactly where the composed
// native/cpu kernels round it, so the output bits are the same as the unfused path's.
#include <cmath>

#include "exp-vec.h"
#include "kernels.h"
#include "napi-util.h"
#include "parallel.h"
#include "row-kernels.h"

namespace wsblas {

// out[r, :] = w ⊙ (x[r, :] · rsqrt(mean(x[r, :]²) + eps)) over contiguous rows of length n.
napi_value RmsNorm(napi_env env, napi_callback_info info) {
  napi_value argv[5];
  if (!getArgs(env, info, 5, argv)) return nullptr;
  float *x, *w, *out;
  size_t xLen, wLen, outLen;
  int64_t n;
  double eps;
  if (!getFloat32(env, argv[0], "x", &x, &xLen) || !getFloat32(env, argv[1], "weight", &w, &wLen) ||
      !getInt(env, argv[2], "n", &n) || !getDouble(env, argv[3], "eps", &eps) ||
      !getFloat32(env, argv[4], "out", &out, &outLen)) {
    return nullptr;
  }
  if (n <= 0 || static_cast<int64_t>(wLen) != n || xLen % static_cast<size_t>(n) != 0 || outLen < xLen) {
    return throwError(env, "wsflow native rmsNorm: weight length must equal the row length dividing x");
  }
  const int64_t rows = static_cast<int64_t>(xLen) / n;
  const double epsF = static_cast<float>(eps);  // the composed op adds eps as a float32 scalar tensor
  parallelFor(rows, std::max<int64_t>(1, kGrain / n), [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; r++) rmsNormRow(x + r * n, w, n, epsF, out + r * n);
  });
  return nullptr;
}

// out = silu(gate) ⊙ up = (gate · sigmoid(gate)) ⊙ up, elementwise.
napi_value Swiglu(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  if (!getArgs(env, info, 3, argv)) return nullptr;
  float *g, *u, *out;
  size_t gLen, uLen, outLen;
  if (!getFloat32(env, argv[0], "gate", &g, &gLen) || !getFloat32(env, argv[1], "up", &u, &uLen) ||
      !getFloat32(env, argv[2], "out", &out, &outLen)) {
    return nullptr;
  }
  if (uLen != gLen || outLen < gLen) return throwError(env, "wsflow native swiglu: gate, up and out differ in size");
  auto scalarAt = [&](int64_t i) {
    const double v = g[i];
    const float s = static_cast<float>(1.0 / (1.0 + std::exp(-v)));
    const float t = static_cast<float>(v * s);
    out[i] = static_cast<float>(static_cast<double>(t) * u[i]);
  };
  parallelFor(static_cast<int64_t>(gLen), kGrain / 8, [&](int64_t b, int64_t e) {
    int64_t i = b;
#ifdef WSBLAS_EXP_VEC
    // The sigmoid's exp four lanes at a time with the scalar bits (exp-vec.h); the products after it are the
    // scalar ones (a float times a float is exact in double, then rounded once).
    const __m256d one = _mm256_set1_pd(1.0);
    for (; i + 4 <= e; i += 4) {
      const __m256d v = _mm256_cvtps_pd(_mm_loadu_ps(g + i));
      const __m256d negV = _mm256_sub_pd(_mm256_setzero_pd(), v);
      const __m256d sd = _mm256_div_pd(one, _mm256_add_pd(one, expPd(negV)));
      const __m256d s = _mm256_cvtps_pd(_mm256_cvtpd_ps(sd));
      const __m256d t = _mm256_cvtps_pd(_mm256_cvtpd_ps(_mm256_mul_pd(v, s)));
      _mm_storeu_ps(out + i, _mm256_cvtpd_ps(_mm256_mul_pd(t, _mm256_cvtps_pd(_mm_loadu_ps(u + i)))));
      const int good = expInRange(negV) & roundsSafely(sd);
      redoFlaggedLanes(good, [&](int l) { scalarAt(i + l); });
    }
#endif
    for (; i < e; i++) scalarAt(i);
  });
  return nullptr;
}

}  // namespace wsblas
