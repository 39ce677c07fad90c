// Boost.Asio peer of the TCP echo benchmark (bench/echo.sh): C++20 coroutines
// (co_spawn + awaitable), one io_context thread, written as Asio's own
// cpp20 echo example is. Usage: peer_echo_asio PORT
#include <utility>  // before Asio: Boost 1.74's headers miss it with g++ 12

// Boost 1.74 detects C++20 coroutines on g++ only; clang++-16 has them too.
#if defined(__clang__) && defined(__cpp_impl_coroutine) && !defined(BOOST_ASIO_HAS_CO_AWAIT)
#define BOOST_ASIO_HAS_CO_AWAIT 1
#define BOOST_ASIO_HAS_STD_COROUTINE 1
#endif

#include <boost/asio.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

#include <cstdio>
#include <cstdlib>

namespace asio = boost::asio;
using asio::awaitable;
using asio::use_awaitable;
using asio::ip::tcp;

static awaitable<void> echo(tcp::socket socket) {
  try {
    char data[16 * 1024];
    for (;;) {
      std::size_t n = co_await socket.async_read_some(asio::buffer(data), use_awaitable);
      co_await asio::async_write(socket, asio::buffer(data, n), use_awaitable);
    }
  } catch (const std::exception&) {
    // The client closed the connection.
  }
}

static awaitable<void> listener(unsigned short port) {
  auto executor = co_await asio::this_coro::executor;
  tcp::acceptor acceptor(executor, {asio::ip::make_address("127.0.0.1"), port});
  std::printf("listening on %u\n", static_cast<unsigned>(acceptor.local_endpoint().port()));
  std::fflush(stdout);
  for (;;) {
    tcp::socket socket = co_await acceptor.async_accept(use_awaitable);
    socket.set_option(tcp::no_delay(true));
    asio::co_spawn(executor, echo(std::move(socket)), asio::detached);
  }
}

int main(int argc, char** argv) {
  const unsigned short port = static_cast<unsigned short>(argc > 1 ? std::atoi(argv[1]) : 8888);
  asio::io_context io(1);
  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](auto, auto) { io.stop(); });
  asio::co_spawn(io, listener(port), asio::detached);
  io.run();
  return 0;
}
