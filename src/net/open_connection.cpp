// open_connection and open_unix_connection (net.hpp).
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <exception>

#include "lanes/detail/io/file_op.hpp"
#include "lanes/detail/net/socket.hpp"
#include "lanes/detail/tls/tls_handshake.hpp"
#include "lanes/errors.hpp"
#include "lanes/loop.hpp"
#include "lanes/net.hpp"

namespace lanes {
namespace {

/// Connects a new stream to `addr`; the stream (and its socket) is dropped on failure.
Task<std::shared_ptr<detail::StreamCore>> connect_stream(const detail::ResolvedAddress& addr,
                                                         std::size_t limit) {
  EventLoop& loop = get_running_loop();
  auto core = std::make_shared<detail::StreamCore>(limit);
  core->attach(loop, detail::make_socket(addr.family, SOCK_STREAM), detail::StreamCore::Kind::socket);
  if (core->io().watched()) {
    co_await detail::ConnectAwaiter(core->io(), addr);
  } else {
    co_await detail::ring_connect(loop.reactor(), core->io().fd(), addr);
  }
  if (addr.family != AF_UNIX) {
    int one = 1;
    ::setsockopt(core->io().fd(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  co_return core;
}

std::pair<StreamReader, StreamWriter> make_pair_of(std::shared_ptr<detail::StreamCore> core) {
  StreamReader reader(core);
  return {std::move(reader), StreamWriter(std::move(core))};
}

/// The client side of TLS for `options` (which has ssl), checking `hostname`.
detail::TlsParams client_tls(const ConnectOptions& options, std::string hostname) {
  if (options.ssl->check_hostname() && hostname.empty())
    throw ValueError("check_hostname requires server_hostname: give one, or set_check_hostname(false)");
  return {*options.ssl, false, std::move(hostname), options.ssl_handshake_timeout,
          options.ssl_shutdown_timeout};
}

void check_connect_tls(const ConnectOptions& options) {
  detail::check_tls_arguments(options.ssl, false, options.server_hostname, options.ssl_handshake_timeout,
                              options.ssl_shutdown_timeout);
}

}  // namespace

Task<std::pair<StreamReader, StreamWriter>> open_connection(std::string host, std::uint16_t port,
                                                            ConnectOptions options) {
  check_connect_tls(options);
  if (options.ssl && !options.server_hostname && host.empty())
    throw ValueError("open_connection: give server_hostname when using ssl without a host");
  auto addrs = co_await detail::resolve(host, port, SOCK_STREAM, false);
  std::exception_ptr first_error;
  std::shared_ptr<detail::StreamCore> core;
  for (const auto& addr : addrs) {
    std::exception_ptr error;
    try {
      core = co_await connect_stream(addr, options.limit);
      break;
    } catch (const OSError&) {
      error = std::current_exception();
    }
    // Python raises the error itself when there was one address (or all agree),
    // else the first; the others are usually "no IPv6 route" noise.
    if (!first_error) first_error = error;
  }
  if (!core) std::rethrow_exception(first_error);
  // The handshake is not retried on another address: the connection was made.
  if (options.ssl) co_await detail::tls_handshake(core, client_tls(options, std::string(options.server_hostname.value_or(host))));
  co_return make_pair_of(std::move(core));
}

Task<std::pair<StreamReader, StreamWriter>> open_unix_connection(std::string path,
                                                                 ConnectOptions options) {
  check_connect_tls(options);
  if (options.ssl && !options.server_hostname)
    throw ValueError("open_unix_connection: you have to pass server_hostname when using ssl");
  const auto addr = detail::unix_address(path);
  auto core = co_await connect_stream(addr, options.limit);
  if (options.ssl) co_await detail::tls_handshake(core, client_tls(options, std::string(*options.server_hostname)));
  co_return make_pair_of(std::move(core));
}

}  // namespace lanes
