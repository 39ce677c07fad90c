// The plain transport: the stream's own descriptor (detail/net/stream_transport.hpp).
#include "lanes/detail/net/stream_transport.hpp"

#include <sys/socket.h>

namespace lanes::detail {

IoResult PlainTransport::read_some(char* dst, std::size_t size) noexcept {
  return detail::read_some(io_->fd(), dst, size);
}

IoResult PlainTransport::write_some(const char* src, std::size_t size) noexcept {
  return detail::write_some(io_->fd(), src, size, socket_);
}

void PlainTransport::shutdown_write() noexcept {
  if (socket_) ::shutdown(io_->fd(), SHUT_WR);
}

}  // namespace lanes::detail
