// The TCP echo client of the asyncio docs, in lanes.
//
//   tcp_echo_client                     a demo against an echo server it starts itself
//   tcp_echo_client HOST PORT [MESSAGE] talks to a running server (tcp_echo_server PORT)
#include <lanes/lanes.hpp>

#include <cstdio>
#include <cstdlib>
#include <string>

namespace {

lanes::Task<void> tcp_echo_client(std::string host, std::uint16_t port, std::string message) {
  auto [reader, writer] = co_await lanes::open_connection(host, port);
  std::printf("send: %s\n", message.c_str());
  writer.write(message + "\n");
  co_await writer.drain();
  std::string data = co_await reader.readline();
  std::printf("received: %s", data.c_str());
  std::printf("close the connection\n");
  writer.close();
  co_await writer.wait_closed();
}

// The demo's own server: echoes each line back.
lanes::Task<void> echo_lines(lanes::StreamReader reader, lanes::StreamWriter writer) {
  for (;;) {
    std::string line = co_await reader.readline();
    if (line.empty()) break;
    writer.write(line);
    co_await writer.drain();
  }
}

lanes::Task<void> demo() {
  auto server = co_await lanes::start_server(echo_lines, "127.0.0.1", 0);
  co_await tcp_echo_client("127.0.0.1", server.port(), "Hello World!");
  server.close();
  co_await server.wait_closed();
}

}  // namespace

int main(int argc, char** argv) {
  try {
    if (argc >= 3) {
      lanes::run(tcp_echo_client(argv[1], static_cast<std::uint16_t>(std::atoi(argv[2])),
                                 argc >= 4 ? argv[3] : "Hello World!"));
    } else {
      lanes::run(demo());
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "tcp_echo_client: %s\n", e.what());
    return 1;
  }
  return 0;
}
