// Backward kernels of training: each replaces a chain of composed tfjs ops (one pass over memory each)
// with one pass. Every output element is computed by one thread with fixed arithmetic, and the one
// cross-row reduction (RMSNorm's weight gradient) sums fixed row blocks in a fixed order, so results
// do not depend on the thread count.
#include <cmath>
#include <limits>
#include <vector>

#include "exp-vec.h"
#include "kernels.h"
#include "napi-util.h"
#include "parallel.h"

namespace wsblas {

namespace {

// Rows per partial sum of RMSNorm's weight gradient: a function of nothing but this constant, so the
// partials (and their serial sum) are the same for any thread count.
constexpr int64_t kRowBlock = 32;

}  // namespace

// One vocabulary chunk of the fused cross-entropy (src/core/native/kernels/cross-entropy.ts). logits is
// [n, w] (rows: selected tokens, columns: vocabulary ids v0..v0+w). Per row, with the running max m and
// running sum s of exp(logit − m) over the chunks so far: m' = max(m, max of the row), rowScale =
// exp(m − m'), s' = s·rowScale + Σ exp(logit − m'); the row is overwritten with exp(logit − m') (the
// unnormalised probabilities, for the gradient GEMM), and the target's logit is picked when it is in
// this chunk.
napi_value CeChunk(napi_env env, napi_callback_info info) {
  napi_value argv[9];
  if (!getArgs(env, info, 9, argv)) return nullptr;
  float *logits, *runMax, *rowScale, *targetLogit;
  double* runSum;
  int32_t* targets;
  size_t lLen, tLen, mLen, sLen, rsLen, tlLen;
  int64_t n, w, v0;
  if (!getFloat32(env, argv[0], "logits", &logits, &lLen) || !getInt(env, argv[1], "n", &n) ||
      !getInt(env, argv[2], "w", &w) || !getInt(env, argv[3], "v0", &v0) ||
      !getInt32Array(env, argv[4], "targets", &targets, &tLen) ||
      !getFloat32(env, argv[5], "runMax", &runMax, &mLen) || !getFloat64(env, argv[6], "runSum", &runSum, &sLen) ||
      !getFloat32(env, argv[7], "rowScale", &rowScale, &rsLen) ||
      !getFloat32(env, argv[8], "targetLogit", &targetLogit, &tlLen)) {
    return nullptr;
  }
  const size_t rows = static_cast<size_t>(n);
  if (n < 0 || w <= 0 || lLen < rows * static_cast<size_t>(w) || tLen != rows || mLen != rows || sLen != rows ||
      rsLen != rows || tlLen != rows) {
    return throwError(env, "wsflow native ceChunk: buffer sizes do not match n rows of w logits");
  }
  parallelFor(n, std::max<int64_t>(1, kGrain / 8 / w), [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; r++) {
      float* row = logits + r * w;
      float mx = -std::numeric_limits<float>::infinity();
      for (int64_t j = 0; j < w; j++) mx = std::max(mx, row[j]);
      const int64_t t = static_cast<int64_t>(targets[r]) - v0;
      if (t >= 0 && t < w) targetLogit[r] = row[t];
      const float mOld = runMax[r];
      const float mNew = std::max(mOld, mx);
      // exp(-inf − finite) = 0: the first chunk scales the empty sum by 0
      const float scale = mOld == -std::numeric_limits<float>::infinity() ? 0.0f : std::exp(mOld - mNew);
      double sum = 0.0;
      int64_t j = 0;
#ifdef WSBLAS_EXP_VEC
      // expf four lanes at a time with glibc's bits (exp-vec.h: expfSafely); the sum stays sequential.
      const __m128 mv = _mm_set1_ps(mNew);
      for (; j + 4 <= w; j += 4) {
        const __m128 xf = _mm_sub_ps(_mm_loadu_ps(row + j), mv);
        const __m256d x = _mm256_cvtps_pd(xf);
        const __m256d ed = expPd(x);
        alignas(16) float ef[4];
        _mm_store_ps(ef, _mm256_cvtpd_ps(ed));
        const int good = expfSafely(x, ed);
        redoFlaggedLanes(good, [&](int l) { ef[l] = std::exp(row[j + l] - mNew); });
        for (int l = 0; l < 4; l++) {
          row[j + l] = ef[l];
          sum += ef[l];
        }
      }
#endif
      for (; j < w; j++) {
        const float e = std::exp(row[j] - mNew);
        row[j] = e;
        sum += e;
      }
      runMax[r] = mNew;
      runSum[r] = runSum[r] * scale + sum;
      rowScale[r] = scale;
    }
  });
  return nullptr;
}

