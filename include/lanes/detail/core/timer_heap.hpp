// lanes/detail/core/timer_heap.hpp — pending timers, ordered by deadline.
//
// A 4-ary min-heap of intrusive nodes, beside a FIFO run for the common case of
// deadlines armed in increasing order (many tasks sleeping the same delay): those
// are appended to the run and fire from its front in O(1), with no sift through
// nodes scattered over coroutine frames. The run is stored in fixed blocks of
// pointers (a deque), so 100k sleepers cost 8 bytes each and growing never copies
// the run nor holds an old and a new array at once. Each node knows its slot (heap
// index, or run position with kInRun set; a run position never changes), so
// cancelling a timer removes it at once instead of leaving a tombstone. A sleeping
// task's node lives in its coroutine frame: arming a timer allocates nothing but a
// run block per 1024 entries. Why not a timing wheel: see docs/design.md.
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
  std::uint32_t slot = kNotQueued;            // heap index, run position | kInRun, or kNotQueued
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
  ~TimerHeap();

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
  /// Gives `node` the next sequence, in steps of 2: the lowest bit is the node's
  /// kind (TimerNode::kWakesTask) and is kept.
  void stamp(TimerNode* node) noexcept {
    next_sequence_ += 2;
    node->sequence = next_sequence_ | (node->sequence & TimerNode::kWakesTask);
  }
  void sift_up(std::size_t i) noexcept;
  void sift_down(std::size_t i) noexcept;

  TimerNode*& run_entry(std::size_t position) noexcept;
  TimerNode* run_front() noexcept;  // skips removed entries; null if the run is empty
  void add_run_block();             // for the block run_tail_ starts; throws std::bad_alloc
  void grow_run_map(std::size_t blocks);
  void advance_run_head() noexcept;  // past one entry, letting go of a block it leaves
  void release_run_block(TimerNode** block) noexcept;
  void reset_run() noexcept;  // the run is empty: frees its blocks but one spare

  std::vector<TimerNode*> heap_;
  // The run: entries at absolute positions [run_head_, run_tail_), sorted by (when,
  // sequence); removed entries are null until the head passes them. Position p lives
  // in block p / kRunBlock at index p % kRunBlock; blocks exist for exactly the
  // block numbers [run_head_ / kRunBlock, ceil(run_tail_ / kRunBlock)), found in
  // run_map_ at block number & run_map_mask_. A node's slot holds its position
  // modulo 2^31: the run spans at most 2^31 positions, so that identifies it.
  // Positions restart at 0 each time the run empties.
  TimerNode*** run_map_ = nullptr;
  std::size_t run_map_mask_ = 0;  // map capacity - 1 (a power of two), 0 before use
  TimerNode** run_spare_ = nullptr;  // a freed block kept for the next one needed
  std::size_t run_head_ = 0;
  std::size_t run_tail_ = 0;
  std::size_t run_live_ = 0;
  std::chrono::steady_clock::time_point run_last_when_{};  // of the last entry appended
  std::uint32_t next_sequence_ = 0;
};

}  // namespace lanes::detail
