// lanes/detail/io/io_handle.hpp — one descriptor watched by the loop's reactor, and the
// leaf awaiter that parks a task until an operation on it completes.
//
// A descriptor is registered once, edge-triggered, for both directions, and stays
// registered until it is closed: no epoll_ctl per operation. The handle remembers
// what the reactor last said (readable / writable) and an operation tries its
// system call first, waiting only when that call would block. One operation may
// wait per direction. A waiting operation is retried by the reactor's callback, on
// the loop thread, and wakes its task only once it has completed: the task
// resumes to a finished result (this is also the shape an io_uring backend has).
//
// All of it is loop-thread only.
#pragma once

#include <coroutine>
#include <cstdint>
#include <utility>

#include "lanes/detail/io/reactor.hpp"
#include "lanes/detail/core/task_core.hpp"

namespace lanes {
class EventLoop;
}

namespace lanes::detail {

class IoRegistry;

/// Throws RuntimeError: a second task tried to wait on a direction that another
/// task already waits on (two concurrent reads of one stream).
[[noreturn]] void throw_io_busy(bool write);

/// Something parked on one direction of a handle. ready() is called on the loop
/// thread when the reactor reports that direction ready; it is no longer parked
/// when called, and parks itself again if its operation still would block.
struct IoWaiter {
  void (*ready)(IoWaiter* self) noexcept = nullptr;
};

class IoHandle : private IoWatcher {
 public:
  IoHandle() noexcept { on_ready = &IoHandle::dispatch; }
  IoHandle(const IoHandle&) = delete;
  IoHandle& operator=(const IoHandle&) = delete;
  /// Closes the descriptor if it is still open.
  ~IoHandle() { close(); }

  /// Takes `fd` (already non-blocking) and registers it with `loop`'s reactor.
  /// On failure closes `fd` and throws the OSError for the reactor's errno, or
  /// RuntimeError if the loop is closed.
  void open(EventLoop& loop, int fd) { open(loop, fd, true); }
  /// The same; `watch` false: not registered with the reactor (its operations are
  /// completed by the reactor's ring instead, which calls notify()); watch() adds
  /// the registration later.
  void open(EventLoop& loop, int fd, bool watch);
  /// Registers the open, unwatched descriptor with the reactor (a stream that
  /// turns to readiness, e.g. for TLS). Throws the OSError for the reactor's errno.
  void watch();
  bool watched() const noexcept { return watched_; }
  /// Reports readiness as the reactor would: sets the flags, wakes the waiters.
  void notify(std::uint32_t events) noexcept { dispatch(this, events); }
  /// Unregisters and closes the descriptor; wakes what waits on it (it then finds
  /// the handle closed). Harmless if not open.
  void close() noexcept;
  /// Unregisters and hands the descriptor back without closing it.
  int release() noexcept;

  bool is_open() const noexcept { return fd_ >= 0; }
  int fd() const noexcept { return fd_; }
  /// The loop the descriptor is registered with; null once that loop has closed.
  EventLoop* loop() const noexcept { return loop_; }

  /// What the reactor last reported, cleared by an operation that met EAGAIN or a
  /// short transfer. With edge triggering, the next change is reported again.
  bool readable = true;
  bool writable = true;
  /// The reactor reported a hang-up or an error (sticky). A short read then no
  /// longer means "drained": the end of the stream may already be there, reported
  /// in the same edge as the data, and no further edge would come for it.
  bool hangup = false;

  IoWaiter* read_waiter = nullptr;
  IoWaiter* write_waiter = nullptr;

  /// Called by the registry when the loop closes with the handle still open: it is
  /// unregistered (the descriptor stays open until close()); `on_detach`, if set,
  /// lets the owner let go of what it kept alive for the loop.
  void (*on_detach)(IoHandle* self) noexcept = nullptr;
  /// Whatever embeds the handle, for on_detach.
  void* owner = nullptr;

