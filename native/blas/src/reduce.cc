// Reductions (Sum, Mean, Max) over arbitrary axes, and Softmax over the last axis.
// Summation order matches tfjs's cpu kernels exactly: each output accumulates its inputs in
// row-major order of the reduced axes, in double, rounded to float once at the end (Mean divides
// each element by the count first, as the cpu kernel does). Two loop orders give that same order:
// "rows" when the reduced elements are contiguous, "columns" (one double accumulator per output,
// reduced positions outermost) when the kept axes are innermost, e.g. a bias-gradient sum over
// the batch axis.
#include <cmath>
#include <vector>

#include "args.h"
#include "kernels.h"
#include "napi-util.h"
#include "parallel.h"
#include "row-kernels.h"
#include "strided.h"

namespace wsblas {

enum ReduceOp { kSum = 0, kMean = 1, kMaxOp = 2 };

napi_value Reduce(napi_env env, napi_callback_info info) {
  napi_value argv[7];
  if (!getArgs(env, info, 7, argv)) return nullptr;
  int64_t op;
  float *x, *out;
  size_t xLen, outLen;
  std::vector<int64_t> keptShape, keptStrides, redShape, redStrides;
  if (!getInt(env, argv[0], "op", &op) || !getFloat32(env, argv[1], "x", &x, &xLen) ||
      !getIntVector(env, argv[2], "keptShape", &keptShape) ||
      !getIntVector(env, argv[3], "keptStrides", &keptStrides) ||
      !getIntVector(env, argv[4], "reducedShape", &redShape) ||
      !getIntVector(env, argv[5], "reducedStrides", &redStrides) ||
      !getFloat32(env, argv[6], "out", &out, &outLen)) {
    return nullptr;
  }
  if (op < kSum || op > kMaxOp) return throwError(env, "wsflow native reduce: unknown op code");
  if (keptShape.size() != keptStrides.size() || redShape.size() != redStrides.size()) {
    return throwError(env, "wsflow native reduce: strides and shape differ in rank");
  }
  int64_t keptSize = 1, redSize = 1;
  for (int64_t d : keptShape) keptSize *= d;
  for (int64_t d : redShape) redSize *= d;
  if (keptSize == 0) return nullptr;
  if (keptSize > static_cast<int64_t>(outLen)) return throwError(env, "wsflow native reduce: output too small");
  if (redSize == 0) {
    if (op == kMaxOp) return throwError(env, "wsflow native reduce: max over an empty axis");
    for (int64_t i = 0; i < keptSize; i++) out[i] = op == kMean ? NAN : 0.0f;
    return nullptr;
  }
  if (extent(keptShape, keptStrides, 0) + extent(redShape, redStrides, 0) - 1 > static_cast<int64_t>(xLen)) {
    return throwError(env, "wsflow native reduce: access outside the input");
  }
  const float count = static_cast<float>(redSize);
  // Output positions are contiguous in row-major order over keptShape.
  std::vector<int64_t> outStrides(keptShape.size());
  {
    int64_t s = 1;
    for (int d = static_cast<int>(keptShape.size()) - 1; d >= 0; d--) { outStrides[d] = s; s *= keptShape[d]; }
  }
  const StridedLayout K = normalise(keptShape, {keptStrides, outStrides});
  const StridedLayout R = normalise(redShape, {redStrides});
  const int64_t rn = R.shape.back(), rs = R.strides[0].back();
  const int64_t kn = K.shape.back(), ks = K.strides[0].back();
  const bool columns = rs != 1 && ks == 1;
  const int64_t zero[3] = {0, 0, 0};
  if (!columns) {
    forEachOuter(K, zero, [&](const int64_t* koff) {
      for (int64_t j = 0; j < kn; j++) {
        const float* base = x + koff[0] + j * ks;
        double acc = op == kMaxOp ? static_cast<double>(*base) : 0.0;
        forEachOuter(R, zero, [&](const int64_t* roff) {
          const float* p = base + roff[0];
          if (op == kSum) {
            for (int64_t i = 0; i < rn; i++) acc += p[i * rs];
          } else if (op == kMean) {
            for (int64_t i = 0; i < rn; i++) acc += static_cast<float>(static_cast<double>(p[i * rs]) / count);
          } else {
            for (int64_t i = 0; i < rn; i++) acc = maxStep(acc, p[i * rs]);
          }
        });
        out[koff[1] + j] = static_cast<float>(acc);
      }
    });
    return nullptr;
  }
  std::vector<double> acc(static_cast<size_t>(keptSize), 0.0);
  bool first = true;
  forEachOuter(R, zero, [&](const int64_t* roff) {
    for (int64_t i = 0; i < rn; i++) {
      const float* base = x + roff[0] + i * rs;
      forEachOuter(K, zero, [&](const int64_t* koff) {
        const float* p = base + koff[0];
        double* a = acc.data() + koff[1];
        if (op == kSum) {
          for (int64_t j = 0; j < kn; j++) a[j] += p[j];
        } else if (op == kMean) {
          for (int64_t j = 0; j < kn; j++) a[j] += static_cast<float>(static_cast<double>(p[j]) / count);
        } else if (first) {
          for (int64_t j = 0; j < kn; j++) a[j] = p[j];
        } else {
          for (int64_t j = 0; j < kn; j++) a[j] = maxStep(a[j], p[j]);
        }
      });
      first = false;
    }
  });
  for (int64_t i = 0; i < keptSize; i++) out[i] = static_cast<float>(acc[i]);
  return nullptr;
}

// Softmax over contiguous rows of length n, computed as the cpu kernel does: max, x - max rounded
// to float, exp in double rounded to float, double sum rounded to float, then a division.
napi_value Softmax(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  if (!getArgs(env, info, 3, argv)) return nullptr;
  float *x, *out;
  size_t xLen, outLen;
  int64_t n;
  if (!getFloat32(env, argv[0], "x", &x, &xLen) || !getInt(env, argv[1], "n", &n) ||
      !getFloat32(env, argv[2], "out", &out, &outLen)) {
    return nullptr;
  }
  if (n == 0 || xLen == 0) return nullptr;
  if (xLen % static_cast<size_t>(n) != 0 || outLen < xLen) {
    return throwError(env, "wsflow native softmax: buffer sizes do not match the row length");
  }
  const int64_t rows = static_cast<int64_t>(xLen) / n;
  parallelFor(rows, std::max<int64_t>(1, kGrain / 8 / n), [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; r++) softmaxRow(x + r * n, n, out + r * n);
  });
  return nullptr;
}

}  // namespace wsblas
