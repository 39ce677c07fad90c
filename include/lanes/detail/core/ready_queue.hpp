// lanes/detail/core/ready_queue.hpp — the loop's ready queue: a growable ring of Jobs.
//
// Single-threaded (the loop's own thread). FIFO, so tasks run in the order they
// became ready, as in asyncio. Pushing and popping never allocate once the ring
// has grown to the working set.
#pragma once

#include <cstddef>
#include <memory>
#include <utility>

#include "lanes/detail/core/task_core.hpp"

namespace lanes::detail {

class ReadyQueue {
 public:
  ReadyQueue() : ring_(std::make_unique<ReadyJob[]>(kInitial)), mask_(kInitial - 1) {}

  bool empty() const noexcept { return head_ == tail_; }
  std::size_t size() const noexcept { return tail_ - head_; }

  void push(ReadyJob job) {
    if (size() == mask_ + 1) grow();
    ring_[tail_++ & mask_] = job;
  }
  ReadyJob pop() noexcept { return ring_[head_++ & mask_]; }

 private:
  static constexpr std::size_t kInitial = 1024;
  void grow() {
    const std::size_t capacity = (mask_ + 1) * 2;
    auto bigger = std::make_unique<ReadyJob[]>(capacity);
    const std::size_t n = size();
    for (std::size_t i = 0; i < n; ++i) bigger[i] = ring_[(head_ + i) & mask_];
    ring_ = std::move(bigger);
    mask_ = capacity - 1;
    head_ = 0;
    tail_ = n;
  }
  std::unique_ptr<ReadyJob[]> ring_;
  std::size_t mask_;
  std::size_t head_ = 0;  // index of the oldest job; grows without wrapping
  std::size_t tail_ = 0;  // one past the newest job
};

}  // namespace lanes::detail
