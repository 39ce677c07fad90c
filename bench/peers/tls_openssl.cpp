// The OpenSSL-only reference of the TLS benchmark (bench/tls.sh): what one thread
// doing nothing but OpenSSL on non-blocking sockets costs — an epoll loop (level
// triggered), SSL_accept until done, then SSL_read / SSL_write echo. No framework:
// the floor the handshake rate of lanes is held against (as `openssl s_time`
// measures a server, but in the same loop shape and the same run).
// Usage: peer_tls_openssl PORT CERT KEY
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <unordered_map>

namespace {

volatile std::sig_atomic_t stop = 0;

struct Conn {
  SSL* ssl = nullptr;
  bool ready = false;    // handshake done
  std::string out;       // echo bytes SSL_write could not take yet
};

void drop(int ep, std::unordered_map<int, Conn>& conns, int fd) {
  epoll_ctl(ep, EPOLL_CTL_DEL, fd, nullptr);
  SSL_free(conns[fd].ssl);
  conns.erase(fd);
  close(fd);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: peer_tls_openssl PORT CERT KEY\n");
    return 2;
  }
  std::signal(SIGTERM, [](int) { stop = 1; });
  std::signal(SIGPIPE, SIG_IGN);
  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  if (SSL_CTX_use_certificate_chain_file(ctx, argv[2]) != 1 ||
      SSL_CTX_use_PrivateKey_file(ctx, argv[3], SSL_FILETYPE_PEM) != 1) {
    ERR_print_errors_fp(stderr);
    return 1;
  }
  const int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(std::atoi(argv[1])));
  inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
  if (bind(lfd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || listen(lfd, 1024) != 0) {
    std::perror("bind/listen");
    return 1;
  }
  std::printf("listening on %s\n", argv[1]);
  std::fflush(stdout);
  const int ep = epoll_create1(EPOLL_CLOEXEC);
  epoll_event lev{};
  lev.events = EPOLLIN;
  lev.data.fd = lfd;
  epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &lev);
  std::unordered_map<int, Conn> conns;
  char buf[16 * 1024];
  epoll_event ready[256];
  while (!stop) {
    const int n = epoll_wait(ep, ready, 256, 200);
    for (int i = 0; i < n; ++i) {
      const int fd = ready[i].data.fd;
      if (fd == lfd) {
        for (;;) {
          const int c = accept4(lfd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
          if (c < 0) break;
          setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
          Conn& conn = conns[c];
          conn.ssl = SSL_new(ctx);
          SSL_set_fd(conn.ssl, c);
          SSL_set_accept_state(conn.ssl);
          epoll_event ev{};
          ev.events = EPOLLIN;
          ev.data.fd = c;
          epoll_ctl(ep, EPOLL_CTL_ADD, c, &ev);
        }
        continue;
      }
      Conn& c = conns[fd];
      if (!c.ready) {
        const int r = SSL_do_handshake(c.ssl);
        if (r != 1) {
          const int e = SSL_get_error(c.ssl, r);
          if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) drop(ep, conns, fd);
          ERR_clear_error();
          continue;
        }
        c.ready = true;
      }
      bool dead = false;
      if (!c.out.empty()) {
        const int k = SSL_write(c.ssl, c.out.data(), static_cast<int>(c.out.size()));
        if (k > 0) c.out.erase(0, static_cast<std::size_t>(k));
      }
      while (c.out.empty()) {
        const int k = SSL_read(c.ssl, buf, sizeof buf);
        if (k <= 0) {
          const int e = SSL_get_error(c.ssl, k);
          dead = e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE;
          ERR_clear_error();
          break;
        }
        const int w = SSL_write(c.ssl, buf, k);
        if (w <= 0) {
          c.out.assign(buf, static_cast<std::size_t>(k));  // retried with the same bytes
          ERR_clear_error();
        }
      }
      if (dead) drop(ep, conns, fd);
    }
  }
  SSL_CTX_free(ctx);
  return 0;
}
