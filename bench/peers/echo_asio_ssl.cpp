// Boost.Asio peer of the TLS echo benchmark (bench/tls.sh): asio::ssl::stream over a
// TCP socket, C++20 coroutines, one io_context thread — peer_echo_asio with TLS.
// Usage: peer_echo_asio_ssl PORT CERT KEY
#include <utility>  // before Asio: Boost 1.74's headers miss it with g++ 12

#if defined(__clang__) && defined(__cpp_impl_coroutine) && !defined(BOOST_ASIO_HAS_CO_AWAIT)
#define BOOST_ASIO_HAS_CO_AWAIT 1
#define BOOST_ASIO_HAS_STD_COROUTINE 1
#endif

#include <boost/asio.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ssl.hpp>

#include <cstdio>
#include <cstdlib>

namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
using asio::awaitable;
using asio::use_awaitable;
using asio::ip::tcp;

static awaitable<void> echo(ssl::stream<tcp::socket> stream) {
  try {
    co_await stream.async_handshake(ssl::stream_base::server, use_awaitable);
    char data[16 * 1024];
    for (;;) {
      std::size_t n = co_await stream.async_read_some(asio::buffer(data), use_awaitable);
      co_await asio::async_write(stream, asio::buffer(data, n), use_awaitable);
    }
  } catch (const std::exception&) {
    // The client closed the connection (or its handshake failed).
  }
}

static awaitable<void> listener(unsigned short port, ssl::context& ctx) {
  auto executor = co_await asio::this_coro::executor;
  tcp::acceptor acceptor(executor, {asio::ip::make_address("127.0.0.1"), port});
  acceptor.listen(1024);
  std::printf("listening on %u\n", static_cast<unsigned>(acceptor.local_endpoint().port()));
  std::fflush(stdout);
  for (;;) {
    tcp::socket socket = co_await acceptor.async_accept(use_awaitable);
    socket.set_option(tcp::no_delay(true));
    asio::co_spawn(executor, echo(ssl::stream<tcp::socket>(std::move(socket), ctx)), asio::detached);
  }
}

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: peer_echo_asio_ssl PORT CERT KEY\n");
    return 2;
  }
  const unsigned short port = static_cast<unsigned short>(std::atoi(argv[1]));
  ssl::context ctx(ssl::context::tls_server);
  ctx.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                  ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
  ctx.use_certificate_chain_file(argv[2]);
  ctx.use_private_key_file(argv[3], ssl::context::pem);
  asio::io_context io(1);
  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](auto, auto) { io.stop(); });
  asio::co_spawn(io, listener(port, ctx), asio::detached);
  io.run();
  return 0;
}