// acc[r, :] = acc[r, :]·scale[r] + add[r, :] over n rows (the online-softmax rescale of the gradient sum).
napi_value RowScaleAdd(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  if (!getArgs(env, info, 3, argv)) return nullptr;
  float *acc, *scale, *add;
  size_t aLen, sLen, dLen;
  if (!getFloat32(env, argv[0], "acc", &acc, &aLen) || !getFloat32(env, argv[1], "scale", &scale, &sLen) ||
      !getFloat32(env, argv[2], "add", &add, &dLen)) {
    return nullptr;
  }
  if (sLen == 0 || aLen % sLen != 0 || dLen < aLen) return throwError(env, "wsflow native rowScaleAdd: sizes do not match");
  const int64_t n = static_cast<int64_t>(sLen), e = static_cast<int64_t>(aLen / sLen);
  parallelFor(n, std::max<int64_t>(1, kGrain / e), [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; r++) {
      const float s = scale[r];
      float* a = acc + r * e;
      const float* d = add + r * e;
      for (int64_t j = 0; j < e; j++) a[j] = a[j] * s + d[j];
    }
  });
  return nullptr;
}

// Gradient of y = w ⊙ x·r, r = rsqrt(mean(x²) + eps) over rows of length n:
// dx = r·g − x·r³·mean(g ⊙ x) with g = dy ⊙ w; dw = Σ over rows of dy ⊙ x·r.
napi_value RmsNormGrad(napi_env env, napi_callback_info info) {
  napi_value argv[7];
  if (!getArgs(env, info, 7, argv)) return nullptr;
  float *dy, *x, *w, *dx, *dw;
  size_t dyLen, xLen, wLen, dxLen, dwLen;
  int64_t n;
  double eps;
  if (!getFloat32(env, argv[0], "dy", &dy, &dyLen) || !getFloat32(env, argv[1], "x", &x, &xLen) ||
      !getFloat32(env, argv[2], "weight", &w, &wLen) || !getInt(env, argv[3], "n", &n) ||
      !getDouble(env, argv[4], "eps", &eps) || !getFloat32(env, argv[5], "dx", &dx, &dxLen) ||
      !getFloat32(env, argv[6], "dw", &dw, &dwLen)) {
    return nullptr;
  }
  if (n <= 0 || static_cast<int64_t>(wLen) != n || static_cast<int64_t>(dwLen) != n || xLen % static_cast<size_t>(n) != 0 ||
      dyLen != xLen || dxLen < xLen) {
    return throwError(env, "wsflow native rmsNormGrad: dy, x, dx must be rows of the weight's length");
  }
  const int64_t rows = static_cast<int64_t>(xLen) / n;
  const int64_t blocks = (rows + kRowBlock - 1) / kRowBlock;
  std::vector<double> partial(static_cast<size_t>(blocks * n), 0.0);
  const double epsF = static_cast<float>(eps);
  parallelTasks(blocks, [&](int64_t blk) {
    double* pw = partial.data() + blk * n;
    const int64_t r1 = std::min(rows, (blk + 1) * kRowBlock);
    for (int64_t r = blk * kRowBlock; r < r1; r++) {
      const float* xr = x + r * n;
      const float* dyr = dy + r * n;
      float* dxr = dx + r * n;
      double ss = 0.0, gx = 0.0;
      for (int64_t i = 0; i < n; i++) {
        ss += static_cast<double>(xr[i]) * xr[i];
        gx += static_cast<double>(dyr[i]) * w[i] * xr[i];
      }
      const double rr = 1.0 / std::sqrt(ss / static_cast<double>(n) + epsF);
      const double c = rr * rr * rr * gx / static_cast<double>(n);
      for (int64_t i = 0; i < n; i++) {
        dxr[i] = static_cast<float>(rr * dyr[i] * w[i] - xr[i] * c);
        pw[i] += static_cast<double>(dyr[i]) * xr[i] * rr;
      }
    }
  });
  for (int64_t i = 0; i < n; i++) {
    double s = 0.0;
    for (int64_t b = 0; b < blocks; b++) s += partial[static_cast<size_t>(b * n + i)];
    dw[i] = static_cast<float>(s);
  }
  return nullptr;
}

