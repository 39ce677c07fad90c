// How a StreamCore is wired (detail/net/stream_core.hpp): its descriptor and the
// transport under its buffers (the plain descriptor, or on io_uring the ring
// transport of src/net/ring_transport.cpp), a layer above them (TLS), the server
// tracking it, and the addresses it reports.
#include <sys/socket.h>

#include "lanes/detail/net/stream_core.hpp"
#include "lanes/loop.hpp"

namespace lanes::detail {

void StreamCore::attach(EventLoop& loop, int fd, Kind kind) {
  ignore_sigpipe();
  // A socket on a ring backend (io_uring) moves its bytes by completions: no
  // readiness watch at all (src/net/ring_transport.cpp).
  const bool ring = kind == Kind::socket && loop.reactor().completes_operations();
  io_.open(loop, fd, !ring);
  kind_ = kind;
  plain_.set_socket(kind == Kind::socket);
  if (ring) {
    try {
      custom_ = make_ring_transport(io_, loop.reactor());
    } catch (...) {
      io_.close();
      throw;
    }
    transport_ = custom_.get();
  }
}

void StreamCore::set_transport(std::unique_ptr<StreamTransport> transport) noexcept {
  if (custom_) keep_unread(custom_->stop_reading());
  custom_ = std::move(transport);
  transport_ = custom_ ? custom_.get() : &plain_;
  if (!transport_->completion_based()) watch_readiness();
}

void StreamCore::set_layer(std::shared_ptr<StreamLayer> layer) noexcept {
  layer_ = std::move(layer);
  // The layer reads the descriptor itself, by readiness; its output still goes
  // out through the ring transport's sends.
  if (layer_) use_readiness();
}

void StreamCore::use_readiness() noexcept {
  if (!transport_->completion_based() || io_.watched()) return;
  keep_unread(transport_->stop_reading());
  watch_readiness();
}

void StreamCore::keep_unread(std::string bytes) noexcept {
  if (bytes.empty()) return;
  try {
    rbuf_.append(bytes);
  } catch (...) {
    read_error_ = std::current_exception();
  }
}

void StreamCore::watch_readiness() noexcept {
  if (!io_.is_open() || io_.watched() || !io_.loop()) return;
  try {
    io_.watch();
    io_.readable = true;
  } catch (...) {
    read_error_ = std::current_exception();
  }
}

void StreamCore::set_tracker(std::shared_ptr<ConnectionTracker> tracker) noexcept {
  tracker_ = std::move(tracker);
  if (tracker_) tracker_->connection_opened(*this);
}

// ---- identity ------------------------------------------------------------------

SocketAddress StreamCore::peername() const {
  if (kind_ != Kind::socket || io_.fd() < 0) return {};
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  if (::getpeername(io_.fd(), reinterpret_cast<sockaddr*>(&ss), &len) != 0) return {};
  return SocketAddress::from_sockaddr(reinterpret_cast<sockaddr*>(&ss), len);
}

SocketAddress StreamCore::sockname() const {
  if (kind_ != Kind::socket || io_.fd() < 0) return {};
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  if (::getsockname(io_.fd(), reinterpret_cast<sockaddr*>(&ss), &len) != 0) return {};
  return SocketAddress::from_sockaddr(reinterpret_cast<sockaddr*>(&ss), len);
}

}  // namespace lanes::detail
