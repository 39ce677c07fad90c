// lanes/detail/io/file_op.hpp — what an AsyncFile (lanes/file.hpp) is made of: the
// shared FileCore, and the leaf awaiter that runs one operation in the io_uring
// ring.
//
// Buffer ownership: an operation's IoOp and its buffer live in a heap FileOpState
// owned by the awaiter while the task waits. If the task's frame is destroyed
// with the operation still in the kernel (its loop closing), the awaiter gives
// the state up instead of freeing it: the completion frees it (the reactor
// completes every operation before its ring goes). A cancelled task is resumed
// only by the completion (the cancel is forwarded to the kernel with
// IORING_OP_ASYNC_CANCEL), so the buffer is never written after the task moved on.
#pragma once

#include <coroutine>
#include <cstdint>
#include <memory>
#include <string>

#include "lanes/detail/core/task_core.hpp"
#include "lanes/detail/io/reactor.hpp"

namespace lanes::detail {

class FileCore {
 public:
  FileCore(int fd, std::string path, std::string mode, int flags) noexcept
      : fd_(fd), path_(std::move(path)), mode_(std::move(mode)), flags_(flags) {}
  FileCore(const FileCore&) = delete;
  FileCore& operator=(const FileCore&) = delete;
  /// Closes the descriptor if close() was not awaited.
  ~FileCore();

  int fd() const noexcept { return closing_ ? -1 : fd_; }
  const std::string& path() const noexcept { return path_; }
  const std::string& mode() const noexcept { return mode_; }
  bool readable() const noexcept;
  bool writable() const noexcept;
  bool appending() const noexcept;
  bool closed() const noexcept { return closing_; }

  std::uint64_t position = 0;
  /// False for a pipe, FIFO or character device: reads and writes then use the
  /// descriptor's own stream (no offsets; read_at/write_at are ESPIPE).
  bool seekable = true;

  /// Throws ValueError if closed, UnsupportedOperation (EBADF) if the mode forbids
  /// reading (write false) or writing (write true).
  void check_open(bool write) const;
  /// Throws UnsupportedOperation (ESPIPE) naming `what` if the file is not seekable.
  void check_seekable(const char* what) const;
  /// An operation starts/ends: close() defers the real close until none runs.
  void begin() noexcept { ++in_flight_; }
  void end() noexcept;
  /// Marks closed; closes now unless operations run. Returns the close() error
  /// (0 if none or deferred).
  int close() noexcept;

 private:
  int fd_;
  std::string path_;
  std::string mode_;
  int flags_;
  int in_flight_ = 0;
  bool closing_ = false;
};

/// One operation's IoOp and buffer (see above).
struct FileOpState final : IoOp {
  std::string bytes;  // what the kernel reads into or writes from
  int result = 0;
  TaskCoreBase* task = nullptr;  // null once given up by its awaiter
  bool cancelled = false;
};

/// Submits a FileOpState to the loop's ring and waits for its completion.
/// await_resume gives the state back (result = bytes or -errno); `cancelled` says
/// the task was cancelled meanwhile (the caller throws CancelledError after its
/// bookkeeping).
class FileOpAwaiter : private CancelHook {
 public:
  FileOpAwaiter(Reactor& reactor, std::unique_ptr<FileOpState> state) noexcept;
  FileOpAwaiter(const FileOpAwaiter&) = delete;
  FileOpAwaiter& operator=(const FileOpAwaiter&) = delete;
  ~FileOpAwaiter();

  bool await_ready() const noexcept { return false; }
  /// Throws RuntimeError outside a task, std::system_error if the ring refuses.
  void await_suspend(std::coroutine_handle<> h);
  std::unique_ptr<FileOpState> await_resume() noexcept;

 private:
  static void complete(IoOp* op, int result) noexcept;
  static bool forward_cancel(CancelHook* self) noexcept;

  Reactor* reactor_;
  std::unique_ptr<FileOpState> state_;
  bool in_flight_ = false;
};

}  // namespace lanes::detail
