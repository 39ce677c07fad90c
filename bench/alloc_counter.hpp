// bench/alloc_counter.hpp — a counting global operator new/delete for the benchmarks.
//
// Include it in exactly ONE .cpp of a benchmark executable: it replaces the global
// allocation functions, which may be defined only once per program.
//
// Counting is off by default so that the timed workloads pay nothing but one relaxed
// load per allocation. A memory workload turns it on around the part it measures
// (AllocWindow) on the thread that does the work; the counters are per thread, so
// allocations of other threads (the benchmark library, a peer's helper threads) never
// pollute the figure. Sizes are what malloc really reserved (malloc_usable_size), so
// the figure includes the allocator's rounding, as a real program pays it.
//
// Limitation: a block allocated before the window and freed inside it lowers the
// live count; the workloads open the window on a fresh thread, before any allocation
// that outlives them, so that does not happen there.
#pragma once

#include <malloc.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <new>

namespace bench_alloc {

// Invariant: true while some thread has an AllocWindow open; relaxed because a thread
// only needs to see its own change (it opens and closes its window itself).
inline std::atomic<bool> g_counting{false};

struct ThreadCounters {
  static constexpr std::size_t kGranule = 16;
  static constexpr std::size_t kBuckets = 65;  // requested sizes up to 1 KiB, then "more"
  std::int64_t live = 0;   // bytes allocated and not freed since the window opened
  std::int64_t peak = 0;   // the largest `live` seen since the window opened
  std::uint64_t allocations = 0;
  // allocations by requested size rounded up to kGranule: by_size[i] counts sizes in
  // ((i-1)·16, i·16]; the last bucket counts everything above 1 KiB.
  std::uint64_t by_size[kBuckets] = {};
};
inline thread_local ThreadCounters tls_counters;

inline void note_alloc(void* p, std::size_t requested) noexcept {
  if (!g_counting.load(std::memory_order_relaxed) || p == nullptr) return;
  auto& c = tls_counters;
  c.live += static_cast<std::int64_t>(malloc_usable_size(p));
  if (c.live > c.peak) c.peak = c.live;
  ++c.allocations;
  const std::size_t bucket = (requested + ThreadCounters::kGranule - 1) / ThreadCounters::kGranule;
  ++c.by_size[bucket < ThreadCounters::kBuckets ? bucket : ThreadCounters::kBuckets - 1];
}

inline void note_free(void* p) noexcept {
  if (!g_counting.load(std::memory_order_relaxed) || p == nullptr) return;
  tls_counters.live -= static_cast<std::int64_t>(malloc_usable_size(p));
}

/// Counts the calling thread's allocations from construction to close().
class AllocWindow {
 public:
  AllocWindow() noexcept {
    tls_counters = {};
    g_counting.store(true, std::memory_order_relaxed);
  }
  AllocWindow(const AllocWindow&) = delete;
  AllocWindow& operator=(const AllocWindow&) = delete;
  ~AllocWindow() { close(); }

  /// Stops counting; returns the counters as they were.
  ThreadCounters close() noexcept {
    if (open_) {
      g_counting.store(false, std::memory_order_relaxed);
      open_ = false;
      result_ = tls_counters;
    }
    return result_;
  }
  /// Live bytes right now (while open).
  static std::int64_t live() noexcept { return tls_counters.live; }

 private:
  bool open_ = true;
  ThreadCounters result_{};
};

inline void* allocate(std::size_t size) {
  void* p = std::malloc(size == 0 ? 1 : size);
  if (p == nullptr) throw std::bad_alloc();
  note_alloc(p, size);
  return p;
}

inline void* allocate_aligned(std::size_t size, std::align_val_t align) {
  const auto a = static_cast<std::size_t>(align);
  void* p = std::aligned_alloc(a, (size + a - 1) / a * a);
  if (p == nullptr) throw std::bad_alloc();
  note_alloc(p, size);
  return p;
}

inline void release(void* p) noexcept {
  note_free(p);
  std::free(p);
}

}  // namespace bench_alloc

void* operator new(std::size_t size) { return bench_alloc::allocate(size); }
void* operator new[](std::size_t size) { return bench_alloc::allocate(size); }
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
  try {
    return bench_alloc::allocate(size);
  } catch (...) {
    return nullptr;
  }
}
void* operator new[](std::size_t size, const std::nothrow_t&) noexcept {
  try {
    return bench_alloc::allocate(size);
  } catch (...) {
    return nullptr;
  }
}
void* operator new(std::size_t size, std::align_val_t a) {
  return bench_alloc::allocate_aligned(size, a);
}
void* operator new[](std::size_t size, std::align_val_t a) {
  return bench_alloc::allocate_aligned(size, a);
}
void operator delete(void* p) noexcept { bench_alloc::release(p); }
void operator delete[](void* p) noexcept { bench_alloc::release(p); }
void operator delete(void* p, std::size_t) noexcept { bench_alloc::release(p); }
void operator delete[](void* p, std::size_t) noexcept { bench_alloc::release(p); }
void operator delete(void* p, std::align_val_t) noexcept { bench_alloc::release(p); }
void operator delete[](void* p, std::align_val_t) noexcept { bench_alloc::release(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { bench_alloc::release(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept {
  bench_alloc::release(p);
}
