// lanes/sync/barrier.hpp — Barrier (asyncio.Barrier). Included by
// lanes/sync.hpp; include that instead.
#pragma once

#include <coroutine>
#include <cstddef>

#include "lanes/detail/sync/wait_list.hpp"
#include "lanes/errors.hpp"
#include "lanes/task.hpp"

namespace lanes {

namespace detail {
/// What Barrier::abort() and Barrier::reset() return: they act at once, and the
/// result may also be co_awaited (as in Python, where both are coroutines).
struct AlreadyDone {
  bool await_ready() const noexcept { return true; }
  void await_suspend(std::coroutine_handle<>) const noexcept {}
  void await_resume() const noexcept {}
};
}  // namespace detail

/// A rendezvous of `parties` tasks (asyncio.Barrier): each wait() blocks until
/// that many tasks are waiting, then all are released together and the barrier
/// can be used again. One event loop only.
class Barrier {
 public:
  /// Throws ValueError if `parties` is 0.
  explicit Barrier(std::size_t parties);
  Barrier(const Barrier&) = delete;
  Barrier& operator=(const Barrier&) = delete;

  /// Waits until `parties` tasks wait, then returns this task's arrival index
  /// (0 for the first to arrive, parties-1 for the one that released the group).
  /// A task arriving while the previous group is still leaving waits for it to
  /// leave first. Throws BrokenBarrierError if the barrier is broken (abort())
  /// or reset while waiting; CancelledError if cancelled (the other waiters keep
  /// waiting, as in Python); RuntimeError outside a lanes task.
  Task<std::size_t> wait();

  /// Puts the barrier back in its empty state. Tasks waiting now get
  /// BrokenBarrierError. Never throws.
  detail::AlreadyDone reset() noexcept;

  /// Breaks the barrier: tasks waiting now, and every later wait() until reset(),
  /// get BrokenBarrierError. Never throws.
  detail::AlreadyDone abort() noexcept;

  /// The number of tasks needed to release the barrier. Never throws (nor do the
  /// two below).
  std::size_t parties() const noexcept { return parties_; }
  /// The number of tasks waiting for the group to fill.
  std::size_t n_waiting() const noexcept { return state_ == State::filling ? count_ : 0; }
  /// True after abort(), until reset().
  bool broken() const noexcept { return state_ == State::broken; }

 private:
  // Python's _BarrierState: filling (collecting a group), draining (the group is
  // released and leaving), resetting (reset() with tasks inside), broken.
  enum class State { filling, draining, resetting, broken };

  /// Parks the task until the next change of state (Python's cond.notify_all()).
  class [[nodiscard("a lanes awaitable does nothing unless co_awaited")]] ChangeAwaiter : public detail::ListAwaiter<ChangeAwaiter> {
   public:
    explicit ChangeAwaiter(Barrier& b) noexcept : ListAwaiter(b.waiters_) {}
    bool await_ready() const noexcept { return false; }
    void await_resume() {
      if (resumed()) task->throw_if_cancelled();
    }
  };

  /// A task leaves the barrier: the last one out of a draining or resetting
  /// barrier lets the next group in.
  void leave() noexcept;

  detail::LoopWaitList waiters_;
  std::size_t parties_;
  std::size_t count_ = 0;  // tasks inside wait() past the entry check
  State state_ = State::filling;
};

}  // namespace lanes
