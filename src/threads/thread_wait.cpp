// Blocking waits on many futures, for plain threads (WaitOp::result()).
//
// One block per call: a callback node per future and a count of completions. The
// futures complete on any thread, so the block is reference counted: a callback
// that runs while the waiter has already moved on (first completion, timeout) still
// finds it alive. The waiter sleeps on a one-shot FutureState<void> through
// detail::block_until, so a pool worker that waits here helps run its pool's jobs.
#include "lanes/detail/threads/thread_wait.hpp"

#include <atomic>
#include <cstddef>
#include <memory>
#include <utility>

#include "lanes/errors.hpp"
#include "lanes/future.hpp"

namespace lanes::detail {

namespace {

class ThreadWait {
 public:
  ThreadWait(std::size_t size, ReturnWhen when)
      : nodes_(std::make_unique<Node[]>(size)), size_(size), when_(when) {
    for (std::size_t i = 0; i < size; ++i) {
      nodes_[i].owner = this;
      nodes_[i].invoke = &ThreadWait::on_done;
      nodes_[i].discard = &ThreadWait::on_discard;
    }
  }
  ThreadWait(const ThreadWait&) = delete;
  ThreadWait& operator=(const ThreadWait&) = delete;

  /// Lists node i on `state`, or counts it at once if the state is done already.
  void attach(std::size_t i, FutureStateBase& state) noexcept {
    nodes_[i].state = &state;
    attached_ = i + 1;
    refs_.fetch_add(1, std::memory_order_relaxed);
    if (!state.add_callback(&nodes_[i])) on_done(&nodes_[i], state);
  }

  /// Takes back the nodes still listed. A failed removal means the callback ran,
  /// or runs right now and drops its own reference when it returns.
  void detach_all() noexcept {
    for (std::size_t i = 0; i < attached_; ++i) {
      Node& node = nodes_[i];
      if (!node.state->done() && node.state->remove_callback(&node)) release();
    }
    attached_ = 0;
  }

  bool wait_until(std::chrono::steady_clock::time_point deadline) {
    if (triggered_.load(std::memory_order_acquire)) return true;
    if (on_running_loop_thread())
      throw InvalidStateError(
          "lanes::wait(...).result() would block the event loop's own thread: inside a task, "
          "co_await lanes::wait(...) instead");
    // triggered_ is set before signal_ completes: the state is only a wake-up.
    return block_until(signal_, deadline) || triggered_.load(std::memory_order_acquire);
  }

  void release() noexcept {
    if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
  }

 private:
  struct Node : DoneCallback {
    ThreadWait* owner = nullptr;
    FutureStateBase* state = nullptr;
  };
  /// A one-shot state to sleep on. It lives inside the block (which the callbacks
  /// keep alive), so it is never freed through its own reference count.
  struct Signal : FutureState<void> {
    void destroy() noexcept override {}
  };

  ~ThreadWait() = default;

  static void on_done(DoneCallback* cb, FutureStateBase& state) noexcept {
    ThreadWait* self = static_cast<Node*>(cb)->owner;
    self->note_done(state);
    self->release();
  }
  static void on_discard(DoneCallback* cb) noexcept { static_cast<Node*>(cb)->owner->release(); }

  void note_done(FutureStateBase& state) noexcept {
    const std::size_t done = done_.fetch_add(1, std::memory_order_acq_rel) + 1;
    bool trigger = done == size_;
    if (when_ == ReturnWhen::FIRST_COMPLETED) trigger = true;
    if (when_ == ReturnWhen::FIRST_EXCEPTION && state.has_error()) trigger = true;
    if (trigger && !triggered_.exchange(true, std::memory_order_acq_rel)) signal_.set_value();
  }

  // Invariant: 1 for the waiter until it returns, plus 1 per node listed on a
  // future whose callback has not returned yet; the block is deleted at 0, and
  // acq_rel makes every user's writes visible to the one that deletes it.
  std::atomic<std::size_t> refs_{1};
  // Invariant: how many futures were seen done; only grows, once per node.
  std::atomic<std::size_t> done_{0};
  // Invariant: false until the condition first holds; the one that sets it
  // completes signal_, after which the waiter may return.
  std::atomic<bool> triggered_{false};
  Signal signal_;
  std::unique_ptr<Node[]> nodes_;
  std::size_t size_;
  std::size_t attached_ = 0;  // waiter only: nodes [0, attached_) were listed
  ReturnWhen when_;
};

}  // namespace

bool block_until_condition(std::span<FutureStateBase* const> states, ReturnWhen when,
                           std::chrono::steady_clock::time_point deadline) {
  if (states.empty()) return true;
  auto* block = new ThreadWait(states.size(), when);
  struct Cleanup {
    ThreadWait* block;
    ~Cleanup() {
      block->detach_all();
      block->release();
    }
  } cleanup{block};
  for (std::size_t i = 0; i < states.size(); ++i) block->attach(i, *states[i]);
  return block->wait_until(deadline);
}

}  // namespace lanes::detail
