// Strided copy: dst[dstOffset + Σ i_d·dstStrides_d] = src[srcOffset + Σ i_d·srcStrides_d] over
// `shape`. One primitive behind Transpose, Slice, SplitV, Concat, PadV2 and Tile (src stride 0
// repeats). Pure data movement: bit-exact with the JS kernels by construction.
#include <algorithm>
#include <cstring>

#include "args.h"
#include "kernels.h"
#include "napi-util.h"
#include "strided.h"

namespace wsblas {

static void copyInner(const float* src, int64_t s, float* dst, int64_t t, int64_t n) {
  if (s == 1 && t == 1) {
    std::memcpy(dst, src, static_cast<size_t>(n) * sizeof(float));
  } else if (s == 0) {
    const float v = *src;
    for (int64_t i = 0; i < n; i++) dst[i * t] = v;
  } else {
    for (int64_t i = 0; i < n; i++) dst[i * t] = src[i * s];
  }
}

// The last two dims form a transpose (src inner stride 1 on the second-to-last dim): copy in
// square tiles so that both the reads and the writes stay within a few cache lines.
static void copyTiled(const StridedLayout& L, const float* src, int64_t srcOff, float* dst,
                      int64_t dstOff) {
  const int rank = static_cast<int>(L.shape.size());
  StridedLayout outer;
  outer.operands = 2;
  outer.shape.assign(L.shape.begin(), L.shape.end() - 2);
  for (int o = 0; o < 2; o++) outer.strides[o].assign(L.strides[o].begin(), L.strides[o].end() - 2);
  if (outer.shape.empty()) {
    outer.shape.push_back(1);
    outer.strides[0].push_back(0);
    outer.strides[1].push_back(0);
  }
  outer.shape.push_back(1);  // forEachOuter leaves the innermost dim to the body
  outer.strides[0].push_back(0);
  outer.strides[1].push_back(0);
  const int64_t rows = L.shape[rank - 2], cols = L.shape[rank - 1];
  const int64_t sr = L.strides[0][rank - 2], sc = L.strides[0][rank - 1];
  const int64_t tr = L.strides[1][rank - 2], tc = L.strides[1][rank - 1];
  constexpr int64_t kTile = 32;
  const int64_t base[2] = {srcOff, dstOff};
  forEachOuter(outer, base, [&](const int64_t* off) {
    const float* s = src + off[0];
    float* d = dst + off[1];
    for (int64_t r0 = 0; r0 < rows; r0 += kTile) {
      const int64_t r1 = std::min(rows, r0 + kTile);
      for (int64_t c0 = 0; c0 < cols; c0 += kTile) {
        const int64_t c1 = std::min(cols, c0 + kTile);
        for (int64_t c = c0; c < c1; c++) {
          for (int64_t r = r0; r < r1; r++) d[r * tr + c * tc] = s[r * sr + c * sc];
        }
      }
    }
  });
}

napi_value StridedCopy(napi_env env, napi_callback_info info) {
  napi_value argv[7];
  if (!getArgs(env, info, 7, argv)) return nullptr;
  float *src, *dst;
  size_t srcLen, dstLen;
  int64_t srcOffset, dstOffset;
  std::vector<int64_t> srcStrides, dstStrides, shape;
  if (!getFloat32(env, argv[0], "src", &src, &srcLen) ||
      !getInt(env, argv[1], "srcOffset", &srcOffset) ||
      !getIntVector(env, argv[2], "srcStrides", &srcStrides) ||
      !getFloat32(env, argv[3], "dst", &dst, &dstLen) ||
      !getInt(env, argv[4], "dstOffset", &dstOffset) ||
      !getIntVector(env, argv[5], "dstStrides", &dstStrides) ||
      !getIntVector(env, argv[6], "shape", &shape)) {
    return nullptr;
  }
  if (srcStrides.size() != shape.size() || dstStrides.size() != shape.size()) {
    return throwError(env, "wsflow native stridedCopy: strides and shape differ in rank");
  }
  const int64_t srcExt = extent(shape, srcStrides, srcOffset);
  const int64_t dstExt = extent(shape, dstStrides, dstOffset);
  if (srcExt == 0 || dstExt == 0) return nullptr;  // empty
  if (srcExt > static_cast<int64_t>(srcLen) || dstExt > static_cast<int64_t>(dstLen)) {
    return throwError(env, "wsflow native stridedCopy: access outside the buffers");
  }
  const StridedLayout L = normalise(shape, {srcStrides, dstStrides});
  const int rank = static_cast<int>(L.shape.size());
  if (rank >= 2 && L.strides[0][rank - 1] != 1 && L.strides[0][rank - 1] != 0 &&
      L.strides[0][rank - 2] == 1) {
    copyTiled(L, src, srcOffset, dst, dstOffset);
    return nullptr;
  }
  const int64_t base[2] = {srcOffset, dstOffset};
  const int64_t n = L.shape.back(), s = L.strides[0].back(), t = L.strides[1].back();
  forEachOuter(L, base, [&](const int64_t* off) { copyInner(src + off[0], s, dst + off[1], t, n); });
  return nullptr;
}

napi_value Fill(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  if (!getArgs(env, info, 2, argv)) return nullptr;
  float* dst;
  size_t len;
  double value;
  if (!getFloat32(env, argv[0], "dst", &dst, &len) || !getDouble(env, argv[1], "value", &value)) {
    return nullptr;
  }
  std::fill(dst, dst + len, static_cast<float>(value));
  return nullptr;
}

}  // namespace wsblas

namespace wsblas {

// out[o, i, :] = x[o, indices[i], :] for x viewed as [outer, dimSize, slice] (GatherV2, batchDims 0).
napi_value Gather(napi_env env, napi_callback_info info) {
  napi_value argv[6];
  if (!getArgs(env, info, 6, argv)) return nullptr;
  float *x, *out;
  size_t xLen, outLen, nIdx;
  int32_t* idx;
  int64_t outer, dimSize, slice;
  if (!getFloat32(env, argv[0], "x", &x, &xLen) || !getInt(env, argv[1], "outer", &outer) ||
      !getInt(env, argv[2], "dimSize", &dimSize) || !getInt(env, argv[3], "slice", &slice) ||
      !getInt32Array(env, argv[4], "indices", &idx, &nIdx) ||
      !getFloat32(env, argv[5], "out", &out, &outLen)) {
    return nullptr;
  }
  if (outer * dimSize * slice > static_cast<int64_t>(xLen) ||
      outer * static_cast<int64_t>(nIdx) * slice > static_cast<int64_t>(outLen)) {
    return throwError(env, "wsflow native gather: shapes do not match the buffers");
  }
  for (size_t i = 0; i < nIdx; i++) {
    if (idx[i] < 0 || idx[i] >= dimSize) return throwError(env, "wsflow native gather: index out of range");
  }
  const int64_t n = static_cast<int64_t>(nIdx);
  for (int64_t o = 0; o < outer; o++) {
    const float* src = x + o * dimSize * slice;
    float* dst = out + o * n * slice;
    if (slice == 1) {
      for (int64_t i = 0; i < n; i++) dst[i] = src[idx[i]];
    } else {
      for (int64_t i = 0; i < n; i++) {
        std::memcpy(dst + i * slice, src + static_cast<int64_t>(idx[i]) * slice,
                    static_cast<size_t>(slice) * sizeof(float));
      }
    }
  }
  return nullptr;
}

}  // namespace wsblas
