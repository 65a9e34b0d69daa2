#include "parallel.h"

#include <atomic>

namespace wsblas {

static std::atomic<int> gThreads{1};

int elementwiseThreads() { return gThreads.load(std::memory_order_relaxed); }
void setElementwiseThreads(int n) { gThreads.store(n < 1 ? 1 : n, std::memory_order_relaxed); }

}  // namespace wsblas
