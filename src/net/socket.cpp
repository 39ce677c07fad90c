// Addresses, name resolution and non-blocking connect (detail/net/socket.hpp).
#include "lanes/detail/net/socket.hpp"
#include "lanes/detail/io/syscall.hpp"

#include <arpa/inet.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

#include "lanes/errors.hpp"
#include "lanes/future.hpp"

namespace lanes {

std::string SocketAddress::to_string() const {
  switch (family) {
    case AF_INET:
      return host + ":" + std::to_string(port);
    case AF_INET6:
      return "[" + host + "]:" + std::to_string(port);
    case AF_UNIX:
      if (host.empty() || host[0] != '\0') return host;
      {
        std::string shown(1, '@');  // abstract names are shown as Linux tools show them
        shown.append(host, 1, std::string::npos);
        return shown;
      }
    default:
      return "(no address)";
  }
}

SocketAddress SocketAddress::from_sockaddr(const sockaddr* sa, unsigned len) {
  SocketAddress out;
  if (sa == nullptr || len < sizeof(sa_family_t)) return out;
  char text[INET6_ADDRSTRLEN + IF_NAMESIZE + 2] = {};
  if (sa->sa_family == AF_INET && len >= sizeof(sockaddr_in)) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(sa);
    ::inet_ntop(AF_INET, &in->sin_addr, text, sizeof text);
    out.family = AF_INET;
    out.host = text;
    out.port = ntohs(in->sin_port);
  } else if (sa->sa_family == AF_INET6 && len >= sizeof(sockaddr_in6)) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(sa);
    ::inet_ntop(AF_INET6, &in6->sin6_addr, text, sizeof text);
    out.family = AF_INET6;
    out.host = text;
    if (in6->sin6_scope_id != 0) {
      char ifname[IF_NAMESIZE] = {};
      if (::if_indextoname(in6->sin6_scope_id, ifname)) {
        out.host.push_back('%');
        out.host.append(ifname);
      }
    }
    out.port = ntohs(in6->sin6_port);
  } else if (sa->sa_family == AF_UNIX) {
    const auto* un = reinterpret_cast<const sockaddr_un*>(sa);
    const std::size_t path_len = len - offsetof(sockaddr_un, sun_path);
    out.family = AF_UNIX;
    if (path_len > 0) {
      // A filesystem path ends at its NUL; an abstract name is all of it.
      out.host = un->sun_path[0] == '\0' ? std::string(un->sun_path, path_len)
                                          : std::string(un->sun_path, ::strnlen(un->sun_path, path_len));
    }
  }
  return out;
}

namespace detail {

bool parse_numeric(const std::string& host, std::uint16_t port, ResolvedAddress& out) {
  out = ResolvedAddress{};
  auto* in = reinterpret_cast<sockaddr_in*>(&out.storage);
  if (::inet_pton(AF_INET, host.c_str(), &in->sin_addr) == 1) {
    in->sin_family = AF_INET;
    in->sin_port = htons(port);
    out.length = sizeof(sockaddr_in);
    out.family = AF_INET;
    return true;
  }
  std::string bare = host;
  unsigned scope = 0;
  if (const auto pct = host.find('%'); pct != std::string::npos) {
    bare = host.substr(0, pct);
    scope = ::if_nametoindex(host.c_str() + pct + 1);
    if (scope == 0) return false;
  }
  if (!bare.empty() && bare.front() == '[' && bare.back() == ']') bare = bare.substr(1, bare.size() - 2);
  auto* in6 = reinterpret_cast<sockaddr_in6*>(&out.storage);
  if (::inet_pton(AF_INET6, bare.c_str(), &in6->sin6_addr) == 1) {
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons(port);
    in6->sin6_scope_id = scope;
    out.length = sizeof(sockaddr_in6);
    out.family = AF_INET6;
    return true;
  }
  return false;
}

namespace {

std::vector<ResolvedAddress> lookup(const std::string& host, std::uint16_t port, int socktype,
                                    bool passive) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = socktype;
  hints.ai_flags = AI_ADDRCONFIG | (passive ? AI_PASSIVE : 0);
  addrinfo* list = nullptr;
  const std::string service = std::to_string(port);
  const int rc = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &list);
  if (rc != 0) {
    const std::error_code code = rc == EAI_SYSTEM ? std::error_code(errno, std::system_category())
                                                  : std::error_code(rc, gai_category());
    throw GAIError(code, "cannot resolve host name '" + host + "': " + ::gai_strerror(rc));
  }
  std::vector<ResolvedAddress> out;
  for (addrinfo* ai = list; ai; ai = ai->ai_next) {
    if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6) continue;
    ResolvedAddress r;
    std::memcpy(&r.storage, ai->ai_addr, ai->ai_addrlen);
    r.length = ai->ai_addrlen;
    r.family = ai->ai_family;
    out.push_back(r);
  }
  ::freeaddrinfo(list);
  if (out.empty()) throw GAIError(EAI_NONAME, "host name '" + host + "' has no IPv4 or IPv6 address");
  return out;
}

}  // namespace

