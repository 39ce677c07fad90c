// open_connection and open_unix_connection (net.hpp).
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <exception>

#include "lanes/detail/net/socket.hpp"
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
  co_await detail::ConnectAwaiter(core->io(), addr);
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

}  // namespace

Task<std::pair<StreamReader, StreamWriter>> open_connection(std::string host, std::uint16_t port,
                                                            ConnectOptions options) {
  auto addrs = co_await detail::resolve(host, port, SOCK_STREAM, false);
  std::exception_ptr first_error;
  for (const auto& addr : addrs) {
    std::exception_ptr error;
    try {
      co_return make_pair_of(co_await connect_stream(addr, options.limit));
    } catch (const OSError&) {
      error = std::current_exception();
    }
    // Python raises the error itself when there was one address (or all agree),
    // else the first; the others are usually "no IPv6 route" noise.
    if (!first_error) first_error = error;
  }
  std::rethrow_exception(first_error);
}

Task<std::pair<StreamReader, StreamWriter>> open_unix_connection(std::string path,
                                                                 ConnectOptions options) {
  const auto addr = detail::unix_address(path);
  co_return make_pair_of(co_await connect_stream(addr, options.limit));
}

}  // namespace lanes
