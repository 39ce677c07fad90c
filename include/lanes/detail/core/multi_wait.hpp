// lanes/detail/core/multi_wait.hpp — one task waiting on many futures at once (the engine
// of gather, gather_settled and the awaitable wait).
//
// A MultiWait is one heap block: a small header and an array of the futures' states,
// 8 bytes per future. The block is each future's callback-list terminal (a tagged
// pointer in the list, see DoneTerminal), so gathering a million futures is one
// allocation and, per future, one add_terminal and two uncontended atomic
// decrements — no node and no coroutine frame per child. A future already ended by
// another terminal (the same future in two waits at once) gets a heap node instead,
// owned by the block. The futures may complete on any thread, so the header is
// reference counted: a callback that runs on a pool thread while the waiting task
// has already moved on (first error, timeout) still finds the block alive.
#pragma once

#include <atomic>
#include <chrono>
#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <new>

#include "lanes/detail/core/future_state.hpp"
#include "lanes/detail/core/task_core.hpp"
#include "lanes/detail/core/timer_heap.hpp"
#include "lanes/errors.hpp"
#include "lanes/loop.hpp"

namespace lanes::detail {

/// When the waiting task is resumed.
enum class WakeWhen : std::uint8_t {
  all_done,         // every future is done (gather_settled, ALL_COMPLETED)
  first_done,       // any future is done (FIRST_COMPLETED)
  first_exception,  // any future failed, cancellation not counted (FIRST_EXCEPTION)
  first_failure,    // any future failed or was cancelled (gather)
};

class MultiWait : DoneTerminal {
 public:
  static constexpr std::size_t npos = ~std::size_t{0};

  /// One allocation for the header and `size` slots. Throws std::bad_alloc.
  static MultiWait* create(std::size_t size, WakeWhen when) {
    void* raw = ::operator new(states_offset() + size * sizeof(FutureStateBase*));
    return ::new (raw) MultiWait(size, when);
  }
  MultiWait(const MultiWait&) = delete;
  MultiWait& operator=(const MultiWait&) = delete;

  std::size_t size() const noexcept { return size_; }
  /// The owner names the future of slot i before the wait starts.
  void set_state(std::size_t i, FutureStateBase* state) noexcept {
    ::new (static_cast<void*>(states() + i)) FutureStateBase*(state);
  }
  void set_task(TaskCoreBase* task) noexcept { task_ = task; }

  /// Lists the block on future i. Returns true if the future was already done and
  /// that claimed the wake-up: the owner must then not suspend. Throws
  /// std::bad_alloc, with future i not listed, if it needs a node and none can be
  /// made.
  bool attach(std::size_t i) {
    FutureStateBase& s = *states()[i];
    switch (s.add_terminal(this)) {
      case TerminalAdded::listed:
        attached_ = i + 1;
        return false;
      case TerminalAdded::done:
        attached_ = i + 1;
        return finish_one(s, false);
      case TerminalAdded::taken:
        break;
    }
    extra_ = new Extra(this, &s, extra_);
    attached_ = i + 1;
    if (s.add_callback(extra_)) return false;
    return finish_one(s, false);
  }

  /// Claims the right to resume the task (for the timer or a cancellation); false
  /// if a completion, the timer or a cancellation already claimed it.
  bool claim() noexcept { return !(word_.fetch_or(kClaimed, std::memory_order_acq_rel) & kClaimed); }
  bool claimed() const noexcept { return word_.load(std::memory_order_acquire) & kClaimed; }

  /// Index of the first future seen failing (first_failure mode), or npos. Read by
  /// the owner after its wake-up.
  std::size_t first_failure() const noexcept {
    const FutureStateBase* failed = first_failed_.load(std::memory_order_acquire);
    if (failed == nullptr) return npos;
    for (std::size_t i = 0; i < size_; ++i)
      if (states()[i] == failed) return i;  // a future listed twice: its first slot
    return npos;
  }

  /// Cancels every listed future not done yet (gather forwards its cancellation).
  /// Returns true if at least one accepted (Python's _GatheringFuture.cancel).
  bool cancel_children() noexcept {
    bool any = false;
    for (std::size_t i = 0; i < attached_; ++i) {
      FutureStateBase* s = states()[i];
      if (!s->done() && s->cancel()) any = true;
    }
    return any;
  }

  /// The owner lets go (after its wake-up, or when its frame is destroyed): takes
  /// back the terminals and nodes still listed and frees the block unless a
  /// callback still runs elsewhere, in which case the last one frees it.
  void leave() noexcept {
    claim();  // a frame destroyed while waiting (loop close) must not be woken later
    std::uint64_t gone = size_ - attached_;  // never listed
    if (word_.load(std::memory_order_acquire) & kCount) {
      // A future in two slots holds the terminal once: the second remove fails.
      for (std::size_t i = 0; i < attached_; ++i) {
        FutureStateBase* s = states()[i];
        if (!s->done() && s->remove_terminal(this)) ++gone;
      }
      for (Extra* e = extra_; e; e = e->link)
        if (!e->state->done() && e->state->remove_callback(e)) ++gone;
    }
    const std::uint64_t old = word_.fetch_sub(gone + kOwner, std::memory_order_acq_rel);
    if (((old - gone) & kCount) == 0) destroy();
  }

