// tools/lanes/lab/gil.cpp — the emulated GIL (see gil.hpp).
#include "lab/gil.hpp"

namespace lanes_cli::lab {

void EmulatedGil::acquire_locked(std::unique_lock<std::mutex>& lk) {
  ++waiters_;
  while (held_) {
    const std::uint64_t seen = switch_number_;
    // A whole interval without the GIL changing hands: ask the holder to drop it.
    if (!gil_free_.wait_for(lk, interval_, [&] { return !held_; }) && held_ &&
        seen == switch_number_)
      drop_request_.store(true, std::memory_order_relaxed);
  }
  --waiters_;
  held_ = true;
  drop_request_.store(false, std::memory_order_relaxed);
  ++switch_number_;
  switched_.notify_all();
}

void EmulatedGil::acquire() {
  std::unique_lock lk(mutex_);
  acquire_locked(lk);
}

void EmulatedGil::release() {
  {
    std::lock_guard lk(mutex_);
    held_ = false;
  }
  gil_free_.notify_one();
}

void EmulatedGil::hand_over() {
  std::unique_lock lk(mutex_);
  if (!drop_request_.load(std::memory_order_relaxed) || waiters_ == 0) return;
  held_ = false;
  const std::uint64_t mine = switch_number_;
  gil_free_.notify_one();
  // Forced switching: do not take the GIL back before someone else has had it.
  switched_.wait(lk, [&] { return switch_number_ != mine || waiters_ == 0; });
  acquire_locked(lk);
}

std::uint64_t EmulatedGil::switches() const {
  std::lock_guard lk(mutex_);
  return switch_number_;
}

}  // namespace lanes_cli::lab
