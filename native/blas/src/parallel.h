// Splitting elementwise work across threads. Every output element is computed by exactly one
// thread with the same arithmetic as the serial loop, so results never depend on the thread count.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>

#include "strided.h"

namespace wsblas {

// Set together with OpenBLAS's thread count (setThreads); 1 = serial.
int elementwiseThreads();
void setElementwiseThreads(int n);

using TaskFn = void (*)(void* ctx, int64_t task);

// Runs fn(ctx, i) for every i in [0, tasks), each exactly once, on the calling thread and up to threads - 1
// helpers of a persistent pool (parallel.cc), threads claiming the next index as they finish the last. The
// caller waits only for helpers that joined, never for one still waking up. Serial when threads <= 1, when
// called from inside a task, or while another thread of the process is running a job.
void runTasks(int64_t tasks, int threads, TaskFn fn, void* ctx);

// Runs task(i) for every i in [0, tasks), each exactly once, threads claiming the next index as they
// finish the last. Unlike fixed halves, a thread the OS preempts (a loaded machine) does not hold the
// others back. What each task computes must not depend on which thread runs it.
template <typename Task>
void parallelTasks(int64_t tasks, Task task) {
  const int64_t threads = std::min<int64_t>(elementwiseThreads(), tasks);
  if (threads <= 1) {
    for (int64_t i = 0; i < tasks; i++) task(i);
    return;
  }
  runTasks(tasks, static_cast<int>(threads), [](void* ctx, int64_t i) { (*static_cast<Task*>(ctx))(i); }, &task);
}

// Runs fn(begin, end) over contiguous chunks of [0, n) of at least `grain` items, as parallelTasks over the
// chunks. The chunk boundaries depend on n, grain and the thread count; every element is computed with the
// serial arithmetic whichever chunk holds it, so results do not depend on them.
template <typename Fn>
void parallelFor(int64_t n, int64_t grain, Fn fn) {
  const int64_t chunks = std::min<int64_t>(elementwiseThreads(), std::max<int64_t>(1, n / std::max<int64_t>(grain, 1)));
  if (chunks <= 1) {
    fn(int64_t{0}, n);
    return;
  }
  const int64_t step = (n + chunks - 1) / chunks;
  parallelTasks(chunks, [&](int64_t c) {
    const int64_t b = c * step, e = std::min(n, b + step);
    if (b < e) fn(b, e);
  });
}

// Elements per thread below which threading costs more than it saves (thread start ~20 µs).
constexpr int64_t kGrain = int64_t{1} << 16;

// Runs forEachOuter over a normalised layout, split along its outermost dim (or, for a single
// contiguous run, along that run) when the work is large enough.
template <typename Body>
void parallelForEachOuter(const StridedLayout& L, const int64_t* base, Body body) {
  int64_t total = 1;
  for (int64_t d : L.shape) total *= d;
  if (L.shape.size() == 1) {
    // One run: split it; the body receives shortened runs through its length argument.
    parallelFor(L.shape[0], kGrain, [&](int64_t b, int64_t e) {
      int64_t off[kMaxOperands];
      for (int o = 0; o < L.operands; o++) off[o] = base[o] + b * L.strides[o][0];
      body(off, e - b);
    });
    return;
  }
  const int64_t rowSize = total / L.shape[0];
  parallelFor(L.shape[0], std::max<int64_t>(1, kGrain / std::max<int64_t>(rowSize, 1)), [&](int64_t b, int64_t e) {
    StridedLayout sub = L;
    sub.shape[0] = e - b;
    int64_t off[kMaxOperands];
    for (int o = 0; o < L.operands; o++) off[o] = base[o] + b * L.strides[o][0];
    forEachOuter(sub, off, [&](const int64_t* o) { body(o, L.shape.back()); });
  });
}

}  // namespace wsblas
