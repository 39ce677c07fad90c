// lanes/detail/core/ready_queue.hpp — the loop's ready queue: a growable ring of Jobs.
//
// Single-threaded (the loop's own thread). FIFO, so tasks run in the order they
// became ready, as in asyncio. Pushing and popping never allocate once the rings
// have grown to the working set.
//
// Nearly every job is a task's step, so the main ring holds one word per job: the
// task's address for a step, or a marker that says "the next job of the side ring"
// for any other (function, argument) pair. 100k ready tasks cost 8 bytes each, not
// the 16 of a (function, argument) pair.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <utility>

#include "lanes/detail/core/task_core.hpp"

namespace lanes::detail {

class ReadyQueue {
 public:
  ReadyQueue() = default;

  bool empty() const noexcept { return main_.empty(); }
  std::size_t size() const noexcept { return main_.size(); }

  void push(ReadyJob job) {
    if (job.run == &TaskCoreBase::step_thunk) {
      main_.push(reinterpret_cast<std::uintptr_t>(job.arg));
    } else {
      side_.push(job);  // first, so that a failed growth leaves both rings as they were
      try {
        main_.push(kSideMarker);
      } catch (...) {
        side_.drop_newest();
        throw;
      }
    }
  }
  ReadyJob pop() noexcept {
    const std::uintptr_t word = main_.pop();
    if (word == kSideMarker) return side_.pop();
    return {&TaskCoreBase::step_thunk, reinterpret_cast<void*>(word)};
  }

 private:
  // No task lives at address 1.
  static constexpr std::uintptr_t kSideMarker = 1;

  template <class Item, std::size_t kInitial>
  class Ring {
   public:
    bool empty() const noexcept { return head_ == tail_; }
    std::size_t size() const noexcept { return tail_ - head_; }
    void push(Item item) {
      if (size() == capacity_) grow();
      ring_[tail_++ & (capacity_ - 1)] = item;
    }
    Item pop() noexcept { return ring_[head_++ & (capacity_ - 1)]; }
    void drop_newest() noexcept { --tail_; }

   private:
    // Starts empty (a loop that runs three tasks maps no big ring) and doubles.
    void grow() {
      const std::size_t capacity = capacity_ == 0 ? kInitial : capacity_ * 2;
      auto bigger = std::make_unique_for_overwrite<Item[]>(capacity);
      const std::size_t n = size();
      for (std::size_t i = 0; i < n; ++i) bigger[i] = ring_[(head_ + i) & (capacity_ - 1)];
      ring_ = std::move(bigger);
      capacity_ = capacity;
      head_ = 0;
      tail_ = n;
    }
    std::unique_ptr<Item[]> ring_;
    std::size_t capacity_ = 0;  // a power of two, or 0 before the first push
    std::size_t head_ = 0;      // index of the oldest item; grows without wrapping
    std::size_t tail_ = 0;      // one past the newest item
  };

  Ring<std::uintptr_t, 1024> main_;
  Ring<ReadyJob, 64> side_;
};

}  // namespace lanes::detail
