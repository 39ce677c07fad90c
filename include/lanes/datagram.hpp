// lanes/datagram.hpp — UDP: a datagram endpoint with awaitable sendto / recvfrom.
//
// asyncio offers create_datagram_endpoint with protocol callbacks; lanes gives the
// same endpoint as awaitables, in the style of its streams:
//
//   auto ep = co_await lanes::create_datagram_endpoint({.local_host = "127.0.0.1"});
//   co_await ep.sendto("ping", peer);
//   auto [data, from] = co_await ep.recvfrom();
//
// Loop-thread only; one task receives at a time. A receive cancelled after its
// datagram arrived keeps the datagram for the next receive.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "lanes/address.hpp"
#include "lanes/detail/io/io_handle.hpp"
#include "lanes/task.hpp"

namespace lanes {

struct DatagramOptions {
  /// Where to bind ("" with port 0: no explicit bind; the OS picks on first send).
  /// The hosts are views, read when the returned Task first runs (plain values on
  /// purpose: g++ 12 corrupts a std::string member of a braced temporary inside
  /// co_await).
  std::string_view local_host{};
  std::uint16_t local_port = 0;
  /// If set, the endpoint is connected: send() / recv() talk to this peer only.
  std::string_view remote_host{};
  std::uint16_t remote_port = 0;
  bool reuse_address = false;
  bool reuse_port = false;
  bool allow_broadcast = false;
};

namespace detail {

struct DatagramRing;  // io_uring: the endpoint's operations (detail/net/ring_datagram.hpp)

struct DatagramCore {
  IoHandle io;
  std::optional<std::pair<std::string, SocketAddress>> kept;  // from a cancelled receive
  bool connected = false;
  DatagramRing* ring = nullptr;  // set on a ring backend; given up by close()
  DatagramCore() = default;
  DatagramCore(const DatagramCore&) = delete;
  DatagramCore& operator=(const DatagramCore&) = delete;
  ~DatagramCore() { close(); }
  /// Stops the ring's operations, then closes the descriptor. Never throws.
  void close() noexcept;
};

class [[nodiscard("a lanes awaitable does nothing unless co_awaited")]] RecvFromAwaiter : public IoAwaiter<RecvFromAwaiter> {
 public:
  RecvFromAwaiter(std::shared_ptr<DatagramCore> core, std::size_t max) noexcept
      : core_(std::move(core)), max_(max) {}
  bool attempt() noexcept;
  bool is_write() const noexcept { return false; }
  IoHandle& handle() noexcept { return core_->io; }
  std::pair<std::string, SocketAddress> await_resume();

 private:
  std::shared_ptr<DatagramCore> core_;
  std::size_t max_;
  std::pair<std::string, SocketAddress> got_;
  int error_ = 0;
};

class [[nodiscard("a lanes awaitable does nothing unless co_awaited")]] SendToAwaiter : public IoAwaiter<SendToAwaiter> {
 public:
  SendToAwaiter(std::shared_ptr<DatagramCore> core, std::string_view data,
                std::optional<SocketAddress> to);
  bool attempt() noexcept;
  bool is_write() const noexcept { return true; }
  IoHandle& handle() noexcept { return core_->io; }
  void await_resume();

 private:
  std::shared_ptr<DatagramCore> core_;
  std::string_view data_;
  // A sockaddr_storage (128 bytes), kept opaque so that this public header does not
  // pull the C socket API into every program.
  alignas(8) unsigned char to_[128] = {};
  unsigned to_len_ = 0;
  int error_ = 0;
};

}  // namespace detail

class DatagramEndpoint {
 public:
  DatagramEndpoint() = default;
  explicit DatagramEndpoint(std::shared_ptr<detail::DatagramCore> core) noexcept
      : core_(std::move(core)) {}

  /// Sends one datagram to `addr` (a numeric address). Waits only if the socket's
  /// buffer is full. Throws OSError (EMSGSIZE for a datagram too large...),
  /// ValueError for a non-numeric address, RuntimeError if closed, CancelledError.
  /// On io_uring the datagram is copied and queued (the wait is for a full queue),
  /// and an OSError the kernel gives for it is thrown by the next sendto/send.
  detail::SendToAwaiter sendto(std::string_view data, const SocketAddress& addr) const {
    return detail::SendToAwaiter(live(), data, addr);
  }
  /// Sends to the connected peer. Throws as sendto, and OSError (EDESTADDRREQ) if
  /// the endpoint is not connected.
  detail::SendToAwaiter send(std::string_view data) const {
    return detail::SendToAwaiter(live(), data, std::nullopt);
  }
  /// Receives one datagram (cut to `max_size` bytes) and who sent it. On a
  /// connected endpoint an ICMP "port unreachable" from the peer surfaces here as
  /// ConnectionRefusedError. Throws OSError, RuntimeError if closed, CancelledError.
  detail::RecvFromAwaiter recvfrom(std::size_t max_size = 65536) const {
    return detail::RecvFromAwaiter(live(), max_size);
  }
  /// The local address (the port the OS picked, after binding port 0).
  SocketAddress sockname() const;
  /// The connected peer, or an empty address.
  SocketAddress peername() const;
  /// Closes the socket; a waiting receive throws RuntimeError. Never throws.
  void close() noexcept {
    if (core_) core_->close();
  }
  bool is_closing() const noexcept { return !core_ || !core_->io.is_open(); }

 private:
  const std::shared_ptr<detail::DatagramCore>& live() const;
  std::shared_ptr<detail::DatagramCore> core_;
};

/// Makes a UDP endpoint: bound to local_host:local_port and/or connected to
/// remote_host:remote_port (names are resolved off the loop thread). Throws
/// OSError (EADDRINUSE...), GAIError, ValueError if neither side is given,
/// CancelledError.
Task<DatagramEndpoint> create_datagram_endpoint(DatagramOptions options);

}  // namespace lanes
