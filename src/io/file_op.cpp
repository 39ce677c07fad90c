// The pieces of an AsyncFile (detail/io/file_op.hpp).
#include "lanes/detail/io/file_op.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "lanes/errors.hpp"

namespace lanes::detail {

FileCore::~FileCore() {
  if (!closing_ && fd_ >= 0) ::close(fd_);
}

bool FileCore::readable() const noexcept { return (flags_ & O_ACCMODE) != O_WRONLY; }
bool FileCore::writable() const noexcept { return (flags_ & O_ACCMODE) != O_RDONLY; }
bool FileCore::appending() const noexcept { return (flags_ & O_APPEND) != 0; }

void FileCore::check_open(bool write) const {
  if (closing_) throw ValueError("I/O operation on closed file.");  // Python's words
  // Python raises io.UnsupportedOperation before any system call; EBADF is what
  // the call would have said.
  if (write && !writable())
    throw UnsupportedOperation(EBADF,
                               "write: '" + path_ + "' was opened for reading only (mode '" + mode_ +
                                   "'): open it with 'w', 'a', 'x' or 'r+' to write",
                               path_);
  if (!write && !readable())
    throw UnsupportedOperation(EBADF,
                               "read: '" + path_ + "' was opened for writing only (mode '" + mode_ +
                                   "'): open it with 'r' or a '+' mode to read",
                               path_);
}

void FileCore::check_seekable(const char* what) const {
  if (!seekable)
    throw UnsupportedOperation(ESPIPE,
                               std::string(what) + ": '" + path_ +
                                   "' is not seekable (a pipe, FIFO, socket or terminal): "
                                   "read and write it in order, without offsets",
                               path_);
}

void FileCore::end() noexcept {
  if (--in_flight_ == 0 && closing_ && fd_ >= 0) ::close(std::exchange(fd_, -1));
}

int FileCore::close() noexcept {
  if (closing_) return 0;
  closing_ = true;
  if (in_flight_ > 0) return 0;  // the last operation closes it
  const int fd = std::exchange(fd_, -1);
  // Not retried on EINTR: Linux has released the descriptor either way.
  return ::close(fd) == 0 || errno == EINTR ? 0 : errno;
}

FileOpAwaiter::FileOpAwaiter(Reactor& reactor, std::unique_ptr<FileOpState> state) noexcept
    : reactor_(&reactor), state_(std::move(state)) {
  on_cancel = &FileOpAwaiter::forward_cancel;
  state_->on_complete = &FileOpAwaiter::complete;
}

FileOpAwaiter::~FileOpAwaiter() {
  if (in_flight_) {
    // The task's frame goes while the kernel still holds the buffer: the
    // completion frees the state.
    state_->task = nullptr;
    state_.release();
  }
}

void FileOpAwaiter::await_suspend(std::coroutine_handle<> h) {
  TaskCoreBase& t = require_current_task();
  reactor_->submit(*state_);  // throws before anything is in flight
  in_flight_ = true;
  state_->task = &t;
  t.suspend(h, this);
}

std::unique_ptr<FileOpState> FileOpAwaiter::await_resume() noexcept {
  in_flight_ = false;
  return std::move(state_);
}

void FileOpAwaiter::complete(IoOp* op, int result) noexcept {
  auto* state = static_cast<FileOpState*>(op);
  state->result = result;
  if (state->task == nullptr) {
    delete state;  // given up by a destroyed frame
    return;
  }
  state->task->wake();
}

bool FileOpAwaiter::forward_cancel(CancelHook* self) noexcept {
  auto* a = static_cast<FileOpAwaiter*>(self);
  a->state_->cancelled = true;
  a->reactor_->cancel(*a->state_);
  return true;  // the completion wakes the task, which then throws CancelledError
}

}  // namespace lanes::detail
