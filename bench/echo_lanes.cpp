// The lanes server of the TCP echo benchmark (bench/echo.sh): one loop thread, a
// task per connection, each message read straight into the task's buffer and
// written back (epoll: one read and one write system call per message; io_uring:
// one recv and one send in the ring, submitted with the loop's one io_uring_enter
// per iteration).
//
//   echo_lanes PORT        serves on 127.0.0.1:PORT until killed (SIGTERM) or Ctrl-C
#include <lanes/lanes.hpp>

#include <csignal>
#include <cstdio>
#include <cstdlib>

namespace {

lanes::Task<void> echo(lanes::StreamReader reader, lanes::StreamWriter writer) {
  char buf[16 * 1024];
  try {
    for (;;) {
      const std::size_t n = co_await reader.readinto(buf);
      if (n == 0) break;
      writer.write({buf, n});
      co_await writer.drain();
    }
  } catch (const lanes::ConnectionError&) {
    // The load generator resets its connections when it stops.
  }
}

lanes::Task<void> serve(std::uint16_t port) {
  auto server = co_await lanes::start_server(echo, "127.0.0.1", port, {.backlog = 1024});
  lanes::add_signal_handler(SIGTERM, [server]() mutable { server.close(); });
  std::printf("listening on %u\n", static_cast<unsigned>(server.port()));
  std::fflush(stdout);
  co_await server.serve_forever();
}

}  // namespace

int main(int argc, char** argv) {
  const auto port = static_cast<std::uint16_t>(argc > 1 ? std::atoi(argv[1]) : 8888);
  try {
    lanes::run(serve(port));
  } catch (const lanes::KeyboardInterrupt&) {
  }
  return 0;
}
