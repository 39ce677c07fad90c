// lanes/address.hpp — SocketAddress: where a socket is bound or connected.
//
// Python hands out tuples — ('127.0.0.1', 8888), ('::1', 8888, 0, 0) — or a path
// for a Unix socket. lanes uses one small value type for all three families.
#pragma once

#include <cstdint>
#include <string>

struct sockaddr;

namespace lanes {

struct SocketAddress {
  /// AF_INET, AF_INET6 or AF_UNIX; 0 for "no address" (an unnamed Unix socket).
  int family = 0;
  /// The numeric address ("127.0.0.1", "::1"), or the path of a Unix socket (an
  /// abstract one starts with '\0').
  std::string host;
  /// The port (0 for Unix sockets).
  std::uint16_t port = 0;

  /// "127.0.0.1:8888", "[::1]:8888", or the path. Never throws but std::bad_alloc.
  std::string to_string() const;

  /// Decodes what the OS returned (getsockname, getpeername, recvfrom).
  static SocketAddress from_sockaddr(const sockaddr* sa, unsigned len);

  friend bool operator==(const SocketAddress&, const SocketAddress&) = default;
};

}  // namespace lanes
