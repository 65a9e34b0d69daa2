// Broadcasting binary float32 ops: out (contiguous, row-major over `shape`) = op(a, b), where a
// and b are read through strides (0 on broadcast dims). Arithmetic is done in double and rounded
// once to float, exactly as tfjs's cpu kernels do (JS numbers), so results are bit-identical.
#include <cmath>

#include "args.h"
#include "kernels.h"
#include "napi-util.h"
#include "parallel.h"
#include "strided.h"

namespace wsblas {

enum BinaryOp { kAdd = 0, kSub = 1, kMul = 2, kDiv = 3, kMax = 4, kMin = 5, kSquaredDiff = 6 };

template <int Op>
static inline float apply(float x, float y) {
  const double a = x, b = y;
  if constexpr (Op == kAdd) return static_cast<float>(a + b);
  if constexpr (Op == kSub) return static_cast<float>(a - b);
  if constexpr (Op == kMul) return static_cast<float>(a * b);
  if constexpr (Op == kDiv) return static_cast<float>(a / b);
  // Math.max/min semantics: NaN wins, and +0 > -0.
  if constexpr (Op == kMax) {
    if (std::isnan(x) || std::isnan(y)) return NAN;
    if (x != y) return x > y ? x : y;
    return std::signbit(x) ? y : x;
  }
  if constexpr (Op == kMin) {
    if (std::isnan(x) || std::isnan(y)) return NAN;
    if (x != y) return x < y ? x : y;
    return std::signbit(x) ? x : y;
  }
  if constexpr (Op == kSquaredDiff) return static_cast<float>((a - b) * (a - b));
  return 0.0f;
}

template <int Op>
static void run(const StridedLayout& L, const float* a, const float* b, float* out,
                const int64_t* base) {
  const int64_t sa = L.strides[0].back(), sb = L.strides[1].back();
  parallelForEachOuter(L, base, [&](const int64_t* off, int64_t n) {
    const float* x = a + off[0];
    const float* y = b + off[1];
    float* z = out + off[2];
    if (sa == 1 && sb == 1) {
      for (int64_t i = 0; i < n; i++) z[i] = apply<Op>(x[i], y[i]);
    } else if (sa == 1 && sb == 0) {
      const float v = *y;
      for (int64_t i = 0; i < n; i++) z[i] = apply<Op>(x[i], v);
    } else if (sa == 0 && sb == 1) {
      const float v = *x;
      for (int64_t i = 0; i < n; i++) z[i] = apply<Op>(v, y[i]);
    } else {
      for (int64_t i = 0; i < n; i++) z[i] = apply<Op>(x[i * sa], y[i * sb]);
    }
  });
}

napi_value Binary(napi_env env, napi_callback_info info) {
  napi_value argv[7];
  if (!getArgs(env, info, 7, argv)) return nullptr;
  int64_t op;
  float *a, *b, *out;
  size_t aLen, bLen, outLen;
  std::vector<int64_t> aStrides, bStrides, shape;
  if (!getInt(env, argv[0], "op", &op) || !getFloat32(env, argv[1], "a", &a, &aLen) ||
      !getIntVector(env, argv[2], "aStrides", &aStrides) ||
      !getFloat32(env, argv[3], "b", &b, &bLen) ||
      !getIntVector(env, argv[4], "bStrides", &bStrides) ||
      !getFloat32(env, argv[5], "out", &out, &outLen) ||
      !getIntVector(env, argv[6], "shape", &shape)) {
    return nullptr;
  }
  if (aStrides.size() != shape.size() || bStrides.size() != shape.size()) {
    return throwError(env, "wsflow native binary: strides and shape differ in rank");
  }
  std::vector<int64_t> outStrides(shape.size());
  int64_t total = 1;
  for (int d = static_cast<int>(shape.size()) - 1; d >= 0; d--) {
    outStrides[d] = total;
    total *= shape[d];
  }
  if (total == 0) return nullptr;
  if (extent(shape, aStrides, 0) > static_cast<int64_t>(aLen) ||
      extent(shape, bStrides, 0) > static_cast<int64_t>(bLen) || total > static_cast<int64_t>(outLen)) {
    return throwError(env, "wsflow native binary: access outside the buffers");
  }
  const StridedLayout L = normalise(shape, {aStrides, bStrides, outStrides});
  const int64_t base[3] = {0, 0, 0};
  switch (op) {
    case kAdd: run<kAdd>(L, a, b, out, base); break;
    case kSub: run<kSub>(L, a, b, out, base); break;
    case kMul: run<kMul>(L, a, b, out, base); break;
    case kDiv: run<kDiv>(L, a, b, out, base); break;
    case kMax: run<kMax>(L, a, b, out, base); break;
    case kMin: run<kMin>(L, a, b, out, base); break;
    case kSquaredDiff: run<kSquaredDiff>(L, a, b, out, base); break;
    default: return throwError(env, "wsflow native binary: unknown op code");
  }
  return nullptr;
}

}  // namespace wsblas
