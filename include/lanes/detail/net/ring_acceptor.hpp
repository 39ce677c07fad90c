// lanes/detail/net/ring_acceptor.hpp — accepting through the loop's ring (io_uring).
//
// One multishot IORING_OP_ACCEPT on a listening socket reports each new connection
// until it is stopped (src/net/ring_accept.cpp). Loop-thread only.
#pragma once

#include "lanes/detail/io/reactor.hpp"

namespace lanes::detail {

class RingAcceptor {
 public:
  /// Called with each accepted descriptor (>= 0, now owned by the callee) or a
  /// failure (-errno; the accept has then stopped and arm() starts it again).
  using Callback = void (*)(void* context, int result) noexcept;

  RingAcceptor(Reactor& reactor, int listen_fd, Callback callback, void* context) noexcept;
  RingAcceptor(const RingAcceptor&) = delete;
  RingAcceptor& operator=(const RingAcceptor&) = delete;
  /// stop().
  ~RingAcceptor();

  /// Starts accepting (no effect if already armed). Throws std::system_error if
  /// the ring refuses.
  void arm();
  /// Cancels the accept in flight (IORING_OP_ASYNC_CANCEL) before the listening
  /// descriptor is closed; a connection the kernel accepted meanwhile is closed.
  /// The callback is never called again.
  void stop() noexcept;
  bool armed() const noexcept;

 private:
  struct Op;
  Reactor* reactor_;
  Op* op_;
};

}  // namespace lanes::detail
