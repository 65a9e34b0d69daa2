// exp over 4 doubles at a time whose float results equal the scalar std::exp path's bit for bit.
//
// Why: the cpu backend (and so every native kernel, see unary.cc) evaluates exp in double and rounds the
// result to float once. glibc's scalar exp costs ~6 ns an element here, which made exp the largest part of
// the attention, SwiGLU and softmax kernels (bench/core/TORCH-THREADS.md). A polynomial in AVX2 is ~10x
// cheaper, but differs from glibc in the last bits of the double. Those bits only matter where the double
// lies next to a float rounding boundary (the midpoint between two adjacent floats): rounding both values to
// float gives the same float unless a midpoint lies between them. So each lane's final double is checked: if
// it lies within kTieUlps double ulps of a midpoint (a few lanes in a million), or outside the range where
// that test is valid (subnormal or overflowing float, |x| > 700, NaN), the caller recomputes that lane with
// the scalar formula. The result is the scalar path's, not an approximation of it.
//
// Error budget: expPd is within 2 double ulps of glibc's exp (80M samples over |x| ≤ 700 and |x| ≤ 5, checked
// when this was written); the callers' arithmetic after exp (1 / (1 + e), products) adds a few ulps, and
// SwiGLU's gradient, where 1 + v·(1 − s) can cancel, at most ~1000x that in the lanes its caller admits
// (grad.cc). kTieUlps is 2^16 ulps: far above that budget, and hit by ~2^17 / 2^29 ≈ 2.4e-4 of the lanes.
//
// glibc's expf (the float overload, used by the fused cross-entropy) is not correctly rounded either: its
// documented error is 0.502 float ulps, so it may round the other way where the exact value lies within 0.002
// float ulps (~2^20 double ulps) of a midpoint. expfSafely keeps 2^21 ulps away from midpoints (~1/128 of the
// lanes are recomputed); elsewhere both it and the double exp rounded to float give the correctly rounded float.
#pragma once

#if defined(__AVX2__) && defined(__FMA__)
#define WSBLAS_EXP_VEC 1
#include <immintrin.h>

#include <cstdint>

namespace wsblas {

// exp(x) for |x| ≤ 708 (lanes outside give garbage: the caller masks them).
inline __m256d expPd(__m256d x) {
  const __m256d n = _mm256_round_pd(_mm256_mul_pd(x, _mm256_set1_pd(1.4426950408889634)),
                                    _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  // ln2Hi has 32 significant bits, so n·ln2Hi is exact for |n| ≤ 2^20 (fdlibm's split).
  __m256d r = _mm256_fnmadd_pd(n, _mm256_set1_pd(6.93147180369123816490e-01), x);
  r = _mm256_fnmadd_pd(n, _mm256_set1_pd(1.90821492927058770002e-10), r);
  // Σ r^i / i! for i ≤ 12, Horner form.
  static constexpr double kInvFact[13] = {1.0,
                                          1.0,
                                          1.0 / 2,
                                          1.0 / 6,
                                          1.0 / 24,
                                          1.0 / 120,
                                          1.0 / 720,
                                          1.0 / 5040,
                                          1.0 / 40320,
                                          1.0 / 362880,
                                          1.0 / 3628800,
                                          1.0 / 39916800,
                                          1.0 / 479001600};
  __m256d p = _mm256_set1_pd(kInvFact[12]);
  for (int i = 11; i >= 0; i--) p = _mm256_fmadd_pd(p, r, _mm256_set1_pd(kInvFact[i]));
  // 2^n from the exponent bits: n + 1023 shifted into place (|n| ≤ 1022 for |x| ≤ 708).
  const __m256i bits = _mm256_slli_epi64(
      _mm256_add_epi64(_mm256_castpd_si256(_mm256_add_pd(n, _mm256_set1_pd(6755399441055744.0))),
                       _mm256_set1_epi64x(1023)),
      52);
  return _mm256_mul_pd(p, _mm256_castsi256_pd(bits));
}

// Lanes where |x| ≤ 700 (false for NaN): where expPd may be used at all.
inline int expInRange(__m256d x) {
  const __m256d ax = _mm256_andnot_pd(_mm256_set1_pd(-0.0), x);
  return _mm256_movemask_pd(_mm256_cmp_pd(ax, _mm256_set1_pd(700.0), _CMP_LE_OQ));
}

// Lanes whose double v rounds to float exactly as any double within kTieUlps ulps of it does: v is 0, or
// |v| is in float's normal range and v is not within kTieUlps of a midpoint between two floats.
template <int64_t kTieUlps = int64_t{1} << 16>
inline int roundsSafely(__m256d v) {
  const __m256d av = _mm256_andnot_pd(_mm256_set1_pd(-0.0), v);
  const __m256d normal = _mm256_and_pd(_mm256_cmp_pd(av, _mm256_set1_pd(1.1754943508222875e-38), _CMP_GE_OQ),
                                       _mm256_cmp_pd(av, _mm256_set1_pd(3.4028234663852886e+38), _CMP_LE_OQ));
  // The 29 mantissa bits a float drops; the midpoint is 1 << 28.
  const __m256i low = _mm256_and_si256(_mm256_castpd_si256(v), _mm256_set1_epi64x((int64_t{1} << 29) - 1));
  const __m256i off = _mm256_sub_epi64(low, _mm256_set1_epi64x(int64_t{1} << 28));
  const __m256i far = _mm256_or_si256(_mm256_cmpgt_epi64(off, _mm256_set1_epi64x(kTieUlps)),
                                      _mm256_cmpgt_epi64(_mm256_set1_epi64x(-kTieUlps), off));
  const __m256d ok = _mm256_or_pd(_mm256_and_pd(normal, _mm256_castsi256_pd(far)),
                                  _mm256_cmp_pd(v, _mm256_setzero_pd(), _CMP_EQ_OQ));
  return _mm256_movemask_pd(ok);
}

// Calls redo(l) for each lane l whose bit is clear in `good`: the lanes the caller recomputes with its scalar formula.
template <typename Redo>
inline void redoFlaggedLanes(int good, Redo redo) {
  if (good == 0xF) return;
  for (int l = 0; l < 4; l++)
    if (!((good >> l) & 1)) redo(l);
}

// Lanes where the double exp of float arguments, rounded to float, is what glibc's expf returns.
inline int expfSafely(__m256d x, __m256d e) { return expInRange(x) & roundsSafely<int64_t{1} << 21>(e); }

}  // namespace wsblas
#endif
