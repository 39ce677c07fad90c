// The TCP echo server of the asyncio docs, in lanes.
//
//   tcp_echo_server            a demo: serves on a free port, echoes one client, exits
//   tcp_echo_server PORT       serves on 127.0.0.1:PORT until Ctrl-C
//
// Each connection gets its own task running handle_echo; one thread serves them
// all. Ctrl-C cancels the main task (lanes::run does that, as asyncio.run does),
// so the server closes cleanly.
#include <lanes/lanes.hpp>

#include <cstdio>
#include <cstdlib>
#include <string>

namespace {

lanes::Task<void> handle_echo(lanes::StreamReader reader, lanes::StreamWriter writer) {
  const auto peer = writer.peername().to_string();
  for (;;) {
    std::string data = co_await reader.read(4096);
    if (data.empty()) break;  // the client closed its side
    std::printf("received %zu bytes from %s\n", data.size(), peer.c_str());
    writer.write(data);
    co_await writer.drain();  // waits only if the client reads slower than we write
  }
  writer.close();
  co_await writer.wait_closed();
}

lanes::Task<void> serve(std::uint16_t port) {
  auto server = co_await lanes::start_server(handle_echo, "127.0.0.1", port);
  std::printf("serving on %s (Ctrl-C to stop)\n", server.sockets().at(0).to_string().c_str());
  co_await server.serve_forever();
}

lanes::Task<void> demo() {
  auto server = co_await lanes::start_server(handle_echo, "127.0.0.1", 0);
  std::printf("serving on %s\n", server.sockets().at(0).to_string().c_str());
  auto [reader, writer] = co_await lanes::open_connection("127.0.0.1", server.port());
  writer.write("Hello World!\n");
  std::string echoed = co_await reader.readline();
  std::printf("the client got back: %s", echoed.c_str());
  writer.close();
  co_await writer.wait_closed();
  server.close();
  co_await server.wait_closed();
  std::printf("server closed\n");
}

}  // namespace

int main(int argc, char** argv) {
  try {
    if (argc > 1) {
      lanes::run(serve(static_cast<std::uint16_t>(std::atoi(argv[1]))));
    } else {
      lanes::run(demo());
    }
  } catch (const lanes::KeyboardInterrupt&) {
    std::printf("\ninterrupted: server closed\n");
  } catch (const std::exception& e) {
    std::fprintf(stderr, "tcp_echo_server: %s\n", e.what());
    return 1;
  }
  return 0;
}
