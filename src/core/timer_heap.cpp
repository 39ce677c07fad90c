// Timers: a 4-ary min-heap (shallower than a binary heap: fewer cache misses per
// sift) plus a FIFO run for deadlines armed in increasing order, kept in blocks.
#include "lanes/detail/core/timer_heap.hpp"

#include <new>

namespace lanes::detail {

namespace {
constexpr std::size_t kArity = 4;
// Run blocks of 1024 pointers (8 KiB): small next to what 1024 sleepers hold, big
// enough that the run allocates once per 1024 timers armed.
constexpr std::size_t kRunBlockShift = 10;
constexpr std::size_t kRunBlock = std::size_t{1} << kRunBlockShift;
constexpr std::size_t kFirstRunMap = 8;  // block pointers
// Slots are 32 bits with the top one marking the run: at most this many per part.
constexpr std::size_t kMaxTimers = std::size_t{1} << 31;
}  // namespace

TimerHeap::~TimerHeap() {
  reset_run();
  delete[] run_spare_;
  delete[] run_map_;
}

TimerNode*& TimerHeap::run_entry(std::size_t position) noexcept {
  return run_map_[(position >> kRunBlockShift) & run_map_mask_][position & (kRunBlock - 1)];
}

void TimerHeap::push(TimerNode* node) {
  // Into the run if it sorts after everything the run holds: the sequence grows,
  // so a deadline no earlier than the last one appended keeps the run sorted.
  if (run_live_ == 0 || node->when >= run_last_when_) {
    if (run_tail_ - run_head_ >= kMaxTimers) throw std::bad_alloc();
    if ((run_tail_ & (kRunBlock - 1)) == 0) add_run_block();  // the only other throw
    stamp(node);
    run_entry(run_tail_) = node;
    node->slot = kInRun | static_cast<std::uint32_t>(run_tail_ & (kMaxTimers - 1));
    run_last_when_ = node->when;
    ++run_tail_;
    ++run_live_;
    return;
  }
  if (heap_.size() + 1 >= kMaxTimers) throw std::bad_alloc();
  heap_.push_back(node);
  stamp(node);
  node->slot = static_cast<std::uint32_t>(heap_.size() - 1);
  sift_up(node->slot);
}

void TimerHeap::add_run_block() {
  const std::size_t first = run_head_ >> kRunBlockShift;
  const std::size_t block = run_tail_ >> kRunBlockShift;
  // Both allocations come before any change the caller could see.
  if (run_map_ == nullptr || block - first + 1 > run_map_mask_ + 1) grow_run_map(block - first + 1);
  TimerNode** storage = run_spare_;
  if (storage != nullptr) {
    run_spare_ = nullptr;
  } else {
    storage = new TimerNode*[kRunBlock];
  }
  run_map_[block & run_map_mask_] = storage;
}

void TimerHeap::grow_run_map(std::size_t blocks) {
  std::size_t capacity = run_map_ == nullptr ? kFirstRunMap : (run_map_mask_ + 1) * 2;
  while (capacity < blocks) capacity *= 2;
  auto** bigger = new TimerNode**[capacity]();
  // Only block pointers move: entries and the slots that name them stay put.
  const std::size_t end = (run_tail_ + kRunBlock - 1) >> kRunBlockShift;
  for (std::size_t b = run_head_ >> kRunBlockShift; b < end; ++b) {
    bigger[b & (capacity - 1)] = run_map_[b & run_map_mask_];
  }
  delete[] run_map_;
  run_map_ = bigger;
  run_map_mask_ = capacity - 1;
}

void TimerHeap::release_run_block(TimerNode** block) noexcept {
  // One spare block: a steady arm-and-fire loop does not allocate every 1024 timers.
  if (run_spare_ == nullptr) {
    run_spare_ = block;
  } else {
    delete[] block;
  }
}

void TimerHeap::advance_run_head() noexcept {
  ++run_head_;
  if ((run_head_ & (kRunBlock - 1)) == 0) {
    release_run_block(run_map_[((run_head_ - 1) >> kRunBlockShift) & run_map_mask_]);
  }
}

void TimerHeap::reset_run() noexcept {
  const std::size_t end = (run_tail_ + kRunBlock - 1) >> kRunBlockShift;
  for (std::size_t b = run_head_ >> kRunBlockShift; b < end; ++b) {
    release_run_block(run_map_[b & run_map_mask_]);
  }
  run_head_ = 0;
  run_tail_ = 0;
}

TimerNode* TimerHeap::run_front() noexcept {
  while (run_head_ != run_tail_ && run_entry(run_head_) == nullptr) advance_run_head();
  return run_head_ != run_tail_ ? run_entry(run_head_) : nullptr;
}

TimerNode* TimerHeap::top() noexcept {
  TimerNode* from_run = run_live_ ? run_front() : nullptr;
  if (heap_.empty()) return from_run;
  if (from_run && earlier(from_run, heap_.front())) return from_run;
  return heap_.front();
}

TimerNode* TimerHeap::pop() noexcept {
  TimerNode* first = top();
  remove(first);
  return first;
}

void TimerHeap::remove(TimerNode* node) noexcept {
  if (!node->queued()) return;
  if (node->slot & kInRun) {
    // The position from its low 31 bits: the one in [run_head_, run_head_ + 2^31).
    const std::size_t position =
        run_head_ + ((std::size_t{node->slot & ~kInRun} - run_head_) & (kMaxTimers - 1));
    run_entry(position) = nullptr;
    node->slot = TimerNode::kNotQueued;
    if (--run_live_ == 0) {
      reset_run();
    } else if (position == run_head_) {
      advance_run_head();  // the common pop from the front
    }
    return;
  }
  const std::size_t i = node->slot;
  TimerNode* last = heap_.back();
  heap_.pop_back();
  node->slot = TimerNode::kNotQueued;
  if (i == heap_.size()) return;  // it was the last one
  place(i, last);
  if (i > 0 && earlier(last, heap_[(i - 1) / kArity])) {
    sift_up(i);
  } else {
    sift_down(i);
  }
}

void TimerHeap::sift_up(std::size_t i) noexcept {
  TimerNode* node = heap_[i];
  while (i > 0) {
    const std::size_t parent = (i - 1) / kArity;
    if (!earlier(node, heap_[parent])) break;
    place(i, heap_[parent]);
    i = parent;
  }
  place(i, node);
}

void TimerHeap::sift_down(std::size_t i) noexcept {
  TimerNode* node = heap_[i];
  const std::size_t n = heap_.size();
  for (;;) {
    const std::size_t first = i * kArity + 1;
    if (first >= n) break;
    std::size_t best = first;
    const std::size_t end = first + kArity < n ? first + kArity : n;
    for (std::size_t c = first + 1; c < end; ++c)
      if (earlier(heap_[c], heap_[best])) best = c;
    if (!earlier(heap_[best], node)) break;
    place(i, heap_[best]);
    i = best;
  }
  place(i, node);
}

}  // namespace lanes::detail