  // The registry's intrusive list.
  IoHandle* prev_ = nullptr;
  IoHandle* next_ = nullptr;

 private:
  friend class IoRegistry;

  static void dispatch(IoWatcher* self, std::uint32_t events) noexcept;
  void unregister() noexcept;
  void wake_all() noexcept;

  int fd_ = -1;
  bool watched_ = false;
  EventLoop* loop_ = nullptr;
  IoRegistry* registry_ = nullptr;
};

/// A leaf awaiter for one operation on an IoHandle. `Op` provides
///   bool attempt() noexcept — completes the operation if it can: from a buffer,
///                               or by its system call when the handle's readiness
///                               flag allows one; true when complete (success, end
///                               of stream or error recorded), false when it
///                               would block;
///   bool is_write() const    — which direction it waits on;
///   IoHandle& handle()       — where it waits;
/// and its own await_resume, which calls check_cancelled() if suspended().
template <class Op>
class IoAwaiter : protected IoWaiter, protected CancelHook {
 public:
  IoAwaiter() noexcept {
    ready = &IoAwaiter::ready_thunk;
    on_cancel = &IoAwaiter::cancel_thunk;
  }
  IoAwaiter(const IoAwaiter&) = delete;
  IoAwaiter& operator=(const IoAwaiter&) = delete;
  ~IoAwaiter() { unpark(); }

  /// The optimistic try: an operation that can complete now never suspends.
  bool await_ready() noexcept { return self().attempt(); }
  /// Parks the task. Throws RuntimeError outside a lanes task or when another
  /// task already waits on the same direction of the descriptor.
  void await_suspend(std::coroutine_handle<> h) {
    TaskCoreBase& t = require_current_task();
    IoWaiter*& slot = this->slot();
    if (slot != nullptr) throw_io_busy(self().is_write());
    task_ = &t;
    slot = this;
    t.suspend(h, this);
  }

 protected:
  /// For await_resume, after a real suspension: throws CancelledError if the task
  /// was cancelled meanwhile. An operation whose completion would be lost by that
  /// (data already read) first puts the data back where the next read finds it,
  /// which cancel_pending() tells it to do.
  void check_cancelled() {
    if (task_) task_->throw_if_cancelled();
  }
  bool cancel_pending() const noexcept { return task_ && task_->cancel_pending(); }
  bool suspended() const noexcept { return task_ != nullptr; }
  /// True if the operation completed in the reactor's callback (after parking),
  /// as opposed to being cancelled while parked.
  bool completed_after_wait() const noexcept { return completed_; }

 private:
  Op& self() noexcept { return static_cast<Op&>(*this); }
  IoWaiter*& slot() noexcept {
    IoHandle& h = self().handle();
    return self().is_write() ? h.write_waiter : h.read_waiter;
  }
  void unpark() noexcept {
    IoWaiter*& s = slot();
    if (s == this) s = nullptr;
  }
  static void ready_thunk(IoWaiter* w) noexcept {
    auto* a = static_cast<IoAwaiter*>(w);
    if (a->self().attempt()) {
      a->completed_ = true;
      a->task_->wake();
    } else {
      a->slot() = a;  // would still block: wait for the next edge
    }
  }
  static bool cancel_thunk(CancelHook* h) noexcept {
    auto* a = static_cast<IoAwaiter*>(h);
    a->unpark();  // nothing was consumed: the stream stays usable
    return false;
  }

  TaskCoreBase* task_ = nullptr;
  bool completed_ = false;
};

/// The registry of a loop's open handles (a loop extension): when the loop closes,
/// every handle still open is unregistered so that nothing points at a dead reactor.
IoRegistry& io_registry(EventLoop& loop);

/// Ignores SIGPIPE for the whole process, once: a write to a closed pipe or socket
/// then fails with EPIPE (BrokenPipeError) instead of killing the process.
void ignore_sigpipe() noexcept;

}  // namespace lanes::detail
