// The lanes server of the TLS echo benchmark (bench/tls.sh): echo_lanes over TLS —
// one loop thread, a task per connection, the handshake before the handler.
//
//   tls_echo_lanes PORT CERT KEY    serves on 127.0.0.1:PORT until SIGTERM or Ctrl-C
#include <lanes/lanes.hpp>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>

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
  } catch (const lanes::SSLError&) {
  }
}

lanes::Task<void> serve(std::uint16_t port, std::string cert, std::string key) {
  lanes::SSLContext ctx(lanes::PROTOCOL_TLS_SERVER);
  ctx.load_cert_chain(cert, key);
  auto server = co_await lanes::start_server(echo, "127.0.0.1", port, {.backlog = 1024, .ssl = &ctx});
  lanes::add_signal_handler(SIGTERM, [server]() mutable { server.close(); });
  std::printf("listening on %u\n", static_cast<unsigned>(server.port()));
  std::fflush(stdout);
  co_await server.serve_forever();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: tls_echo_lanes PORT CERT KEY\n");
    return 2;
  }
  try {
    lanes::run(serve(static_cast<std::uint16_t>(std::atoi(argv[1])), argv[2], argv[3]));
  } catch (const lanes::KeyboardInterrupt&) {
  }
  return 0;
}
