// Descriptors registered with the loop's reactor (detail/io/io_handle.hpp).
#include "lanes/detail/io/io_handle.hpp"

#include <unistd.h>

#include <csignal>
#include <mutex>
#include <system_error>

#include "lanes/errors.hpp"
#include "lanes/loop.hpp"

namespace lanes::detail {

/// Every handle open on one loop, so that closing the loop can unregister them.
class IoRegistry final : public LoopExtension {
 public:
  void link(IoHandle& h) noexcept {
    h.prev_ = nullptr;
    h.next_ = head_;
    if (head_) head_->prev_ = &h;
    head_ = &h;
  }
  void unlink(IoHandle& h) noexcept {
    if (h.prev_) {
      h.prev_->next_ = h.next_;
    } else if (head_ == &h) {
      head_ = h.next_;
    }
    if (h.next_) h.next_->prev_ = h.prev_;
    h.prev_ = h.next_ = nullptr;
  }
  ~IoRegistry() override {
    // The loop is closing: its tasks are gone. What is still open (a stream kept
    // outside the loop, a transport flushing before it closes) loses its loop.
    while (IoHandle* h = head_) {
      unlink(*h);
      if (h->loop_ && h->watched_) h->loop_->reactor().remove(h->fd_);
      h->watched_ = false;
      h->loop_ = nullptr;
      h->registry_ = nullptr;
      h->read_waiter = h->write_waiter = nullptr;
      if (h->on_detach) h->on_detach(h);  // may destroy h: not touched after
    }
  }

 private:
  IoHandle* head_ = nullptr;
};

namespace {
const char registry_key = 0;
}

IoRegistry& io_registry(EventLoop& loop) {
  if (auto* ext = loop.extension(&registry_key)) return static_cast<IoRegistry&>(*ext);
  return static_cast<IoRegistry&>(loop.set_extension(&registry_key, std::make_unique<IoRegistry>()));
}

void IoHandle::open(EventLoop& loop, int fd, bool watch) {
  if (is_open()) {
    ::close(fd);
    throw InvalidStateError("IoHandle::open: the handle already holds a descriptor");
  }
  IoRegistry* registry;
  try {
    registry = &io_registry(loop);
    if (watch) loop.reactor().add(fd, kReadable | kWritable | kEdgeTriggered, this);
  } catch (const std::system_error& e) {
    ::close(fd);
    throw_os_error(e.code().value(), "registering a descriptor with the event loop");
  } catch (...) {
    ::close(fd);
    throw;
  }
  fd_ = fd;
  watched_ = watch;
  loop_ = &loop;
  registry_ = registry;
  registry_->link(*this);
  readable = writable = true;
  hangup = false;
}

void IoHandle::watch() {
  if (watched_ || fd_ < 0 || !loop_) return;
  try {
    loop_->reactor().add(fd_, kReadable | kWritable | kEdgeTriggered, this);
  } catch (const std::system_error& e) {
    throw_os_error(e.code().value(), "registering a descriptor with the event loop");
  }
  watched_ = true;
}

void IoHandle::unregister() noexcept {
  if (loop_ && watched_) loop_->reactor().remove(fd_);
  watched_ = false;
  if (registry_) registry_->unlink(*this);
  loop_ = nullptr;
  registry_ = nullptr;
}

void IoHandle::wake_all() noexcept {
  // The waiters find the handle closed and complete with that.
  if (IoWaiter* w = std::exchange(read_waiter, nullptr)) w->ready(w);
  if (IoWaiter* w = std::exchange(write_waiter, nullptr)) w->ready(w);
}

void IoHandle::close() noexcept {
  if (fd_ < 0) return;
  unregister();
  ::close(fd_);
  fd_ = -1;
  wake_all();
}

int IoHandle::release() noexcept {
  if (fd_ < 0) return -1;
  unregister();
  const int fd = std::exchange(fd_, -1);
  wake_all();
  return fd;
}

void IoHandle::dispatch(IoWatcher* self, std::uint32_t events) noexcept {
  auto* h = static_cast<IoHandle*>(self);
  // Taken out first: a waiter's ready() may close the handle (never destroy it).
  IoWaiter* r = nullptr;
  IoWaiter* w = nullptr;
  if (events & (kHangup | kError)) h->hangup = true;
  if (events & (kReadable | kHangup | kError)) {
    h->readable = true;
    r = std::exchange(h->read_waiter, nullptr);
  }
  // A hang-up may be the peer's half-close only; a writer woken for nothing finds
  // EAGAIN and waits again.
  if (events & (kWritable | kHangup | kError)) {
    h->writable = true;
    w = std::exchange(h->write_waiter, nullptr);
  }
  if (r) r->ready(r);
  if (w) w->ready(w);
}

void throw_io_busy(bool write) {
  throw RuntimeError(write ? "another task is already waiting to write on this stream: one "
                             "writer at a time (await drain() before writing from another task)"
                           : "another task is already waiting to read from this stream: read "
                             "from one task at a time");
}

void ignore_sigpipe() noexcept {
  static std::once_flag once;
  std::call_once(once, [] {
    struct sigaction current {};
    if (::sigaction(SIGPIPE, nullptr, &current) == 0 && current.sa_handler == SIG_DFL) {
      struct sigaction ignore {};
      ignore.sa_handler = SIG_IGN;
      sigemptyset(&ignore.sa_mask);
      ::sigaction(SIGPIPE, &ignore, nullptr);
    }
  });
}

}  // namespace lanes::detail
