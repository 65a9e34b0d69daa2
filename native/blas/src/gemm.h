// The GEMM tiling of gemm.cc, for kernels (attention.cc) that run products inside their own threads and
// must give the same bits as the batched Gemm export would for the same operands.
#pragma once

#include <cstdint>

namespace wsblas {

struct Tiling {
  int64_t tileM, tileN, tilesM, tilesN;
};

// One tile (index into tilesM x tilesN, row-major) of out = op(a)·op(b), all row-major [m, n] / [m, k] /
// [k, n], as one single-threaded cblas_sgemm.
void gemmTile(const Tiling& t, int64_t tile, const float* a, const float* b, float* out, int64_t m, int64_t n,
              int64_t k, bool transA, bool transB);

// One item of a batched product of `batch` items, serially on the calling thread: the same sgemm calls the
// Gemm export makes for that item, so the bits equal a Gemm(batch, m, n, k, ...) call's.
void gemmAsBatchItem(int64_t batch, const float* a, const float* b, float* out, int64_t m, int64_t n, int64_t k,
                     bool transA, bool transB);

}  // namespace wsblas
