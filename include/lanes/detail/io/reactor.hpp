// lanes/detail/io/reactor.hpp — the one interface every OS backend implements.
//
// The loop asks the reactor to watch file descriptors and to sleep until one is
// ready or a timeout passes. Two backends: epoll (src/io/epoll_reactor.cpp) and
// io_uring (src/io/uring_reactor.cpp); make_reactor() chooses (lanes/backend.hpp).
//
// A backend that completes operations itself (io_uring) also accepts IoOps: a read,
// write, fsync... described here and completed later through its callback. The
// IoOp and its buffer are owned by the caller and must stay alive until
// on_complete runs, even after cancel(): no completion ever touches freed memory.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "lanes/backend.hpp"

namespace lanes::detail {

/// Readiness bits, independent of the backend.
enum IoEvents : std::uint32_t {
  kReadable = 1u << 0,
  kWritable = 1u << 1,
  kHangup = 1u << 2,
  kError = 1u << 3,
  /// Given to add/modify: report each change of readiness once (epoll's EPOLLET)
  /// instead of for as long as it lasts. Streams register once with both
  /// directions and never call modify again: no system call per operation.
  kEdgeTriggered = 1u << 4,
};

/// Embedded in whatever waits on a descriptor; called on the loop thread.
struct IoWatcher {
  void (*on_ready)(IoWatcher* self, std::uint32_t events) noexcept = nullptr;
};

/// One operation for a completion-based backend. `result` given to on_complete is
/// what the system call would return: bytes (>= 0) or -errno (-ECANCELED after
/// cancel()).
struct IoOp {
  enum class Code : std::uint8_t { read, write, fsync, fdatasync, recv, send };
  /// Socket operations other than recv/send; when not none, this is the
  /// operation and `code` is ignored (a separate enum so that switches over
  /// Code elsewhere stay exhaustive). connect: `buffer`/`length` are the
  /// sockaddr and its length.
  /// accept: multishot (`buffer` null, `length` 0; the result is the new
  /// descriptor, non-blocking and close-on-exec); accept_once: one connection.
  /// recvmsg / sendmsg: `buffer` is a msghdr (it, its iovec, buffer and address
  /// stay alive until on_complete); sendmsg adds MSG_NOSIGNAL.
  enum class Net : std::uint8_t { none, connect, accept, accept_once, recvmsg, sendmsg };
  Net net = Net::none;
  Code code = Code::read;
  int fd = -1;
  void* buffer = nullptr;
  std::size_t length = 0;
  std::uint64_t offset = 0;  ///< for read/write: -1 (all ones) = the file position
  void (*on_complete)(IoOp* self, int result) noexcept = nullptr;
  /// recv with `buffer` null: the kernel picks a buffer from the reactor's own
  /// pool when data arrives (a provided-buffer ring), so a recv that waits holds no
  /// memory. `selected` then points at the bytes during on_complete only (the
  /// buffer goes back to the pool when on_complete returns); null if none was
  /// picked. Only when provides_buffers().
  const char* selected = nullptr;
  /// recv: the socket is probably empty (the last recv was short): the kernel
  /// waits for data before its first attempt instead of failing one first.
  bool poll_first = false;
  /// Set during on_complete: more completions of this (multishot) operation
  /// follow; it is still in flight.
  bool more = false;
};

class Reactor {
 public:
  virtual ~Reactor() = default;

  /// "epoll" or "io_uring".
  virtual Backend backend() const noexcept = 0;

  /// Starts watching `fd` for `events`. Throws std::system_error if the OS refuses.
  virtual void add(int fd, std::uint32_t events, IoWatcher* watcher) = 0;
  /// Changes the events watched on `fd`. Throws std::system_error if the OS refuses.
  virtual void modify(int fd, std::uint32_t events, IoWatcher* watcher) = 0;
  /// Stops watching `fd`; harmless if it is not watched. When it returns, the
  /// backend holds no reference to the descriptor (closing it really closes it).
  virtual void remove(int fd) noexcept = 0;
  /// Number of descriptors watched, all of them: the loop's own wake-up eventfd
  /// (and signal eventfd) included. The loop subtracts its own to decide whether
  /// it may skip a poll (EventLoop::count_internal_descriptor).
  virtual std::size_t watched() const noexcept = 0;

  /// Sleeps in the kernel until a descriptor is ready, an operation completes or
  /// `timeout` passes (a negative timeout waits without limit), then calls the
  /// ready watchers and completed operations. Returns how many were called.
  /// Throws std::system_error on an OS failure.
  virtual int poll(std::chrono::nanoseconds timeout) = 0;

  /// True if submit() works (io_uring); false: do the operation some other way.
  virtual bool completes_operations() const noexcept { return false; }
  /// Queues `op` (sent to the kernel with the next poll). Throws std::system_error
  /// if the OS refuses, RuntimeError if !completes_operations().
  virtual void submit(IoOp& op);
  /// Sends what submit() queued to the kernel now, not with the next poll: before
  /// closing a descriptor that queued operations name (the number could be reused).
  virtual void flush_submissions() noexcept {}
  /// True if a recv may leave its buffer to the kernel (IoOp::selected).
  virtual bool provides_buffers() noexcept { return false; }
  /// Asks the kernel to stop `op` early; on_complete still runs (with -ECANCELED,
  /// or with the result if it finished first). Only while `op` is in flight
  /// (submitted, on_complete not yet run).
  virtual void cancel(IoOp& op) noexcept;

  /// Kept for older callers: make_reactor(Backend::automatic).
  static std::unique_ptr<Reactor> create();
};

/// The reactor for `choice` (automatic: LANES_BACKEND, else io_uring if a ring can
/// be made, else epoll). A refused ring falls back to epoll (one line on stderr if
/// io_uring was asked for or LANES_DEBUG is set). Throws ValueError for a
/// LANES_BACKEND other than epoll/io_uring/automatic, std::system_error if no
/// backend starts.
std::unique_ptr<Reactor> make_reactor(Backend choice = Backend::automatic);

/// The io_uring backend, or null with `error` set (an errno value) if the kernel
/// refuses a ring or lanes was built without liburing.
std::unique_ptr<Reactor> make_uring_reactor(int& error);
/// The epoll backend. Throws std::system_error if epoll_create1 fails.
std::unique_ptr<Reactor> make_epoll_reactor();

}  // namespace lanes::detail
