// y = x · Wᵀ for a frozen Linear weight W [n, k] (PyTorch's layout) kept in a packed copy, our own AVX2 kernel.
//
// Why not cblas_sgemm (gemm.cc): at the forward's 64 token rows the product is dominated by OpenBLAS packing the
// 4–12 MB weight on every call, and its Haswell kernel on this Zen 3 ran the model's shapes at 54–68 GFLOP/s of
// one core where the 6×16 kernel below, over a weight packed once, runs at 90–98 (512 rows: 92–97 vs 100–107).
// Measured side by side in bench/core/TORCH-THREADS.md ("Packed weights"). The pack is the caller's to keep
// (src/core/native/kernels/packed-linear.ts keeps one per weight tensor); packing costs one pass over W.
//
// Packed layout: for each block of kKc input columns (k0 = 0, kKc, …), for each panel of kNr output rows of W
// (zero-padded past n), kl × kNr floats, row kk holding W[p·kNr + j, k0 + kk] for j < kNr.
//
// Determinism: every output element is Σ over k blocks in ascending order, each block one register accumulator
// over kk in ascending order, whichever thread computes its panel and however many rows the call has; so the
// bytes depend on neither the thread count nor the batch a row arrives in (native-packed-linear test).
#include <immintrin.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <new>

#include "kernels.h"
#include "napi-util.h"
#include "parallel.h"

namespace wsblas {

#if defined(__AVX2__) && defined(__FMA__)

namespace {

constexpr int64_t kMr = 6, kNr = 16;
// 512 × 16 floats of a packed panel is 32 KB (L1); measured against 256, 384 and 1024 (TORCH-THREADS.md).
constexpr int64_t kKc = 512;
// Rows of x whose packed block (kMc × kKc floats, 384 KB) stays in L2 while a task's panels stream past it.
constexpr int64_t kMc = 192;
// Panels per task: a task's share of one k block of the weight (8 × 32 KB) stays in L2 with that block of x from
// one kMc rows to the next. Runs of 24 panels (a quarter of each thread's share at n = 3072) spilled it, and two
// threads ran at 1.5x one instead of 1.9x (measured at 512 × 1024 × 3072, TORCH-THREADS.md "Packed weights").
constexpr int64_t kPanelsPerTask = 8;

int64_t packedLength(int64_t n, int64_t k) { return (n + kNr - 1) / kNr * kNr * k; }

inline void transpose8(__m256 r[8]) {
  const __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]), t1 = _mm256_unpackhi_ps(r[0], r[1]);
  const __m256 t2 = _mm256_unpacklo_ps(r[2], r[3]), t3 = _mm256_unpackhi_ps(r[2], r[3]);
  const __m256 t4 = _mm256_unpacklo_ps(r[4], r[5]), t5 = _mm256_unpackhi_ps(r[4], r[5]);
  const __m256 t6 = _mm256_unpacklo_ps(r[6], r[7]), t7 = _mm256_unpackhi_ps(r[6], r[7]);
  const __m256 s0 = _mm256_shuffle_ps(t0, t2, 0x44), s1 = _mm256_shuffle_ps(t0, t2, 0xEE);
  const __m256 s2 = _mm256_shuffle_ps(t1, t3, 0x44), s3 = _mm256_shuffle_ps(t1, t3, 0xEE);
  const __m256 s4 = _mm256_shuffle_ps(t4, t6, 0x44), s5 = _mm256_shuffle_ps(t4, t6, 0xEE);
  const __m256 s6 = _mm256_shuffle_ps(t5, t7, 0x44), s7 = _mm256_shuffle_ps(t5, t7, 0xEE);
  r[0] = _mm256_permute2f128_ps(s0, s4, 0x20);
  r[1] = _mm256_permute2f128_ps(s1, s5, 0x20);
  r[2] = _mm256_permute2f128_ps(s2, s6, 0x20);
  r[3] = _mm256_permute2f128_ps(s3, s7, 0x20);
  r[4] = _mm256_permute2f128_ps(s0, s4, 0x31);
  r[5] = _mm256_permute2f128_ps(s1, s5, 0x31);
  r[6] = _mm256_permute2f128_ps(s2, s6, 0x31);
  r[7] = _mm256_permute2f128_ps(s3, s7, 0x31);
}

