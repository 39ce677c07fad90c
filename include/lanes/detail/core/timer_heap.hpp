// lanes/detail/core/timer_heap.hpp — pending timers, ordered by deadline.
//
// A 4-ary min-heap of intrusive nodes, beside a FIFO run for the common case of
// deadlines armed in increasing order (many tasks sleeping the same delay): those
// are appended to a ring and fire from its front in O(1), with no sift through
// nodes scattered over coroutine frames. Each node knows its slot (heap index, or
// ring position with kInRun set), so cancelling a timer removes it at once instead
// of leaving a tombstone. A sleeping task's node lives in its coroutine frame:
// arming a timer allocates nothing. Why not a timing wheel: see docs/design.md.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace lanes::detail {

class TaskCoreBase;

// 24 bytes: it sits in every sleeping task's frame, so the slot and the sequence are
// 32 bits each (a heap or run of 2^31 timers is refused; sequences compare modulo
// 2^32, which orders correctly while the armed timers span fewer than 2^30 arms).
// The sequence's lowest bit says what firing does: wake `task` (a sleep, which then
// needs no pointer of its own), or call `fire`.
struct TimerNode {
  static constexpr std::uint32_t kNotQueued = ~std::uint32_t{0};
  static constexpr std::uint32_t kWakesTask = 1;
  std::chrono::steady_clock::time_point when{};
  std::uint32_t sequence = 0;                 // ties fire in the order they were armed
  std::uint32_t slot = kNotQueued;            // heap index, ring index | kInRun, or kNotQueued
  union {
    void (*fire)(TimerNode* self) noexcept = nullptr;  // when !wakes_task()
    TaskCoreBase* task;                                 // when wakes_task()
  };

  bool queued() const noexcept { return slot != kNotQueued; }
  bool wakes_task() const noexcept { return (sequence & kWakesTask) != 0; }
  /// Firing wakes `t` (TaskCoreBase::wake) instead of calling a function.
  void wake_on_fire(TaskCoreBase* t) noexcept {
    task = t;
    sequence |= kWakesTask;
  }
};

class TimerHeap {
 public:
  static constexpr std::uint32_t kInRun = std::uint32_t{1} << 31;

  TimerHeap() = default;
  TimerHeap(const TimerHeap&) = delete;
  TimerHeap& operator=(const TimerHeap&) = delete;
  ~TimerHeap() { delete[] run_; }

  bool empty() const noexcept { return heap_.empty() && run_live_ == 0; }
  std::size_t size() const noexcept { return heap_.size() + run_live_; }
  /// The earliest node; the structure must not be empty.
  TimerNode* top() noexcept;

  /// Queues `node` (which must not be queued). Throws std::bad_alloc only.
  void push(TimerNode* node);
  /// Removes a queued node; does nothing if it is not queued.
  void remove(TimerNode* node) noexcept;
  /// Removes and returns the earliest node.
  TimerNode* pop() noexcept;

 private:
  static bool earlier(const TimerNode* a, const TimerNode* b) noexcept {
    return a->when < b->when ||
           (a->when == b->when && static_cast<std::int32_t>(a->sequence - b->sequence) < 0);
  }
  void place(std::size_t i, TimerNode* node) noexcept {
    heap_[i] = node;
    node->slot = static_cast<std::uint32_t>(i);
  }
  void sift_up(std::size_t i) noexcept;
  void sift_down(std::size_t i) noexcept;

  TimerNode* run_front() noexcept;  // skips removed entries; null if the run is empty
  void grow_run();

  std::vector<TimerNode*> heap_;
  // The run: a ring indexed by absolute positions [run_head_, run_tail_) (masked into
  // the ring; a node's slot holds its masked index), sorted by (when, sequence);
  // removed entries are null until the head passes them.
  TimerNode** run_ = nullptr;
  std::size_t run_mask_ = 0;  // capacity - 1 (capacity a power of two), 0 before use
  std::size_t run_head_ = 0;
  std::size_t run_tail_ = 0;
  std::size_t run_live_ = 0;
  std::chrono::steady_clock::time_point run_last_when_{};  // of the last entry appended
  std::uint32_t next_sequence_ = 0;
};

}  // namespace lanes::detail
