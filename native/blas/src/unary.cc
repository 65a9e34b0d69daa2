// Elementwise float32 unary ops with the cpu kernels' formulas evaluated in double and rounded once,
// so results are bit-identical to tfjs's cpu backend (e.g. sigmoid = 1 / (1 + exp(-x))).
#include <cmath>

#include "exp-vec.h"
#include "kernels.h"
#include "napi-util.h"
#include "parallel.h"

namespace wsblas {

enum UnaryOp { kExp = 0, kSigmoid = 1, kNeg = 2, kSquare = 3, kRsqrt = 4, kSqrt = 5, kLog = 6 };

template <int Op>
static void runRange(const float* x, float* out, int64_t n) {
  int64_t i = 0;
#ifdef WSBLAS_EXP_VEC
  if constexpr (Op == kExp || Op == kSigmoid) {
    // exp four lanes at a time with the scalar bits (exp-vec.h); flagged lanes fall through to the loop below
    // one at a time.
    const __m256d one = _mm256_set1_pd(1.0);
    for (; i + 4 <= n; i += 4) {
      const __m256d v = _mm256_cvtps_pd(_mm_loadu_ps(x + i));
      const __m256d arg = Op == kExp ? v : _mm256_sub_pd(_mm256_setzero_pd(), v);
      const __m256d e = expPd(arg);
      const __m256d r = Op == kExp ? e : _mm256_div_pd(one, _mm256_add_pd(one, e));
      _mm_storeu_ps(out + i, _mm256_cvtpd_ps(r));
      const int good = expInRange(arg) & roundsSafely(r);
      redoFlaggedLanes(good, [&](int l) { runRange<Op>(x + i + l, out + i + l, 1); });
    }
  }
#endif
  for (; i < n; i++) {
    const double v = x[i];
    double r;
    if constexpr (Op == kExp) r = std::exp(v);
    if constexpr (Op == kSigmoid) r = 1.0 / (1.0 + std::exp(-v));
    if constexpr (Op == kNeg) r = -v;
    if constexpr (Op == kSquare) r = v * v;
    if constexpr (Op == kRsqrt) r = 1.0 / std::sqrt(v);
    if constexpr (Op == kSqrt) r = std::sqrt(v);
    if constexpr (Op == kLog) r = std::log(v);
    out[i] = static_cast<float>(r);
  }
}

template <int Op>
static void run(const float* x, float* out, size_t n) {
  // exp/log cost ~20x an add: worth threading at a smaller size
  const int64_t grain = (Op == kExp || Op == kSigmoid || Op == kLog) ? kGrain / 8 : kGrain;
  parallelFor(static_cast<int64_t>(n), grain, [&](int64_t b, int64_t e) { runRange<Op>(x + b, out + b, e - b); });
}

napi_value Unary(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  if (!getArgs(env, info, 3, argv)) return nullptr;
  int64_t op;
  float *x, *out;
  size_t xLen, outLen;
  if (!getInt(env, argv[0], "op", &op) || !getFloat32(env, argv[1], "x", &x, &xLen) ||
      !getFloat32(env, argv[2], "out", &out, &outLen)) {
    return nullptr;
  }
  if (outLen < xLen) return throwError(env, "wsflow native unary: output too small");
  switch (op) {
    case kExp: run<kExp>(x, out, xLen); break;
    case kSigmoid: run<kSigmoid>(x, out, xLen); break;
    case kNeg: run<kNeg>(x, out, xLen); break;
    case kSquare: run<kSquare>(x, out, xLen); break;
    case kRsqrt: run<kRsqrt>(x, out, xLen); break;
    case kSqrt: run<kSqrt>(x, out, xLen); break;
    case kLog: run<kLog>(x, out, xLen); break;
    default: return throwError(env, "wsflow native unary: unknown op code");
  }
  return nullptr;
}

}  // namespace wsblas
