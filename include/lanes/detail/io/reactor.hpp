// lanes/detail/io/reactor.hpp — the one interface every OS backend implements.
//
// The loop asks the reactor to watch file descriptors and to sleep until one is
// ready or a timeout passes. epoll is the first backend (src/io/epoll_reactor.cpp);
// an io_uring backend can sit behind the same interface.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>

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

class Reactor {
 public:
  virtual ~Reactor() = default;

  /// Starts watching `fd` for `events`. Throws std::system_error if the OS refuses.
  virtual void add(int fd, std::uint32_t events, IoWatcher* watcher) = 0;
  /// Changes the events watched on `fd`. Throws std::system_error if the OS refuses.
  virtual void modify(int fd, std::uint32_t events, IoWatcher* watcher) = 0;
  /// Stops watching `fd`; harmless if it is not watched.
  virtual void remove(int fd) noexcept = 0;
  /// Number of descriptors watched, all of them: the loop's own wake-up eventfd
  /// (and signal eventfd) included. The loop subtracts its own to decide whether
  /// it may skip a poll (EventLoop::count_internal_descriptor).
  virtual std::size_t watched() const noexcept = 0;

  /// Sleeps in the kernel until a descriptor is ready or `timeout` passes (a
  /// negative timeout waits without limit), then calls the ready watchers.
  /// Returns how many were called. Throws std::system_error on an OS failure.
  virtual int poll(std::chrono::nanoseconds timeout) = 0;

  /// The best backend for this system. Throws std::system_error if none starts.
  static std::unique_ptr<Reactor> create();
};

}  // namespace lanes::detail
