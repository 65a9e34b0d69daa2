// Per-row bodies shared by the standalone kernels (fused.cc, reduce.cc) and the attention kernels
// (attention.cc), so a fused kernel rounds exactly where the standalone one does and the bits agree.
#pragma once

#include <cmath>
#include <cstdint>

#include "exp-vec.h"

namespace wsblas {

// Max that lets NaN through, as the cpu backend's max does.
inline double maxStep(double acc, float v) { return (std::isnan(v) || v > acc) ? static_cast<double>(v) : acc; }

// o = w ⊙ (x · rsqrt(mean(x²) + eps)) over one row of n, with the composed ops' float roundings.
inline void rmsNormRow(const float* in, const float* w, int64_t n, double epsF, float* o) {
  const float count = static_cast<float>(n);
  double acc = 0.0;
  for (int64_t i = 0; i < n; i++) {
    const float sq = static_cast<float>(static_cast<double>(in[i]) * in[i]);
    acc += static_cast<float>(static_cast<double>(sq) / count);
  }
  const float variance = static_cast<float>(static_cast<float>(acc) + epsF);
  const double inv = static_cast<float>(1.0 / std::sqrt(static_cast<double>(variance)));
  for (int64_t i = 0; i < n; i++) {
    const float normed = static_cast<float>(in[i] * inv);
    o[i] = static_cast<float>(static_cast<double>(w[i]) * normed);
  }
}

// Softmax of one row of n as the cpu kernel computes it: max, x - max rounded to float, exp in double
// rounded to float, double sum rounded to float, then a division. in and o may alias.
inline void softmaxRow(const float* in, int64_t n, float* o) {
  double m = in[0];
  for (int64_t i = 0; i < n; i++) m = maxStep(m, in[i]);
  const float mf = static_cast<float>(m);
  auto expAt = [&](int64_t i) {
    const float d = static_cast<float>(static_cast<double>(in[i]) - mf);
    return static_cast<float>(std::exp(static_cast<double>(d)));
  };
  double sum = 0.0;
  int64_t i = 0;
#ifdef WSBLAS_EXP_VEC
  // Four lanes at a time with the scalar path's bits (exp-vec.h); the sum stays sequential, in index order.
  const __m256d mv = _mm256_set1_pd(mf);
  for (; i + 4 <= n; i += 4) {
    const __m256d d = _mm256_cvtps_pd(_mm256_cvtpd_ps(_mm256_sub_pd(_mm256_cvtps_pd(_mm_loadu_ps(in + i)), mv)));
    const __m256d e = expPd(d);
    alignas(16) float ef[4];
    _mm_store_ps(ef, _mm256_cvtpd_ps(e));
    const int good = expInRange(d) & roundsSafely(e);
    // exp(x) is exactly +0 in double below -745.14 (masked scores are -inf); other lanes take the scalar path
    redoFlaggedLanes(good, [&](int l) {
      const float dl = static_cast<float>(static_cast<double>(in[i + l]) - mf);
      ef[l] = dl <= -746.0f ? 0.0f : expAt(i + l);
    });
    for (int l = 0; l < 4; l++) {
      o[i + l] = ef[l];
      sum += ef[l];
    }
  }
#endif
  for (; i < n; i++) {
    const float e = expAt(i);
    o[i] = e;
    sum += e;
  }
  const double s = static_cast<float>(sum);
  for (int64_t j = 0; j < n; j++) o[j] = static_cast<float>(o[j] / s);
}

}  // namespace wsblas
