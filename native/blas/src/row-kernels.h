// Per-row bodies shared by the standalone kernels (fused.cc, reduce.cc) and the attention kernels
// (attention.cc), so a fused kernel rounds exactly where the standalone one does and the bits agree.
#pragma once

#include <cmath>
#include <cstdint>

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
  double sum = 0.0;
  for (int64_t i = 0; i < n; i++) {
    const float d = static_cast<float>(static_cast<double>(in[i]) - mf);
    const float e = static_cast<float>(std::exp(static_cast<double>(d)));
    o[i] = e;
    sum += e;
  }
  const double s = static_cast<float>(sum);
  for (int64_t i = 0; i < n; i++) o[i] = static_cast<float>(o[i] / s);
}

}  // namespace wsblas