// Gradient of out = silu(gate) ⊙ up: dGate = dy·up·s·(1 + gate·(1 − s)), dUp = dy·gate·s, s = sigmoid(gate).
napi_value SwigluGrad(napi_env env, napi_callback_info info) {
  napi_value argv[5];
  if (!getArgs(env, info, 5, argv)) return nullptr;
  float *dy, *g, *u, *dg, *du;
  size_t dyLen, gLen, uLen, dgLen, duLen;
  if (!getFloat32(env, argv[0], "dy", &dy, &dyLen) || !getFloat32(env, argv[1], "gate", &g, &gLen) ||
      !getFloat32(env, argv[2], "up", &u, &uLen) || !getFloat32(env, argv[3], "dGate", &dg, &dgLen) ||
      !getFloat32(env, argv[4], "dUp", &du, &duLen)) {
    return nullptr;
  }
  if (gLen != dyLen || uLen != dyLen || dgLen < dyLen || duLen < dyLen) {
    return throwError(env, "wsflow native swigluGrad: dy, gate, up, dGate and dUp differ in size");
  }
  auto scalarAt = [&](int64_t i) {
    const double v = g[i];
    const double s = 1.0 / (1.0 + std::exp(-v));
    const double d = dy[i];
    dg[i] = static_cast<float>(d * u[i] * s * (1.0 + v * (1.0 - s)));
    du[i] = static_cast<float>(d * v * s);
  };
  parallelFor(static_cast<int64_t>(dyLen), kGrain / 8, [&](int64_t b, int64_t e) {
    int64_t i = b;
#ifdef WSBLAS_EXP_VEC
    // Four lanes at a time with the scalar bits (exp-vec.h). An error in s reaches dGate amplified by
    // |v| / |1 + v·(1 − s)|, so only lanes with |v| ≤ 16 and |1 + v·(1 − s)| ≥ 1/64 (a factor ≤ ~1000, inside
    // exp-vec.h's budget) are kept; the rest, and lanes whose results lie near a float tie, are recomputed.
    const __m256d one = _mm256_set1_pd(1.0), absMask = _mm256_set1_pd(-0.0);
    for (; i + 4 <= e; i += 4) {
      const __m256d v = _mm256_cvtps_pd(_mm_loadu_ps(g + i));
      const __m256d negV = _mm256_sub_pd(_mm256_setzero_pd(), v);
      const __m256d s = _mm256_div_pd(one, _mm256_add_pd(one, expPd(negV)));
      const __m256d d = _mm256_cvtps_pd(_mm_loadu_ps(dy + i));
      const __m256d f = _mm256_add_pd(one, _mm256_mul_pd(v, _mm256_sub_pd(one, s)));
      const __m256d dgv = _mm256_mul_pd(_mm256_mul_pd(_mm256_mul_pd(d, _mm256_cvtps_pd(_mm_loadu_ps(u + i))), s), f);
      const __m256d duv = _mm256_mul_pd(_mm256_mul_pd(d, v), s);
      _mm_storeu_ps(dg + i, _mm256_cvtpd_ps(dgv));
      _mm_storeu_ps(du + i, _mm256_cvtpd_ps(duv));
      const int tame = _mm256_movemask_pd(_mm256_and_pd(
          _mm256_cmp_pd(_mm256_andnot_pd(absMask, v), _mm256_set1_pd(16.0), _CMP_LE_OQ),
          _mm256_cmp_pd(_mm256_andnot_pd(absMask, f), _mm256_set1_pd(1.0 / 64), _CMP_GE_OQ)));
      const int good = tame & roundsSafely(dgv) & roundsSafely(duv);
      redoFlaggedLanes(good, [&](int l) { scalarAt(i + l); });
    }
#endif
    for (; i < e; i++) scalarAt(i);
  });
  return nullptr;
}

// Gradient of y = softmax(x) over contiguous rows of length n: dx = y ⊙ (dy − Σ dy ⊙ y).
napi_value SoftmaxGrad(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  if (!getArgs(env, info, 4, argv)) return nullptr;
  float *y, *dy, *dx;
  size_t yLen, dyLen, dxLen;
  int64_t n;
  if (!getFloat32(env, argv[0], "y", &y, &yLen) || !getFloat32(env, argv[1], "dy", &dy, &dyLen) ||
      !getInt(env, argv[2], "n", &n) || !getFloat32(env, argv[3], "dx", &dx, &dxLen)) {
    return nullptr;
  }
  if (n <= 0 || yLen % static_cast<size_t>(n) != 0 || dyLen != yLen || dxLen < yLen) {
    return throwError(env, "wsflow native softmaxGrad: y, dy and dx must be rows of length n");
  }
  const int64_t rows = static_cast<int64_t>(yLen) / n;
  parallelFor(rows, std::max<int64_t>(1, kGrain / 4 / n), [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; r++) {
      const float* yr = y + r * n;
      const float* dr = dy + r * n;
      float* o = dx + r * n;
      double dot = 0.0;
      for (int64_t i = 0; i < n; i++) dot += static_cast<double>(dr[i]) * yr[i];
      const float d = static_cast<float>(dot);
      for (int64_t i = 0; i < n; i++) o[i] = yr[i] * (dr[i] - d);
    }
  });
  return nullptr;
}

}  // namespace wsblas
