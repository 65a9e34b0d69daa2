#include "strided.h"

namespace wsblas {

StridedLayout normalise(const std::vector<int64_t>& shape,
                        const std::vector<std::vector<int64_t>>& strides) {
  StridedLayout L;
  L.operands = static_cast<int>(strides.size());
  for (size_t d = 0; d < shape.size(); d++) {
    if (shape[d] == 1) continue;
    L.shape.push_back(shape[d]);
    for (int o = 0; o < L.operands; o++) L.strides[o].push_back(strides[o][d]);
  }
  // Merge from the inside out: dim d and d+1 fuse when stride[d] == stride[d+1] * shape[d+1].
  for (int d = static_cast<int>(L.shape.size()) - 2; d >= 0; d--) {
    bool mergeable = true;
    for (int o = 0; o < L.operands && mergeable; o++) {
      mergeable = L.strides[o][d] == L.strides[o][d + 1] * L.shape[d + 1];
    }
    if (!mergeable) continue;
    L.shape[d] *= L.shape[d + 1];
    for (int o = 0; o < L.operands; o++) {
      L.strides[o][d] = L.strides[o][d + 1];
      L.strides[o].erase(L.strides[o].begin() + d + 1);
    }
    L.shape.erase(L.shape.begin() + d + 1);
  }
  if (L.shape.empty()) {
    L.shape.push_back(1);
    for (int o = 0; o < L.operands; o++) L.strides[o].push_back(1);
  }
  return L;
}

int64_t extent(const std::vector<int64_t>& shape, const std::vector<int64_t>& strides,
               int64_t offset) {
  int64_t last = offset;
  for (size_t d = 0; d < shape.size(); d++) {
    if (shape[d] == 0) return 0;
    last += (shape[d] - 1) * strides[d];
  }
  return last + 1;
}

}  // namespace wsblas
