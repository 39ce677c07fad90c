// lanes/detail/timer_heap.hpp — pending timers, ordered by deadline.
//
// A 4-ary min-heap of intrusive nodes. Each node knows its slot, so cancelling a
// timer (wait_for that finishes early, a cancelled sleep) removes it in
// O(log n) instead of leaving a tombstone. A sleeping task's node lives in its
// coroutine frame: arming a timer allocates nothing. Why a heap and not a timing
// wheel: see docs/design.md.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace lanes::detail {

struct TimerNode {
  static constexpr std::size_t kNotQueued = static_cast<std::size_t>(-1);
  std::chrono::steady_clock::time_point when{};
  std::uint64_t sequence = 0;                 // ties fire in the order they were armed
  std::size_t slot = kNotQueued;              // index in the heap, or kNotQueued
  void (*fire)(TimerNode* self) noexcept = nullptr;

  bool queued() const noexcept { return slot != kNotQueued; }
};

class TimerHeap {
 public:
  bool empty() const noexcept { return heap_.empty(); }
  std::size_t size() const noexcept { return heap_.size(); }
  TimerNode* top() const noexcept { return heap_.front(); }

  /// Queues `node` (which must not be queued). Throws std::bad_alloc only.
  void push(TimerNode* node);
  /// Removes a queued node; does nothing if it is not queued.
  void remove(TimerNode* node) noexcept;
  /// Removes and returns the earliest node.
  TimerNode* pop() noexcept;

 private:
  static bool earlier(const TimerNode* a, const TimerNode* b) noexcept {
    return a->when < b->when || (a->when == b->when && a->sequence < b->sequence);
  }
  void place(std::size_t i, TimerNode* node) noexcept {
    heap_[i] = node;
    node->slot = i;
  }
  void sift_up(std::size_t i) noexcept;
  void sift_down(std::size_t i) noexcept;

  std::vector<TimerNode*> heap_;
  std::uint64_t next_sequence_ = 0;
};

}  // namespace lanes::detail
