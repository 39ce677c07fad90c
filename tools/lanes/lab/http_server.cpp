// tools/lanes/lab/http_server.cpp — the loopback HTTP server and blocking client
// (see http_server.hpp).
#include "lab/http_server.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <stdexcept>

#include <fmt/format.h>

#include "lanes/loop.hpp"
#include "lanes/net.hpp"
#include "lanes/task.hpp"
#include "lanes/time.hpp"

namespace lanes_cli::lab {

namespace {

// Requests answered, by every server of this process (there is one at a time).
// Relaxed: a statistic read after the clients have their answers.
std::atomic<long> g_served{0};

constexpr std::string_view kAnswer =
    "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n"
    "Connection: close\r\n\r\nok";

int parse_ms(const std::string& head) {
  auto at = head.find("/wait?ms=");
  if (at == std::string::npos) return 0;
  return std::atoi(head.c_str() + at + 9);
}

lanes::Task<void> answer(lanes::StreamReader reader, lanes::StreamWriter writer) {
  std::string head = co_await reader.readuntil("\r\n\r\n");
  const int ms = parse_ms(head);
  if (ms > 0) co_await lanes::sleep(std::chrono::milliseconds(ms));
  writer.write(kAnswer);
  co_await writer.drain();
  writer.close();
  co_await writer.wait_closed();
  g_served.fetch_add(1, std::memory_order_relaxed);
}

lanes::Task<void> serve(lanes::Future<std::uint16_t> port, lanes::Future<void> stop) {
  lanes::ServerOptions options;
  options.backlog = 1024;
  lanes::Server server;
  try {
    server = co_await lanes::start_server(&answer, "127.0.0.1", 0, options);
  } catch (...) {
    port.set_exception(std::current_exception());
    co_return;
  }
  port.set_result(server.port());
  co_await stop;
  server.close();
  co_await server.wait_closed();
}

[[noreturn]] void fail(const char* what) {
  throw std::runtime_error(fmt::format("{}: {}", what, std::strerror(errno)));
}

}  // namespace

std::string wait_request(int ms) {
  return fmt::format("GET /wait?ms={} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
                     ms);
}

bool is_ok_response(const std::string& response) {
  return response.rfind("HTTP/1.1 200", 0) == 0 && response.size() >= 2 &&
         response.compare(response.size() - 2, 2, "ok") == 0;
}

LoopbackHttpServer::LoopbackHttpServer() {
  auto port = lanes::create_future<std::uint16_t>();
  thread_ = std::thread([port, stop = stop_]() mutable {
    try {
      lanes::run(serve(port, stop));
    } catch (...) {
      // The loop itself failed: say so to the constructor rather than terminate.
      if (!port.done()) port.set_exception(std::current_exception());
    }
  });
  try {
    port_ = port.result(std::chrono::seconds(30));
  } catch (...) {
    stop_.set_result();
    thread_.join();
    throw;
  }
}

LoopbackHttpServer::~LoopbackHttpServer() {
  if (!stop_.done()) stop_.set_result();
  thread_.join();
}

long LoopbackHttpServer::served() const { return g_served.load(std::memory_order_relaxed); }

void http_get_blocking(std::uint16_t port, int ms) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) fail("socket");
  struct Closer {
    int fd;
    ~Closer() { close(fd); }
  } closer{fd};
  const int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  while (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
    if (errno != EINTR) fail("connect to the lab's HTTP server");
  const std::string request = wait_request(ms);
  std::size_t sent = 0;
  while (sent < request.size()) {
    ssize_t n = send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) fail("send");
    sent += static_cast<std::size_t>(n);
  }
  std::string response;
  char buf[1024];
  for (;;) {
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail("recv");
    if (n == 0) break;
    response.append(buf, static_cast<std::size_t>(n));
  }
  if (!is_ok_response(response))
    throw std::runtime_error("the lab's HTTP server gave an unexpected answer");
}

void file_round_trip(const std::string& path) {
  std::string data(4096, '\0');
  for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>('a' + i % 26);
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) fail("open for writing");
  ssize_t n = write(fd, data.data(), data.size());
  if (n != static_cast<ssize_t>(data.size()) || fsync(fd) != 0) {
    close(fd);
    fail("write + fsync");
  }
  close(fd);
  fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail("open for reading");
  std::string back(data.size(), '\0');
  n = read(fd, back.data(), back.size());
  close(fd);
  unlink(path.c_str());
  if (n != static_cast<ssize_t>(data.size()) || back != data)
    throw std::runtime_error("file_round_trip: the data read back differs");
}

}  // namespace lanes_cli::lab
