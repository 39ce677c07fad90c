// The coroutine and out-of-line parts of lanes/sync.hpp: Condition::wait,
// Semaphore's checks and Barrier.
#include "lanes/sync.hpp"

#include <exception>
#include <string>

namespace lanes {

// ---- Condition ---------------------------------------------------------------

void Condition::require_locked(const char* what) const {
  if (!lock_->locked())
    throw RuntimeError(std::string("Condition::") + what +
                       "(): the condition's lock is not held: acquire it first "
                       "(auto guard = co_await cond.scoped();)");
}

Task<bool> Condition::wait() {
  require_locked("wait");
  lock_->release();
  std::exception_ptr error;
  try {
    co_await NotifyAwaiter(*this);
  } catch (...) {
    error = std::current_exception();
  }
  // The caller holds the lock when wait() returns, whatever happened: retry the
  // acquisition through cancellations and throw the last one afterwards.
  for (;;) {
    try {
      co_await lock_->acquire();
      break;
    } catch (const CancelledError&) {
      error = std::current_exception();
    }
  }
  if (error) std::rethrow_exception(error);
  co_return true;
}

void Condition::notify(std::size_t n) {
  require_locked("notify");
  wake(n);
}

void Condition::notify_all() {
  require_locked("notify_all");
  waiters_.wake_all();
}

// ---- Semaphore ---------------------------------------------------------------

Semaphore::Semaphore(long value, bool bounded) : value_(value), bound_(value), bounded_(bounded) {
  if (value < 0)
    throw ValueError(std::string(bounded ? "BoundedSemaphore" : "Semaphore") +
                     ": the initial value must be >= 0, got " + std::to_string(value));
}

void Semaphore::release() {
  if (bounded_ && value_ >= bound_)
    throw ValueError("BoundedSemaphore::release(): released more times than acquired (the value "
                     "would exceed its initial value " +
                     std::to_string(bound_) + "): release once per acquire");
  ++value_;
  wake_while_free();
}

// ---- Barrier -----------------------------------------------------------------

Barrier::Barrier(std::size_t parties) : parties_(parties) {
  if (parties == 0) throw ValueError("Barrier: parties must be > 0, got 0");
}

Task<std::size_t> Barrier::wait() {
  // Wait while the previous group leaves or a reset completes.
  while (state_ == State::draining || state_ == State::resetting) co_await ChangeAwaiter(*this);
  if (state_ == State::broken)
    throw BrokenBarrierError("Barrier::wait(): the barrier was aborted: reset() it to reuse it");
  const std::size_t index = count_++;
  try {
    if (index + 1 == parties_) {
      state_ = State::draining;  // the group is complete: release it
      waiters_.wake_all();
    } else {
      while (state_ == State::filling) co_await ChangeAwaiter(*this);
      if (state_ == State::broken || state_ == State::resetting)
        throw BrokenBarrierError(
            "Barrier::wait(): the barrier was aborted or reset while this task waited");
    }
  } catch (...) {
    leave();
    throw;
  }
  leave();
  co_return index;
}

void Barrier::leave() noexcept {
  if (--count_ > 0) return;
  if (state_ == State::draining || state_ == State::resetting) state_ = State::filling;
  waiters_.wake_all();
}

detail::AlreadyDone Barrier::reset() noexcept {
  state_ = count_ > 0 ? State::resetting : State::filling;
  waiters_.wake_all();
  return {};
}

detail::AlreadyDone Barrier::abort() noexcept {
  state_ = State::broken;
  waiters_.wake_all();
  return {};
}

}  // namespace lanes
