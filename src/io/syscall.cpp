// Non-blocking transfer primitives (detail/io/syscall.hpp).
#include "lanes/detail/io/syscall.hpp"

#include <sys/socket.h>
#include <unistd.h>

namespace lanes::detail {

IoResult read_result(ssize_t k) noexcept {
  if (k > 0) return IoResult::transferred(static_cast<std::size_t>(k));
  if (k == 0) return IoResult::end();
  if (errno == EAGAIN || errno == EWOULDBLOCK) return IoResult::blocked();
  return IoResult::failed(errno);
}

IoResult write_result(ssize_t k) noexcept {
  if (k >= 0) return IoResult::transferred(static_cast<std::size_t>(k));
  if (errno == EAGAIN || errno == EWOULDBLOCK) return IoResult::blocked();
  return IoResult::failed(errno);
}

IoResult read_some(int fd, char* dst, std::size_t size) noexcept {
  return read_result(retry_eintr([&] { return ::read(fd, dst, size); }));
}

IoResult write_some(int fd, const char* src, std::size_t size, bool socket) noexcept {
  return write_result(retry_eintr([&] {
    return socket ? ::send(fd, src, size, MSG_NOSIGNAL | MSG_DONTWAIT) : ::write(fd, src, size);
  }));
}

}  // namespace lanes::detail