 private:
  // word_: bit 63 = the owner still holds the block; bit 62 = the wake-up was
  // claimed; bits 0..61 = futures whose completion has not been fully noted (not
  // attached yet, listed, or with a callback still running).
  static constexpr std::uint64_t kOwner = std::uint64_t{1} << 63;
  static constexpr std::uint64_t kClaimed = std::uint64_t{1} << 62;
  static constexpr std::uint64_t kCount = kClaimed - 1;

  /// The node that lists the block on a future whose terminal slot is taken.
  struct Extra : DoneCallback {
    MultiWait* owner;
    FutureStateBase* state;
    Extra* link;  // the block's other nodes, freed with it
    Extra(MultiWait* o, FutureStateBase* s, Extra* l) noexcept : owner(o), state(s), link(l) {
      invoke = &MultiWait::on_node_done;
      discard = &MultiWait::on_node_discard;
    }
  };

  MultiWait(std::size_t size, WakeWhen when) noexcept
      : DoneTerminal{&MultiWait::on_done, &MultiWait::on_discard},
        word_(kOwner | size),
        size_(size),
        when_(when) {}
  ~MultiWait() = default;
  void destroy() noexcept {
    for (Extra* e = extra_; e;) {
      Extra* next = e->link;
      delete e;
      e = next;
    }
    this->~MultiWait();
    ::operator delete(static_cast<void*>(this));
  }

  static constexpr std::size_t states_offset() noexcept {
    constexpr std::size_t align = alignof(FutureStateBase*);
    return (sizeof(MultiWait) + align - 1) / align * align;
  }
  FutureStateBase** states() noexcept {
    return std::launder(reinterpret_cast<FutureStateBase**>(
        reinterpret_cast<unsigned char*>(this) + states_offset()));
  }
  FutureStateBase* const* states() const noexcept {
    return std::launder(reinterpret_cast<FutureStateBase* const*>(
        reinterpret_cast<const unsigned char*>(this) + states_offset()));
  }

  /// Notes that future `s` is done. Returns true if this completion claimed the
  /// wake-up; `wake` says whether to wake the task then (a callback) or leave it
  /// to the caller (attach, inside await_suspend). After the count is decremented
  /// the block is touched only by the claimant of the last completion, whose owner
  /// cannot leave before that wake-up.
  bool finish_one(FutureStateBase& s, bool wake) noexcept {
    bool failure = false;
    switch (when_) {
      case WakeWhen::all_done:
        break;
      case WakeWhen::first_done:
        failure = true;
        break;
      case WakeWhen::first_exception:
        failure = s.has_error();
        break;
      case WakeWhen::first_failure:
        failure = s.cancelled() || s.has_error();
        if (failure) {
          FutureStateBase* none = nullptr;
          first_failed_.compare_exchange_strong(none, &s, std::memory_order_acq_rel);
        }
        break;
    }
    bool claimed_now = failure && claim();
    if (claimed_now && wake) {
      task_->wake_from_any_thread();
      wake = false;  // our count is still held: the block stays alive
    }
    std::uint64_t old = word_.load(std::memory_order_relaxed);
    std::uint64_t next;
    bool last_claims;
    do {
      next = old - 1;
      last_claims = (next & kCount) == 0 && (next & kOwner) && !(next & kClaimed);
      if (last_claims) next |= kClaimed;
    } while (!word_.compare_exchange_weak(old, next, std::memory_order_acq_rel,
                                          std::memory_order_relaxed));
    if (last_claims) {
      if (wake) task_->wake_from_any_thread();
      return true;
    }
    if ((next & kCount) == 0 && !(next & kOwner)) destroy();  // the owner left: we are last
    return claimed_now;
  }
  /// A listing dropped unrun by a future destroyed undone: only possible once the
  /// owner has left.
  void drop_one() noexcept {
    if (((word_.fetch_sub(1, std::memory_order_acq_rel) - 1) & kCount) == 0) destroy();
  }

  static void on_done(DoneTerminal* t, FutureStateBase& s) noexcept {
    static_cast<MultiWait*>(t)->finish_one(s, true);
  }
  static void on_discard(DoneTerminal* t) noexcept { static_cast<MultiWait*>(t)->drop_one(); }
  static void on_node_done(DoneCallback* cb, FutureStateBase& s) noexcept {
    static_cast<Extra*>(cb)->owner->finish_one(s, true);
  }
  static void on_node_discard(DoneCallback* cb) noexcept {
    static_cast<Extra*>(cb)->owner->drop_one();
  }

