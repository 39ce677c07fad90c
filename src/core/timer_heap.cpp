// Timers: a 4-ary min-heap (shallower than a binary heap: fewer cache misses per
// sift) plus a FIFO run for deadlines armed in increasing order.
#include "lanes/detail/core/timer_heap.hpp"

#include <new>

namespace lanes::detail {

namespace {
constexpr std::size_t kArity = 4;
constexpr std::size_t kFirstRunCapacity = 64;
// Slots are 32 bits with the top one marking the run: at most this many per part.
constexpr std::size_t kMaxTimers = std::size_t{1} << 31;
}  // namespace

void TimerHeap::push(TimerNode* node) {
  // Steps of 2: the lowest bit is the node's kind (TimerNode::kWakesTask), kept.
  next_sequence_ += 2;
  node->sequence = next_sequence_ | (node->sequence & TimerNode::kWakesTask);
  // Into the run if it sorts after everything the run holds: the sequence grows,
  // so a deadline no earlier than the last one appended keeps the run sorted.
  if (run_live_ == 0 || node->when >= run_last_when_) {
    if (run_live_ == 0) run_head_ = run_tail_;  // drop removed leftovers
    if (run_ == nullptr || run_tail_ - run_head_ > run_mask_) grow_run();
    run_[run_tail_ & run_mask_] = node;
    node->slot = kInRun | static_cast<std::uint32_t>(run_tail_ & run_mask_);
    run_last_when_ = node->when;
    ++run_tail_;
    ++run_live_;
    return;
  }
  if (heap_.size() + 1 >= kMaxTimers) throw std::bad_alloc();
  heap_.push_back(node);
  node->slot = static_cast<std::uint32_t>(heap_.size() - 1);
  sift_up(node->slot);
}

void TimerHeap::grow_run() {
  const std::size_t capacity = run_ ? (run_mask_ + 1) * 2 : kFirstRunCapacity;
  if (capacity > kMaxTimers) throw std::bad_alloc();
  auto** bigger = new TimerNode*[capacity]();
  // Absolute positions are kept; each node's slot gets its index in the new ring.
  for (std::size_t i = run_head_; i != run_tail_; ++i) {
    TimerNode* node = run_[i & run_mask_];
    bigger[i & (capacity - 1)] = node;
    if (node != nullptr) node->slot = kInRun | static_cast<std::uint32_t>(i & (capacity - 1));
  }
  delete[] run_;
  run_ = bigger;
  run_mask_ = capacity - 1;
}

TimerNode* TimerHeap::run_front() noexcept {
  while (run_head_ != run_tail_ && run_[run_head_ & run_mask_] == nullptr) ++run_head_;
  return run_head_ != run_tail_ ? run_[run_head_ & run_mask_] : nullptr;
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
    run_[node->slot & ~kInRun] = nullptr;
    node->slot = TimerNode::kNotQueued;
    --run_live_;
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