// One panel (kNr rows of W) of one k block.
void packPanel(const float* w, int64_t n, int64_t k, int64_t p, int64_t k0, int64_t kl, float* dst) {
  const int64_t r0 = p * kNr;
  if (r0 + kNr > n) {
    for (int64_t j = 0; j < kNr; j++) {
      const int64_t r = r0 + j;
      for (int64_t kk = 0; kk < kl; kk++) dst[kk * kNr + j] = r < n ? w[r * k + k0 + kk] : 0.0f;
    }
    return;
  }
  int64_t kk = 0;
  for (; kk + 8 <= kl; kk += 8) {
    for (int64_t h = 0; h < 2; h++) {
      __m256 r[8];
      for (int64_t j = 0; j < 8; j++) r[j] = _mm256_loadu_ps(w + (r0 + h * 8 + j) * k + k0 + kk);
      transpose8(r);
      for (int64_t q = 0; q < 8; q++) _mm256_storeu_ps(dst + (kk + q) * kNr + h * 8, r[q]);
    }
  }
  for (; kk < kl; kk++) {
    for (int64_t j = 0; j < kNr; j++) dst[kk * kNr + j] = w[(r0 + j) * k + k0 + kk];
  }
}

// x rows [r0, r0 + rows) of one k block as kMr-row micro-panels (kl × kMr each, zero rows past m).
void packRows(const float* x, int64_t m, int64_t k, int64_t r0, int64_t rows, int64_t k0, int64_t kl, float* dst) {
  for (int64_t b = 0; b < rows; b += kMr, dst += kl * kMr) {
    for (int64_t i = 0; i < kMr; i++) {
      const int64_t r = r0 + b + i;
      if (r < m && b + i < rows) {
        const float* src = x + r * k + k0;
        for (int64_t kk = 0; kk < kl; kk++) dst[kk * kMr + i] = src[kk];
      } else {
        for (int64_t kk = 0; kk < kl; kk++) dst[kk * kMr + i] = 0.0f;
      }
    }
  }
}

// c[rows × cols] (row stride ldc) = (accumulate ? c : 0) + a-panel · b-panel over kl. The twelve accumulators are
// named variables, not an array: as an array gcc 12 kept them in memory and the kernel ran at half the speed.
void microKernel(int64_t kl, const float* a, const float* b, float* c, int64_t ldc, bool accumulate, int64_t rows,
                 int64_t cols) {
  __m256 c00 = _mm256_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
  __m256 c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
  for (int64_t kk = 0; kk < kl; kk++, a += kMr, b += kNr) {
    const __m256 b0 = _mm256_loadu_ps(b), b1 = _mm256_loadu_ps(b + 8);
    __m256 ai = _mm256_broadcast_ss(a);
    c00 = _mm256_fmadd_ps(ai, b0, c00);
    c01 = _mm256_fmadd_ps(ai, b1, c01);
    ai = _mm256_broadcast_ss(a + 1);
    c10 = _mm256_fmadd_ps(ai, b0, c10);
    c11 = _mm256_fmadd_ps(ai, b1, c11);
    ai = _mm256_broadcast_ss(a + 2);
    c20 = _mm256_fmadd_ps(ai, b0, c20);
    c21 = _mm256_fmadd_ps(ai, b1, c21);
    ai = _mm256_broadcast_ss(a + 3);
    c30 = _mm256_fmadd_ps(ai, b0, c30);
    c31 = _mm256_fmadd_ps(ai, b1, c31);
    ai = _mm256_broadcast_ss(a + 4);
    c40 = _mm256_fmadd_ps(ai, b0, c40);
    c41 = _mm256_fmadd_ps(ai, b1, c41);
    ai = _mm256_broadcast_ss(a + 5);
    c50 = _mm256_fmadd_ps(ai, b0, c50);
    c51 = _mm256_fmadd_ps(ai, b1, c51);
  }
  alignas(32) float tile[kMr][kNr];
  const __m256 acc[kMr][2] = {{c00, c01}, {c10, c11}, {c20, c21}, {c30, c31}, {c40, c41}, {c50, c51}};
  for (int64_t i = 0; i < rows; i++) {
    float* ci = c + i * ldc;
    if (cols == kNr) {
      if (accumulate) {
        _mm256_storeu_ps(ci, _mm256_add_ps(_mm256_loadu_ps(ci), acc[i][0]));
        _mm256_storeu_ps(ci + 8, _mm256_add_ps(_mm256_loadu_ps(ci + 8), acc[i][1]));
      } else {
        _mm256_storeu_ps(ci, acc[i][0]);
        _mm256_storeu_ps(ci + 8, acc[i][1]);
      }
      continue;
    }
    _mm256_store_ps(tile[i], acc[i][0]);
    _mm256_store_ps(tile[i] + 8, acc[i][1]);
    for (int64_t j = 0; j < cols; j++) ci[j] = accumulate ? ci[j] + tile[i][j] : tile[i][j];
  }
}