  // Invariant: see the bit layout above. The block is freed by whoever brings the
  // count to 0 with the owner bit clear; the wake-up is claimed exactly once.
  std::atomic<std::uint64_t> word_;
  // Invariant: null, or the state of the first failure seen; set at most once, and
  // before the claim that wakes the owner, which therefore sees it.
  std::atomic<FutureStateBase*> first_failed_{nullptr};
  TaskCoreBase* task_ = nullptr;  // written before the first future is attached
  std::size_t size_;
  std::size_t attached_ = 0;  // owner only: slots [0, attached_) were listed
  Extra* extra_ = nullptr;    // owner writes (attach); freed by destroy()
  WakeWhen when_;
};

/// The leaf awaitable over a MultiWait: suspends the task until the block's wake
/// condition, the optional deadline, or a cancellation.
class [[nodiscard("a lanes awaitable does nothing unless co_awaited")]] MultiWaitAwaiter : CancelHook, TimerNode {
 public:
  using Clock = std::chrono::steady_clock;
  /// What a cancellation of the waiting task does: `forward` cancels the futures
  /// and waits for the wake condition (gather); `detach` stops waiting at once and
  /// leaves the futures alone (wait, as Python's asyncio.wait does).
  enum class OnCancel : std::uint8_t { forward, detach };

  MultiWaitAwaiter(MultiWait* block, OnCancel mode,
                   Clock::time_point deadline = Clock::time_point::max()) noexcept
      : block_(block), deadline_(deadline), mode_(mode) {}
  MultiWaitAwaiter(const MultiWaitAwaiter&) = delete;
  MultiWaitAwaiter& operator=(const MultiWaitAwaiter&) = delete;
  ~MultiWaitAwaiter() {
    if (queued()) task_->loop().remove_timer(*this);
    block_->leave();
  }

  MultiWait& block() noexcept { return *block_; }

  bool await_ready() const noexcept { return block_->size() == 0; }
  /// Throws RuntimeError outside a lanes task; std::bad_alloc if a future that is
  /// in another wait at once needs a node and none can be made (and no wake-up
  /// came before).
  bool await_suspend(std::coroutine_handle<> h) {
    task_ = &require_current_task();
    block_->set_task(task_);
    on_cancel = &MultiWaitAwaiter::cancel_thunk;
    task_->suspend(h, this);
    bool now = false;
    for (std::size_t i = 0; i < block_->size() && !now; ++i) {
      if (block_->claimed()) break;  // woken already from another thread
      try {
        now = block_->attach(i);
      } catch (...) {  // std::bad_alloc, future i not listed
        // A wake-up on its way (a child claimed it): take it, as if it had come
        // before this future was reached. Else stop waiting and throw.
        if (!block_->claim()) break;
        task_->suspend(h, nullptr);
        throw;
      }
    }
    if (!now && deadline_ != Clock::time_point::max()) {
      if (deadline_ <= Clock::now()) {
        now = block_->claim();
      } else {
        when = deadline_;
        fire = &MultiWaitAwaiter::fire_thunk;
        task_->loop().add_timer(*this);
      }
    }
    if (now) {
      task_->suspend(h, nullptr);
      return false;
    }
    suspended_ = true;
    return true;
  }
  /// Throws CancelledError if the waiting task was cancelled meanwhile.
  void await_resume() {
    if (queued()) task_->loop().remove_timer(*this);
    if (suspended_) {
      suspended_ = false;
      task_->throw_if_cancelled();
    }
    if (cancel_requested_) throw CancelledError();
  }

 private:
  static void fire_thunk(TimerNode* self) noexcept {
    auto* a = static_cast<MultiWaitAwaiter*>(self);
    if (a->block_->claim()) a->task_->wake();
  }
  static bool cancel_thunk(CancelHook* self) noexcept {
    auto* a = static_cast<MultiWaitAwaiter*>(self);
    a->cancel_requested_ = true;
    if (a->mode_ == OnCancel::forward && a->block_->cancel_children())
      return true;  // the children's completions wake the task
    // Nothing to forward to (no child accepted: running thread jobs, or a cycle
    // back to this task): stop waiting and throw, as for a plain wait.
    if (!a->block_->claim()) return true;  // a wake-up is already on its way
    if (a->queued()) a->task_->loop().remove_timer(*a);
    a->cancel_requested_ = false;  // the core delivers this one
    return false;
  }

  MultiWait* block_;
  TaskCoreBase* task_ = nullptr;
  Clock::time_point deadline_;
  OnCancel mode_;
  bool suspended_ = false;
  bool cancel_requested_ = false;
};

}  // namespace lanes::detail
