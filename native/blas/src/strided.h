// Strided n-d iteration shared by the copy, elementwise and reduction kernels: shapes are
// normalised (size-1 dims dropped, mergeable neighbours merged) so the inner loop runs over the
// longest possible run, which is where all the time goes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace wsblas {

constexpr int kMaxOperands = 3;

struct StridedLayout {
  std::vector<int64_t> shape;                        // outer → inner
  std::vector<int64_t> strides[kMaxOperands];        // per operand, same rank as shape
  int operands = 0;
};

// Drops size-1 dims and merges dim i into i+1 when every operand is contiguous across them.
StridedLayout normalise(const std::vector<int64_t>& shape,
                        const std::vector<std::vector<int64_t>>& strides);

// Largest element index (+1) an operand touches; 0 for an empty shape with a zero dim.
int64_t extent(const std::vector<int64_t>& shape, const std::vector<int64_t>& strides,
               int64_t offset);

// Calls body(offsets) for every position of all dims but the innermost, with each operand's
// element offset; the body handles the inner run of shape.back() elements itself.
template <typename Body>
void forEachOuter(const StridedLayout& L, const int64_t* base, Body body) {
  const int rank = static_cast<int>(L.shape.size());
  int64_t off[kMaxOperands];
  for (int o = 0; o < L.operands; o++) off[o] = base[o];
  if (rank <= 1) {
    body(off);
    return;
  }
  std::vector<int64_t> idx(rank - 1, 0);
  for (;;) {
    body(off);
    int d = rank - 2;
    for (; d >= 0; d--) {
      if (++idx[d] < L.shape[d]) {
        for (int o = 0; o < L.operands; o++) off[o] += L.strides[o][d];
        break;
      }
      for (int o = 0; o < L.operands; o++) off[o] -= L.strides[o][d] * (L.shape[d] - 1);
      idx[d] = 0;
    }
    if (d < 0) return;
  }
}

}  // namespace wsblas