struct FreeDeleter {
  void operator()(float* p) const { std::free(p); }
};

void packedProduct(const float* x, const float* packed, float* out, int64_t m, int64_t n, int64_t k) {
  const int64_t panels = (n + kNr - 1) / kNr;
  const int64_t mPad = (m + kMr - 1) / kMr * kMr;
  // x packed once for every k block: block k0 starts at k0 · mPad; rows in kMr-row micro-panels
  std::unique_ptr<float, FreeDeleter> xp(static_cast<float*>(std::aligned_alloc(64, ((mPad * k * 4 + 63) / 64) * 64)));
  if (!xp) throw std::bad_alloc();
  float* xPacked = xp.get();
  const int64_t kBlocks = (k + kKc - 1) / kKc, rowBlocks = mPad / kMr;
  parallelFor(kBlocks * rowBlocks, 64, [&](int64_t begin, int64_t end) {
    for (int64_t t = begin; t < end; t++) {
      const int64_t kb = t / rowBlocks, rb = t % rowBlocks, k0 = kb * kKc, kl = std::min(kKc, k - k0);
      packRows(x, m, k, rb * kMr, kMr, k0, kl, xPacked + k0 * mPad + rb * kMr * kl);
    }
  });
  // threads claim runs of kPanelsPerTask panels, each run all the rows of its output columns
  const int64_t step = kPanelsPerTask, tasks = (panels + step - 1) / step;
  auto run = [&](int64_t task) {
    const int64_t p0 = task * step, p1 = std::min(panels, p0 + step);
    for (int64_t m0 = 0; m0 < m; m0 += kMc) {
      const int64_t rows = std::min(kMc, m - m0);
      for (int64_t k0 = 0; k0 < k; k0 += kKc) {
        const int64_t kl = std::min(kKc, k - k0);
        const float* xBlock = xPacked + k0 * mPad + m0 * kl;
        const float* wBlock = packed + k0 * panels * kNr;
        for (int64_t p = p0; p < p1; p++) {
          const float* wPanel = wBlock + p * kl * kNr;
          const int64_t cols = std::min(kNr, n - p * kNr);
          for (int64_t b = 0; b < rows; b += kMr) {
            microKernel(kl, xBlock + b * kl, wPanel, out + (m0 + b) * n + p * kNr, n, k0 > 0,
                        std::min(kMr, rows - b), cols);
          }
        }
      }
    }
  };
  // below a few MFLOP a thread hand-off costs more than it saves (as gemm.cc's kThreadFlops)
  if (2.0 * static_cast<double>(m) * n * k < 4.0e6) {
    for (int64_t t = 0; t < tasks; t++) run(t);
  } else {
    parallelTasks(tasks, run);
  }
}

}  // namespace

