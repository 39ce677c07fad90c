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
  if (closing_) throw ValueError("I/O operation on closed file '" + path_ + "'");
  if (write ? !writable() : !readable())
    throw OSError(EBADF, std::string(write ? "write" : "read") + ": '" + path_ +
                             "' was not opened for " + (write ? "writing" : "reading") +
                             " (mode '" + mode_ + "')");
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
