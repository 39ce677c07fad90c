// lanes/detail/multi_wait.hpp — one task waiting on many futures at once (the engine
// of gather, gather_settled and the awaitable wait).
//
// A MultiWait is one heap block: a small header and an array of DoneCallback nodes,
// one per future. Gathering a million futures is one allocation and, per future, one
// add_callback and two uncontended atomic decrements — no coroutine frame per child.
// The futures may complete on any thread, so the header is reference counted: a
// callback that runs on a pool thread while the waiting task has already moved on
// (first error, timeout) still finds the block alive.
#pragma once

#include <atomic>
#include <chrono>
#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <new>

#include "lanes/detail/future_state.hpp"
#include "lanes/detail/task_core.hpp"
#include "lanes/detail/timer_heap.hpp"
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

class MultiWait {
 public:
  static constexpr std::size_t npos = ~std::size_t{0};

  struct Node : DoneCallback {
    MultiWait* owner;
    FutureStateBase* state;
  };

  /// One allocation for the header and `size` nodes. Throws std::bad_alloc.
  static MultiWait* create(std::size_t size, WakeWhen when) {
    void* raw = ::operator new(nodes_offset() + size * sizeof(Node));
    return ::new (raw) MultiWait(size, when);
  }
  MultiWait(const MultiWait&) = delete;
  MultiWait& operator=(const MultiWait&) = delete;

  std::size_t size() const noexcept { return size_; }
  /// The owner names the future of slot i before the wait starts.
  void set_state(std::size_t i, FutureStateBase* state) noexcept {
    Node* n = ::new (static_cast<void*>(nodes() + i)) Node{};
    n->invoke = &MultiWait::on_done;
    n->discard = &MultiWait::on_discard;
    n->owner = this;
    n->state = state;
  }
  FutureStateBase& state(std::size_t i) noexcept { return *nodes()[i].state; }
  void set_task(TaskCoreBase* task) noexcept { task_ = task; }

  /// Lists node i on its future. Returns true if the future was already done and
  /// that claimed the wake-up: the owner must then not suspend.
  bool attach(std::size_t i) noexcept {
    Node& n = nodes()[i];
    attached_ = i + 1;
    refs_.fetch_add(1, std::memory_order_relaxed);
    if (n.state->add_callback(&n)) return false;
    refs_.fetch_sub(1, std::memory_order_relaxed);  // the owner's reference remains
    return note_done(i, *n.state);
  }

  /// Claims the right to resume the task (for the timer or a cancellation); false
  /// if a callback, the timer or a cancellation already claimed it.
  bool claim() noexcept { return !claimed_.exchange(true, std::memory_order_acq_rel); }
  bool claimed() const noexcept { return claimed_.load(std::memory_order_acquire); }

  /// Index of the first future seen failing (first_failure mode), or npos.
  std::size_t first_failure() const noexcept {
    return first_failure_.load(std::memory_order_acquire);
  }

  /// Cancels every listed future not done yet (gather forwards its cancellation).
  void cancel_children() noexcept {
    for (std::size_t i = 0; i < attached_; ++i) {
      FutureStateBase* s = nodes()[i].state;
      if (!s->done()) s->cancel();
    }
  }

  /// Takes back the nodes still listed (owner only, on the loop thread). A node
  /// whose callback already runs elsewhere keeps its reference until it returns.
  void detach_all() noexcept {
    if (remaining_.load(std::memory_order_acquire) != 0) {
      for (std::size_t i = 0; i < attached_; ++i) {
        Node& n = nodes()[i];
        if (!n.state->done() && n.state->remove_callback(&n))
          refs_.fetch_sub(1, std::memory_order_relaxed);
      }
    }
    attached_ = 0;
  }

