// The load generator of the TLS benchmark (bench/tls.sh): plain OpenSSL + epoll, one
// thread; the same binary drives every server.
//
//   tls_load --port P echo [--connections 100] [--size 64] [--warmup 1] [--seconds 5] [--pid PID]
//       N connections (handshakes first), each a 64-byte ping-pong over TLS (send,
//       wait for the whole echo, send again), for a fixed time.
//   tls_load --port P handshakes [--warmup 1] [--seconds 5] [--pid PID]
//       connect, full TLS handshake (no resumption), one 64-byte echo, close — again
//       and again, one at a time.
//
// Prints one line of key=value pairs: count, seconds, per_s, and with --pid the
// server's CPU time over the measured window (/proc/PID/stat, user + system) and its
// CPU microseconds per unit (message or handshake).
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
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

using Clock = std::chrono::steady_clock;

double server_cpu_seconds(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(in, line)) return -1;
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
  std::fprintf(stderr, "tls_load: %s: %s\n", what, std::strerror(errno));
  ERR_print_errors_fp(stderr);
  std::exit(2);
}

int connect_to(const sockaddr_in& addr) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) die("socket");
  if (connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) die("connect");
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

/// A blocking handshake on a blocking socket.
SSL* handshake(SSL_CTX* ctx, int fd) {
  SSL* ssl = SSL_new(ctx);
  SSL_set_fd(ssl, fd);
  if (SSL_connect(ssl) != 1) die("SSL_connect");
  return ssl;
}

/// Reads exactly n bytes (blocking socket).
void read_exact(SSL* ssl, char* buf, int n) {
  int got = 0;
  while (got < n) {
    const int k = SSL_read(ssl, buf + got, n - got);
    if (k <= 0) die("SSL_read");
    got += k;
  }
}

struct Window {
  double warmup = 1, seconds = 5;
  Clock::time_point from, to;
  int pid = 0;
  /// Starts the warm-up now (after any set-up).
  void begin() {
    from = Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(warmup));
    to = from + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  }
  bool measuring = false;
  unsigned long long counted = 0;
  double cpu0 = 0;
  Clock::time_point t0;
  /// Called after each unit of work; false once the window is over.
  bool tick(Clock::time_point now, unsigned long long units) {
    if (!measuring && now >= from) {
      measuring = true;
      t0 = now;
      if (pid > 0) cpu0 = server_cpu_seconds(pid);
    } else if (measuring) {
      counted += units;
    }
    return now < to;
  }
  void report(const char* unit) {
    const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
    std::printf("count=%llu seconds=%.3f per_s=%.0f unit=%s", counted, secs,
                secs > 0 ? static_cast<double>(counted) / secs : 0.0, unit);
    if (pid > 0) {
      const double cpu = server_cpu_seconds(pid) - cpu0;
      std::printf(" server_cpu_s=%.3f cpu_us_per_unit=%.3f", cpu,
                  counted ? cpu * 1e6 / static_cast<double>(counted) : 0.0);
    }
    std::printf("\n");
  }
};

void run_handshakes(SSL_CTX* ctx, const sockaddr_in& addr, int size, Window& w) {
  const std::string message(static_cast<std::size_t>(size), 'h');
  std::vector<char> buf(message.size());
  w.begin();
  for (;;) {
    const int fd = connect_to(addr);
    SSL* ssl = handshake(ctx, fd);
    // One echo: the server has finished its side of the handshake too.
    if (SSL_write(ssl, message.data(), size) != size) die("SSL_write");
    read_exact(ssl, buf.data(), size);
    SSL_free(ssl);
    close(fd);
    if (!w.tick(Clock::now(), 1)) break;
  }
  w.report("handshake");
}

void run_echo(SSL_CTX* ctx, const sockaddr_in& addr, int connections, int size, Window& w) {
  struct Conn {
    int fd;
    SSL* ssl;
    int pending;
  };
  const std::string message(static_cast<std::size_t>(size), 'p');
  std::vector<Conn> conns;
  const int ep = epoll_create1(EPOLL_CLOEXEC);
  for (int i = 0; i < connections; ++i) {
    const int fd = connect_to(addr);
    SSL* ssl = handshake(ctx, fd);
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u32 = static_cast<std::uint32_t>(i);
    if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) != 0) die("epoll_ctl");
    conns.push_back({fd, ssl, size});
  }
  w.begin();
  for (auto& c : conns)
    if (SSL_write(c.ssl, message.data(), size) != size) die("SSL_write");
  std::vector<char> buf(64 * 1024);
  epoll_event ready[256];
  for (;;) {
    const int n = epoll_wait(ep, ready, 256, 100);
    unsigned long long done = 0;
    for (int i = 0; i < n; ++i) {
      Conn& c = conns[ready[i].data.u32];
      for (;;) {
        const int k = SSL_read(c.ssl, buf.data(), static_cast<int>(buf.size()));
        if (k <= 0) {
          const int e = SSL_get_error(c.ssl, k);
          if (e == SSL_ERROR_WANT_READ) break;
          die("SSL_read (the server closed?)");
        }
        c.pending -= k;
        if (c.pending <= 0) {
          ++done;
          c.pending = size;
          // 64 bytes always fit in the socket buffer: no WANT_WRITE here.
          if (SSL_write(c.ssl, message.data(), size) != size) die("SSL_write");
        }
      }
    }
    if (!w.tick(Clock::now(), done)) break;
  }
  w.report("message");
}

}  // namespace

int main(int argc, char** argv) {
  std::string host = "127.0.0.1", mode;
  int port = 0, connections = 100, size = 64, pid = 0;
  double warmup = 1.0, seconds = 5.0;
  for (int i = 1; i < argc; ++i) {
    const std::string k = argv[i];
    const char* v = i + 1 < argc ? argv[i + 1] : "";
    if (k == "echo" || k == "handshakes") mode = k;
    else if (k == "--host") host = v, ++i;
    else if (k == "--port") port = std::atoi(v), ++i;
    else if (k == "--connections") connections = std::atoi(v), ++i;
    else if (k == "--size") size = std::atoi(v), ++i;
    else if (k == "--warmup") warmup = std::atof(v), ++i;
    else if (k == "--seconds") seconds = std::atof(v), ++i;
    else if (k == "--pid") pid = std::atoi(v), ++i;
  }
  if (port <= 0 || connections <= 0 || size <= 0 || mode.empty()) {
    std::fprintf(stderr, "usage: tls_load --port P (echo|handshakes) [--connections N] [--size B] "
                         "[--warmup S] [--seconds S] [--pid PID]\n");
    return 2;
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  if (inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1) die("inet_pton");
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);  // the servers' cost is measured, not ours
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);  // a full handshake every time
  Window w;
  w.warmup = warmup;
  w.seconds = seconds;
  w.pid = pid;
  if (mode == "echo") {
    run_echo(ctx, addr, connections, size, w);
  } else {
    run_handshakes(ctx, addr, size, w);
  }
  SSL_CTX_free(ctx);
  return 0;
}
