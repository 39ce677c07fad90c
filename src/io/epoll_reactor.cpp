// The epoll backend of detail::Reactor: level-triggered unless asked for edges
// (kEdgeTriggered), one watcher per descriptor.
#include <sys/epoll.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

#include "lanes/detail/io/reactor.hpp"

namespace lanes::detail {
namespace {

std::uint32_t to_epoll(std::uint32_t events) noexcept {
  std::uint32_t e = 0;
  if (events & kReadable) e |= EPOLLIN | EPOLLRDHUP;
  if (events & kWritable) e |= EPOLLOUT;
  if (events & kEdgeTriggered) e |= EPOLLET;
  return e;
}

std::uint32_t from_epoll(std::uint32_t e) noexcept {
  std::uint32_t events = 0;
  if (e & (EPOLLIN | EPOLLPRI)) events |= kReadable;
  if (e & EPOLLOUT) events |= kWritable;
  if (e & (EPOLLHUP | EPOLLRDHUP)) events |= kHangup;
  if (e & EPOLLERR) events |= kError;
  return events;
}

class EpollReactor final : public Reactor {
 public:
  EpollReactor() : fd_(::epoll_create1(EPOLL_CLOEXEC)) {
    if (fd_ < 0) throw std::system_error(errno, std::generic_category(), "epoll_create1");
  }
  ~EpollReactor() override { ::close(fd_); }

  Backend backend() const noexcept override { return Backend::epoll; }

  void add(int fd, std::uint32_t events, IoWatcher* watcher) override {
    control(EPOLL_CTL_ADD, fd, events, watcher);
    ++watched_;
  }
  void modify(int fd, std::uint32_t events, IoWatcher* watcher) override {
    control(EPOLL_CTL_MOD, fd, events, watcher);
  }
  void remove(int fd) noexcept override {
    if (::epoll_ctl(fd_, EPOLL_CTL_DEL, fd, nullptr) == 0 && watched_ > 0) --watched_;
  }
  std::size_t watched() const noexcept override { return watched_; }

  int poll(std::chrono::nanoseconds timeout) override {
    epoll_event ready[kBatch];
    int n;
    if (timeout < std::chrono::nanoseconds::zero()) {
      n = ::epoll_wait(fd_, ready, kBatch, -1);
    } else {
      // Rounded up, so that a timer is never found early and spun on.
      const auto ms = (timeout.count() + 999'999) / 1'000'000;
      n = ::epoll_wait(fd_, ready, kBatch, static_cast<int>(ms > 1'000'000 ? 1'000'000 : ms));
    }
    if (n < 0) {
      // Not retried: the loop returns to run what the signal's handler scheduled.
      if (errno == EINTR) return 0;
      throw std::system_error(errno, std::generic_category(), "epoll_wait");
    }
    for (int i = 0; i < n; ++i) {
      auto* watcher = static_cast<IoWatcher*>(ready[i].data.ptr);
      watcher->on_ready(watcher, from_epoll(ready[i].events));
    }
    return n;
  }

 private:
  static constexpr int kBatch = 256;
  void control(int op, int fd, std::uint32_t events, IoWatcher* watcher) {
    epoll_event ev{};
    ev.events = to_epoll(events);
    ev.data.ptr = watcher;
    if (::epoll_ctl(fd_, op, fd, &ev) != 0)
      throw std::system_error(errno, std::generic_category(), "epoll_ctl");
  }
  int fd_;
  std::size_t watched_ = 0;
};

}  // namespace

std::unique_ptr<Reactor> make_epoll_reactor() { return std::make_unique<EpollReactor>(); }

}  // namespace lanes::detail