Task<std::vector<ResolvedAddress>> resolve(std::string host, std::uint16_t port, int socktype,
                                           bool passive) {
  std::vector<ResolvedAddress> out;
  ResolvedAddress one;
  if (parse_numeric(host, port, one)) {
    out.push_back(one);
    co_return out;
  }
  if (host.empty()) {
    // Every interface: IPv4 first, then IPv6 (bound IPv6-only by the caller).
    parse_numeric(passive ? "0.0.0.0" : "127.0.0.1", port, one);
    out.push_back(one);
    parse_numeric(passive ? "::" : "::1", port, one);
    out.push_back(one);
    co_return out;
  }
  if (host == "localhost") {
    // RFC 6761: localhost is the loopback, whatever a resolver would say.
    parse_numeric("127.0.0.1", port, one);
    out.push_back(one);
    parse_numeric("::1", port, one);
    out.push_back(one);
    co_return out;
  }
  // getaddrinfo blocks (DNS): it runs on a thread of its own, and the Future it
  // completes wakes the loop. A cancelled wait cancels the future; the thread's
  // late answer is then dropped.
  auto answer = create_future<std::vector<ResolvedAddress>>();
  std::thread([answer, host, port, socktype, passive]() mutable {
    try {
      auto found = lookup(host, port, socktype, passive);
      try {
        answer.set_result(std::move(found));
      } catch (const InvalidStateError&) {
      }
    } catch (...) {
      try {
        answer.set_exception(std::current_exception());
      } catch (const InvalidStateError&) {
      }
    }
  }).detach();
  co_return co_await answer;
}

ResolvedAddress unix_address(const std::string& path) {
  ResolvedAddress out;
  auto* un = reinterpret_cast<sockaddr_un*>(&out.storage);
  if (path.empty()) throw ValueError("a Unix socket path must not be empty");
  if (path.size() >= sizeof(un->sun_path))
    throw ValueError("Unix socket path too long (" + std::to_string(path.size()) + " bytes, at most " +
                     std::to_string(sizeof(un->sun_path) - 1) + "): use a shorter path");
  un->sun_family = AF_UNIX;
  std::memcpy(un->sun_path, path.data(), path.size());
  // An abstract name's length is exact; a path's includes its NUL.
  out.length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size() +
                                      (path[0] == '\0' ? 0 : 1));
  out.family = AF_UNIX;
  return out;
}

int make_socket(int family, int type) {
  const int fd = ::socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) throw_os_error(errno, "socket()");
  return fd;
}

void set_option(int fd, int level, int name, int value, const char* what) {
  if (::setsockopt(fd, level, name, &value, sizeof value) != 0) throw_os_error(errno, what);
}

bool ConnectAwaiter::attempt() noexcept {
  if (!io_->is_open()) {
    error_ = EBADF;
    return true;
  }
  if (!started_) {
    started_ = true;
    if (retry_eintr([&] { return ::connect(io_->fd(), addr_->get(), addr_->length); }) == 0)
      return true;
    if (errno == EINPROGRESS) {
      io_->writable = false;
      return false;
    }
    error_ = errno;
    return true;
  }
  if (!io_->writable) return false;
  int err = 0;
  socklen_t len = sizeof err;
  if (::getsockopt(io_->fd(), SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
  if (err == EINPROGRESS || err == EALREADY) {
    io_->writable = false;
    return false;
  }
  error_ = err;
  return true;
}

void ConnectAwaiter::await_resume() {
  if (suspended()) check_cancelled();
  if (error_ != 0)
    throw_os_error(error_, "connecting to " + addr_->to_address().to_string());
}

}  // namespace detail
}  // namespace lanes
