// UDP endpoints (datagram.hpp).
#include "lanes/datagram.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "lanes/detail/io/syscall.hpp"
#include "lanes/detail/net/ring_datagram.hpp"
#include "lanes/detail/net/socket.hpp"
#include "lanes/errors.hpp"
#include "lanes/loop.hpp"

namespace lanes {
namespace detail {
namespace {
constexpr std::size_t kMaxDatagram = 65536;
static_assert(sizeof(sockaddr_storage) == 128, "SendToAwaiter::to_ holds a sockaddr_storage");
}

void DatagramCore::close() noexcept {
  DatagramRing* r = ring;
  ring = nullptr;
  ring_close(r);  // before the descriptor's number can be reused
  io.close();
}

bool RecvFromAwaiter::attempt() noexcept {
  if (core_->kept) {
    got_ = std::move(*core_->kept);
    core_->kept.reset();
    return true;
  }
  if (!core_->io.is_open()) {
    error_ = EBADF;
    return true;
  }
  if (core_->ring != nullptr) return ring_recvfrom(*core_->ring, max_, got_, error_);
  if (!core_->io.readable) return false;
  // Received into a per-thread buffer, so that only the datagram's own size is
  // allocated (a UDP datagram is at most 64 KiB).
  thread_local std::unique_ptr<char[]> scratch(new char[kMaxDatagram]);
  const std::size_t room = max_ < kMaxDatagram ? max_ : kMaxDatagram;
  sockaddr_storage from{};
  socklen_t len = sizeof from;
  const ssize_t k = retry_eintr([&] {
    return ::recvfrom(core_->io.fd(), scratch.get(), room, 0, reinterpret_cast<sockaddr*>(&from),
                      &len);
  });
  if (k >= 0) {
    try {
      got_.first.assign(scratch.get(), static_cast<std::size_t>(k));
      got_.second = SocketAddress::from_sockaddr(reinterpret_cast<sockaddr*>(&from), len);
    } catch (...) {
      error_ = ENOMEM;
    }
    return true;
  }
  if (errno == EAGAIN || errno == EWOULDBLOCK) {
    // Datagrams come whole: EAGAIN is the only sign that the queue is empty.
    core_->io.readable = false;
    return false;
  }
  error_ = errno;
  return true;
}

std::pair<std::string, SocketAddress> RecvFromAwaiter::await_resume() {
  if (suspended()) {
    // Cancelled after the datagram arrived: the next receive gets it.
    if (cancel_pending() && completed_after_wait() && error_ == 0) core_->kept = std::move(got_);
    check_cancelled();
  }
  if (error_ == EBADF) throw RuntimeError("recvfrom on a closed DatagramEndpoint");
  if (error_ != 0) throw_os_error(error_, "receiving a datagram");
  return std::move(got_);
}

SendToAwaiter::SendToAwaiter(std::shared_ptr<DatagramCore> core, std::string_view data,
                             std::optional<SocketAddress> to)
    : core_(std::move(core)), data_(data) {
  if (!to) return;
  ResolvedAddress r;
  if (to->family == AF_UNIX) {
    r = unix_address(to->host);
  } else if (!parse_numeric(to->host, to->port, r)) {
    throw ValueError("sendto: '" + to->host +
                     "' is not a numeric address (resolve names first, or connect the endpoint)");
  }
  std::memcpy(to_, &r.storage, r.length);
  to_len_ = r.length;
}

bool SendToAwaiter::attempt() noexcept {
  if (!core_->io.is_open()) {
    error_ = EBADF;
    return true;
  }
  if (core_->ring != nullptr) {
    // Refused at once, as sendto() would: the ring's own errors come a call later.
    if (to_len_ == 0 && !core_->connected) {
      error_ = EDESTADDRREQ;
      return true;
    }
    return ring_sendto(*core_->ring, data_, to_, to_len_, error_);
  }
  if (!core_->io.writable) return false;
  const ssize_t k = retry_eintr([&] {
    return ::sendto(core_->io.fd(), data_.data(), data_.size(), MSG_NOSIGNAL,
                    to_len_ ? reinterpret_cast<const sockaddr*>(to_) : nullptr, to_len_);
  });
  if (k >= 0) return true;
  if (errno == EAGAIN || errno == EWOULDBLOCK) {
    core_->io.writable = false;
    return false;
  }
  error_ = errno;
  return true;
}

void SendToAwaiter::await_resume() {
  if (suspended()) check_cancelled();
  if (error_ == EBADF) throw RuntimeError("sendto on a closed DatagramEndpoint");
  if (error_ != 0) throw_os_error(error_, "sending a datagram");
}

}  // namespace detail

const std::shared_ptr<detail::DatagramCore>& DatagramEndpoint::live() const {
  if (!core_) throw InvalidStateError("this DatagramEndpoint is empty (default made or moved from)");
  return core_;
}

SocketAddress DatagramEndpoint::sockname() const {
  if (!core_ || !core_->io.is_open()) return {};
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  if (::getsockname(core_->io.fd(), reinterpret_cast<sockaddr*>(&ss), &len) != 0) return {};
  return SocketAddress::from_sockaddr(reinterpret_cast<sockaddr*>(&ss), len);
}

SocketAddress DatagramEndpoint::peername() const {
  if (!core_ || !core_->io.is_open() || !core_->connected) return {};
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  if (::getpeername(core_->io.fd(), reinterpret_cast<sockaddr*>(&ss), &len) != 0) return {};
  return SocketAddress::from_sockaddr(reinterpret_cast<sockaddr*>(&ss), len);
}

Task<DatagramEndpoint> create_datagram_endpoint(DatagramOptions options) {
  const bool has_local = !options.local_host.empty() || options.local_port != 0;
  const bool has_remote = !options.remote_host.empty();
  if (!has_local && !has_remote)
    throw ValueError("create_datagram_endpoint: give a local address, a remote one, or both");
  EventLoop& loop = get_running_loop();
  std::vector<detail::ResolvedAddress> locals, remotes;
  const std::string local_host(options.local_host), remote_host(options.remote_host);
  if (has_remote) remotes = co_await detail::resolve(remote_host, options.remote_port, SOCK_DGRAM, false);
  if (has_local) {
    std::string host = local_host;
    if (host.empty() && has_remote) host = remotes.front().family == AF_INET6 ? "::" : "0.0.0.0";
    locals = co_await detail::resolve(std::move(host), options.local_port, SOCK_DGRAM, true);
  }
  const int family = has_remote ? remotes.front().family : locals.front().family;
  auto core = std::make_shared<detail::DatagramCore>();
  const int fd = detail::make_socket(family, SOCK_DGRAM);
  // On io_uring the ring moves the datagrams: the descriptor is not watched.
  const bool ring = loop.reactor().completes_operations();
  core->io.open(loop, fd, !ring);  // closes fd on failure
  if (ring) core->ring = detail::make_datagram_ring(core->io, loop.reactor());
  if (options.reuse_address) detail::set_option(fd, SOL_SOCKET, SO_REUSEADDR, 1, "SO_REUSEADDR");
  if (options.reuse_port) detail::set_option(fd, SOL_SOCKET, SO_REUSEPORT, 1, "SO_REUSEPORT");
  if (options.allow_broadcast) detail::set_option(fd, SOL_SOCKET, SO_BROADCAST, 1, "SO_BROADCAST");
  if (has_local) {
    const detail::ResolvedAddress* local = nullptr;
    for (const auto& l : locals)
      if (l.family == family) local = &l;
    if (!local) throw ValueError("create_datagram_endpoint: the local and remote addresses are of different families");
    if (::bind(fd, local->get(), local->length) != 0)
      throw_os_error(errno, "bind() to " + local->to_address().to_string());
  }
  if (has_remote) {
    const auto& remote = remotes.front();
    if (::connect(fd, remote.get(), remote.length) != 0)
      throw_os_error(errno, "connect() to " + remote.to_address().to_string());
    core->connected = true;
  }
  co_return DatagramEndpoint(std::move(core));
}

}  // namespace lanes
