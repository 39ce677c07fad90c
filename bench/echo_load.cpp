// The load generator of the TCP echo benchmark (bench/echo.sh): one thread, raw
// epoll, N connections each doing a 64-byte ping-pong with the server under test
// (send, wait for the whole echo, send again), for a fixed time. The same binary
// drives every server, so the servers are compared under the same load.
//
//   echo_load --port P [--host 127.0.0.1] [--connections 100] [--size 64]
//             [--warmup 1] [--seconds 5] [--pid SERVER_PID]
//
// Prints one line of key=value pairs: messages, seconds, msgs_per_s, and with
// --pid the server's CPU time over the measured window (from /proc/PID/stat,
// user + system) and its CPU microseconds per message.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace {

struct Conn {
  int fd = -1;
  std::size_t pending = 0;  // echo bytes still expected for the message in flight
};

double server_cpu_seconds(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(in, line)) return -1;
  // Fields after the command name (which is in parentheses and may hold spaces).
  std::istringstream rest(line.substr(line.rfind(')') + 2));
  std::string field;
  unsigned long long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) {
    if (i == 14) utime = std::stoull(field);
    if (i == 15) stime = std::stoull(field);
  }
  return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

[[noreturn]] void die(const char* what) {
  std::perror(what);
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  std::string host = "127.0.0.1";
  int port = 0, connections = 100, size = 64, pid = 0;
  double warmup = 1.0, seconds = 5.0;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i];
    const char* v = argv[i + 1];
    if (k == "--host") host = v;
    else if (k == "--port") port = std::atoi(v);
    else if (k == "--connections") connections = std::atoi(v);
    else if (k == "--size") size = std::atoi(v);
    else if (k == "--warmup") warmup = std::atof(v);
    else if (k == "--seconds") seconds = std::atof(v);
    else if (k == "--pid") pid = std::atoi(v);
  }
  if (port <= 0 || connections <= 0 || size <= 0) {
    std::fprintf(stderr, "usage: echo_load --port P [--connections N] [--size B] [--seconds S] [--pid PID]\n");
    return 2;
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  if (inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1) die("inet_pton");

  const int ep = epoll_create1(EPOLL_CLOEXEC);
  std::vector<Conn> conns(static_cast<std::size_t>(connections));
  const std::string message(static_cast<std::size_t>(size), 'p');
  for (int i = 0; i < connections; ++i) {
    const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) die("socket");
    if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) die("connect");
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u32 = static_cast<std::uint32_t>(i);
    if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) != 0) die("epoll_ctl");
    conns[static_cast<std::size_t>(i)].fd = fd;
  }
  for (auto& c : conns) {
    if (write(c.fd, message.data(), message.size()) != static_cast<ssize_t>(message.size())) die("write");
    c.pending = message.size();
  }

  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  const auto measure_from = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(warmup));
  const auto measure_to = measure_from + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  bool measuring = false;
  unsigned long long counted = 0;
  double cpu0 = 0;
  Clock::time_point t0;
  std::vector<char> buf(64 * 1024);
  epoll_event ready[256];
  for (;;) {
    const int n = epoll_wait(ep, ready, 256, 100);
    const auto now = Clock::now();
    if (!measuring && now >= measure_from) {
      measuring = true;
      counted = 0;
      t0 = now;
      if (pid > 0) cpu0 = server_cpu_seconds(pid);
    }
    if (now >= measure_to) break;
    for (int i = 0; i < n; ++i) {
      Conn& c = conns[ready[i].data.u32];
      const ssize_t k = read(c.fd, buf.data(), buf.size());
      if (k <= 0) {
        std::fprintf(stderr, "echo_load: the server closed a connection\n");
        return 1;
      }
      std::size_t got = static_cast<std::size_t>(k);
      while (got > 0) {
        const std::size_t take = got < c.pending ? got : c.pending;
        c.pending -= take;
        got -= take;
        if (c.pending == 0) {
          ++counted;
          if (write(c.fd, message.data(), message.size()) != static_cast<ssize_t>(message.size())) die("write");
          c.pending = message.size();
        }
      }
    }
  }
  const auto t1 = Clock::now();
  const double cpu1 = pid > 0 ? server_cpu_seconds(pid) : 0;
  const double secs = std::chrono::duration<double>(t1 - t0).count();
  std::printf("messages=%llu seconds=%.3f msgs_per_s=%.0f", counted, secs, static_cast<double>(counted) / secs);
  if (pid > 0) {
    const double cpu = cpu1 - cpu0;
    std::printf(" server_cpu_s=%.3f cpu_us_per_msg=%.3f", cpu, counted ? cpu * 1e6 / static_cast<double>(counted) : 0.0);
  }
  std::printf("\n");
  for (auto& c : conns) close(c.fd);
  return 0;
}