  void release() noexcept {
    if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      this->~MultiWait();
      ::operator delete(static_cast<void*>(this));
    }
  }

 private:
  MultiWait(std::size_t size, WakeWhen when) noexcept
      : remaining_(size), size_(size), when_(when) {}
  ~MultiWait() = default;

  static constexpr std::size_t nodes_offset() noexcept {
    return (sizeof(MultiWait) + alignof(Node) - 1) / alignof(Node) * alignof(Node);
  }
  Node* nodes() noexcept {
    return std::launder(
        reinterpret_cast<Node*>(reinterpret_cast<unsigned char*>(this) + nodes_offset()));
  }

  /// Records that future i is done; true if this completion claimed the wake-up.
  bool note_done(std::size_t i, FutureStateBase& s) noexcept {
    bool trigger = false;
    switch (when_) {
      case WakeWhen::all_done:
        break;
      case WakeWhen::first_done:
        trigger = true;
        break;
      case WakeWhen::first_exception:
        trigger = s.has_error();
        break;
      case WakeWhen::first_failure:
        if (s.cancelled() || s.has_error()) {
          std::size_t none = npos;
          first_failure_.compare_exchange_strong(none, i, std::memory_order_acq_rel);
          trigger = true;
        }
        break;
    }
    if (remaining_.fetch_sub(1, std::memory_order_acq_rel) == 1) trigger = true;
    return trigger && claim();
  }

  static void on_done(DoneCallback* cb, FutureStateBase& s) noexcept {
    auto* n = static_cast<Node*>(cb);
    MultiWait* self = n->owner;
    const auto i = static_cast<std::size_t>(n - self->nodes());
    if (self->note_done(i, s)) self->task_->wake_from_any_thread();
    self->release();
  }
  static void on_discard(DoneCallback* cb) noexcept { static_cast<Node*>(cb)->owner->release(); }

  // Invariant: 1 for the owner while it holds the block, plus 1 per node listed on
  // a future whose callback has not returned yet; the block is freed at 0.
  std::atomic<std::size_t> refs_{1};
  // Invariant: futures not yet seen done; only decreases. Whoever brings it to 0
  // has seen every completion (acq_rel chains them) and triggers the wake-up.
  std::atomic<std::size_t> remaining_;
  // Invariant: npos, or the index of the first failure seen; set at most once, and
  // before the claim that wakes the owner, which therefore sees it.
  std::atomic<std::size_t> first_failure_{npos};
  // Invariant: false until one party — a completion, the timer or a cancellation —
  // claims the right to resume the task; exactly one party ever does.
  std::atomic<bool> claimed_{false};
  TaskCoreBase* task_ = nullptr;  // written before the first node is listed
  std::size_t size_;
  std::size_t attached_ = 0;  // owner only: nodes [0, attached_) were offered
  WakeWhen when_;
};

/// The leaf awaitable over a MultiWait: suspends the task until the block's wake
/// condition, the optional deadline, or a cancellation.
class MultiWaitAwaiter : CancelHook, TimerNode {
 public:
  using Clock = std::chrono::steady_clock;
  /// What a cancellation of the waiting task does: `forward` cancels the futures
  /// and waits for the wake condition (gather); `detach` stops waiting at once and
  /// leaves the futures alone (wait, as Python's asyncio.wait does).
  enum class OnCancel : std::uint8_t { forward, detach };

  MultiWaitAwaiter(MultiWait* block, OnCancel on_cancel,
                   Clock::time_point deadline = Clock::time_point::max()) noexcept
      : block_(block), deadline_(deadline), mode_(on_cancel) {}
  MultiWaitAwaiter(const MultiWaitAwaiter&) = delete;
  MultiWaitAwaiter& operator=(const MultiWaitAwaiter&) = delete;
  ~MultiWaitAwaiter() {
    stop_waiting();
    block_->release();
  }

  MultiWait& block() noexcept { return *block_; }

  bool await_ready() const noexcept { return block_->size() == 0; }
  bool await_suspend(std::coroutine_handle<> h) {
    task_ = &require_current_task();
    block_->set_task(task_);
    on_cancel = &MultiWaitAwaiter::cancel_thunk;
    task_->suspend(h, this);
    bool now = false;
    for (std::size_t i = 0; i < block_->size() && !now; ++i) {
      if (block_->claimed()) break;  // woken already from another thread
      now = block_->attach(i);
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
    stop_waiting();
    if (suspended_) {
      suspended_ = false;
      task_->throw_if_cancelled();
    }
    if (cancel_requested_) throw CancelledError();
  }

 private:
  void stop_waiting() noexcept {
    if (queued()) task_->loop().remove_timer(*this);
    block_->detach_all();
  }
  static void fire_thunk(TimerNode* self) noexcept {
    auto* a = static_cast<MultiWaitAwaiter*>(self);
    if (a->block_->claim()) a->task_->wake();
  }
  static bool cancel_thunk(CancelHook* self) noexcept {
    auto* a = static_cast<MultiWaitAwaiter*>(self);
    a->cancel_requested_ = true;
    if (a->mode_ == OnCancel::forward) {
      a->block_->cancel_children();
      return true;  // the children's completions wake the task
    }
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