bool packedLinearSupported() { return true; }

// packLinearWeight(w [n, k], n, k, out [packedLength]): out = the packed copy of w.
napi_value PackLinearWeight(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  if (!getArgs(env, info, 4, argv)) return nullptr;
  float *w, *out;
  size_t wLen, outLen;
  int64_t n, k;
  if (!getFloat32(env, argv[0], "w", &w, &wLen) || !getInt(env, argv[1], "n", &n) || !getInt(env, argv[2], "k", &k) ||
      !getFloat32(env, argv[3], "out", &out, &outLen)) {
    return nullptr;
  }
  if (n < 1 || k < 1 || static_cast<int64_t>(wLen) != n * k) {
    return throwError(env, "wsflow native packLinearWeight: w must hold n × k elements");
  }
  if (static_cast<int64_t>(outLen) != packedLength(n, k)) {
    return throwError(env, "wsflow native packLinearWeight: out must hold packedLinearLength(n, k) elements");
  }
  const int64_t panels = (n + kNr - 1) / kNr, kBlocks = (k + kKc - 1) / kKc;
  parallelFor(kBlocks * panels, 16, [&](int64_t begin, int64_t end) {
    for (int64_t t = begin; t < end; t++) {
      const int64_t kb = t / panels, p = t % panels, k0 = kb * kKc, kl = std::min(kKc, k - k0);
      packPanel(w, n, k, p, k0, kl, out + k0 * panels * kNr + p * kl * kNr);
    }
  });
  return nullptr;
}

// packedLinearLength(n, k): the length of the packed copy.
napi_value PackedLinearLength(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  if (!getArgs(env, info, 2, argv)) return nullptr;
  int64_t n, k;
  if (!getInt(env, argv[0], "n", &n) || !getInt(env, argv[1], "k", &k)) return nullptr;
  if (n < 1 || k < 1) return throwError(env, "wsflow native packedLinearLength: n and k must be >= 1");
  napi_value result;
  napi_create_double(env, static_cast<double>(packedLength(n, k)), &result);
  return result;
}

// packedLinear(x [m, k], packed, out [m, n], m, n, k): out = x · Wᵀ for the W that `packed` was packed from.
napi_value PackedLinear(napi_env env, napi_callback_info info) {
  napi_value argv[6];
  if (!getArgs(env, info, 6, argv)) return nullptr;
  float *x, *packed, *out;
  size_t xLen, packedLen, outLen;
  int64_t m, n, k;
  if (!getFloat32(env, argv[0], "x", &x, &xLen) || !getFloat32(env, argv[1], "packed", &packed, &packedLen) ||
      !getFloat32(env, argv[2], "out", &out, &outLen) || !getInt(env, argv[3], "m", &m) ||
      !getInt(env, argv[4], "n", &n) || !getInt(env, argv[5], "k", &k)) {
    return nullptr;
  }
  if (m < 0 || n < 1 || k < 1 || static_cast<int64_t>(xLen) != m * k || static_cast<int64_t>(outLen) != m * n ||
      static_cast<int64_t>(packedLen) != packedLength(n, k)) {
    return throwError(env, "wsflow native packedLinear: x [m, k], the packed weight and out [m, n] disagree");
  }
  if (m == 0) return nullptr;
  try {
    packedProduct(x, packed, out, m, n, k);
  } catch (const std::bad_alloc&) {
    return throwError(env, "wsflow native packedLinear: out of memory packing x");
  }
  return nullptr;
}

#else

bool packedLinearSupported() { return false; }
napi_value PackLinearWeight(napi_env, napi_callback_info) { return nullptr; }
napi_value PackedLinearLength(napi_env, napi_callback_info) { return nullptr; }
napi_value PackedLinear(napi_env, napi_callback_info) { return nullptr; }

#endif

}  // namespace wsblas
