// A persistent pool of helper threads for parallelTasks / parallelFor (parallel.h).
//
// Why not a std::thread per call (what this file's callers did before): on the 2-core KVM machines we
// measure on, with another process busy on the second core, a freshly spawned thread took ~7 ms median to
// start running (measured 2026-12-07; the kernel placed it behind the spawning thread), while a thread
// parked on a condition variable woke in ~11 µs. A 64-token projection is 2–5 ms of work, so the helper
// usually arrived after the caller had done every tile alone, and the caller then waited in join() for it.
//
// Protocol: the caller publishes a job (function, task count, a fresh generation number) and wakes the
// helpers; everyone, the caller included, claims task indices from one atomic counter. A helper joins a job
// only while it is open and counts itself in `inJob_`; the caller, once no index is left to claim, closes the
// job and waits only for helpers that joined (each finishing the task it claimed), never for helpers that
// have not woken up yet: those find the job closed and go back to sleep without touching it.
#include "parallel.h"

#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

namespace wsblas {

namespace {

std::atomic<int> gThreads{1};

// Set on pool helpers and on a caller while it runs a job: a parallel call from inside a task runs serially
// (no nested jobs, no deadlock on the one job slot).
thread_local bool tInJob = false;

class Pool {
 public:
  // Runs fn(ctx, i) for i in [0, tasks) on the caller and up to `helpers` pool threads.
  void run(int64_t tasks, int helpers, TaskFn fn, void* ctx) {
    std::unique_lock<std::mutex> lock(mutex_);
    while (static_cast<int>(threads_.size()) < helpers) {
      threads_.emplace_back([this] { helperLoop(); });
      threads_.back().detach();  // the pool lives until the process exits (see pool())
    }
    fn_ = fn;
    ctx_ = ctx;
    tasks_ = tasks;
    next_.store(0, std::memory_order_relaxed);
    open_ = true;
    wanted_ = helpers;
    generation_++;
    lock.unlock();
    wake_.notify_all();

    tInJob = true;
    claimAndRun(fn, ctx, tasks);
    tInJob = false;

    lock.lock();
    open_ = false;  // every index is claimed: helpers that wake from now on skip this job
    done_.wait(lock, [this] { return inJob_ == 0; });
  }

 private:
  void claimAndRun(TaskFn fn, void* ctx, int64_t tasks) {
    for (int64_t i = next_.fetch_add(1, std::memory_order_relaxed); i < tasks;
         i = next_.fetch_add(1, std::memory_order_relaxed)) {
      fn(ctx, i);
    }
  }

  void helperLoop() {
    tInJob = true;
    uint64_t seen = 0;
    std::unique_lock<std::mutex> lock(mutex_);
    for (;;) {
      wake_.wait(lock, [&] { return generation_ != seen; });
      seen = generation_;
      if (!open_ || wanted_ <= 0) continue;
      wanted_--;
      inJob_++;
      const TaskFn fn = fn_;
      void* const ctx = ctx_;
      const int64_t tasks = tasks_;
      lock.unlock();
      claimAndRun(fn, ctx, tasks);
      lock.lock();
      if (--inJob_ == 0) done_.notify_one();
    }
  }

  std::mutex mutex_;
  std::condition_variable wake_, done_;
  std::vector<std::thread> threads_;
  uint64_t generation_ = 0;
  bool open_ = false;
  int wanted_ = 0, inJob_ = 0;
  TaskFn fn_ = nullptr;
  void* ctx_ = nullptr;
  int64_t tasks_ = 0;
  std::atomic<int64_t> next_{0};
};

// Never destroyed: detached helpers may still be parked on its condition variable when the process exits.
Pool& pool() {
  static Pool* p = new Pool();
  return *p;
}

// One job at a time: a second caller (another thread of the process) runs its tasks serially instead.
std::mutex gJobMutex;

}  // namespace

int elementwiseThreads() { return gThreads.load(std::memory_order_relaxed); }
void setElementwiseThreads(int n) { gThreads.store(n < 1 ? 1 : n, std::memory_order_relaxed); }

void runTasks(int64_t tasks, int threads, TaskFn fn, void* ctx) {
  if (threads > 1 && !tInJob) {
    std::unique_lock<std::mutex> job(gJobMutex, std::try_to_lock);
    if (job.owns_lock()) {
      pool().run(tasks, threads - 1, fn, ctx);
      return;
    }
  }
  for (int64_t i = 0; i < tasks; i++) fn(ctx, i);
}

}  // namespace wsblas
