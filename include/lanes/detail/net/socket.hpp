// lanes/detail/net/socket.hpp — what TCP, Unix and UDP sockets share: resolving host
// names, making non-blocking sockets, connecting without blocking.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <string>
#include <vector>

#include "lanes/address.hpp"
#include "lanes/detail/io/io_handle.hpp"
#include "lanes/task.hpp"

namespace lanes::detail {

/// One address to bind or connect to, as the OS takes it.
struct ResolvedAddress {
  sockaddr_storage storage{};
  socklen_t length = 0;
  int family = 0;
  const sockaddr* get() const noexcept { return reinterpret_cast<const sockaddr*>(&storage); }
  SocketAddress to_address() const { return SocketAddress::from_sockaddr(get(), length); }
};

/// Parses a numeric IPv4 or IPv6 address ("127.0.0.1", "::1", "fe80::1%lo");
/// false if `host` is not one.
bool parse_numeric(const std::string& host, std::uint16_t port, ResolvedAddress& out);

/// The addresses for `host`:`port`. Numeric addresses and "localhost" are answered
/// at once; an empty host means every interface (for servers: "0.0.0.0" and "::").
/// Other names are resolved by getaddrinfo on another thread, so the loop never
/// blocks. Throws GAIError if the name does not resolve, CancelledError.
Task<std::vector<ResolvedAddress>> resolve(std::string host, std::uint16_t port, int socktype,
                                           bool passive);

/// The address of a Unix socket at `path` (a leading '\0' makes an abstract one).
/// Throws ValueError if the path is empty or too long.
ResolvedAddress unix_address(const std::string& path);

/// A new non-blocking, close-on-exec socket. Throws OSError.
int make_socket(int family, int type);

/// Sets an integer socket option; throws OSError with `what` on failure.
void set_option(int fd, int level, int name, int value, const char* what);

/// Connects the socket of `io` to `addr` without blocking: co_await it. Throws
/// ConnectionRefusedError, OSError..., CancelledError.
class [[nodiscard("a lanes awaitable does nothing unless co_awaited")]] ConnectAwaiter : public IoAwaiter<ConnectAwaiter> {
 public:
  ConnectAwaiter(IoHandle& io, const ResolvedAddress& addr) noexcept : io_(&io), addr_(&addr) {}
  bool attempt() noexcept;
  bool is_write() const noexcept { return true; }
  IoHandle& handle() noexcept { return *io_; }
  void await_resume();

 private:
  IoHandle* io_;
  const ResolvedAddress* addr_;
  bool started_ = false;
  int error_ = 0;
};

/// Connects `fd` to `addr` with one IORING_OP_CONNECT on `reactor` (one that
/// completes_operations()). Cancelling the task cancels the operation
/// (IORING_OP_ASYNC_CANCEL) and throws CancelledError once it has ended. Throws
/// ConnectionRefusedError, OSError..., CancelledError, RuntimeError outside a task.
Task<void> ring_connect(Reactor& reactor, int fd, const ResolvedAddress& addr);

}  // namespace lanes::detail
