// A 4-ary min-heap: shallower than a binary heap, so fewer cache misses per push.
#include "lanes/detail/timer_heap.hpp"

namespace lanes::detail {

namespace {
constexpr std::size_t kArity = 4;
}

void TimerHeap::push(TimerNode* node) {
  node->sequence = next_sequence_++;
  heap_.push_back(node);
  node->slot = heap_.size() - 1;
  sift_up(node->slot);
}

TimerNode* TimerHeap::pop() noexcept {
  TimerNode* first = heap_.front();
  remove(first);
  return first;
}

void TimerHeap::remove(TimerNode* node) noexcept {
  if (!node->queued()) return;
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
