// libuv peer of the TCP echo benchmark (bench/echo.sh): one uv loop, written as
// libuv's own echo server example is (a buffer per read, a uv_write_t per write).
// Usage: peer_echo_libuv PORT
#include <uv.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>

namespace {

uv_loop_t* loop;

struct WriteReq {
  uv_write_t req;
  uv_buf_t buf;
};

void alloc_buffer(uv_handle_t*, size_t suggested, uv_buf_t* buf) {
  buf->base = static_cast<char*>(std::malloc(suggested));
  buf->len = suggested;
}

void on_close(uv_handle_t* handle) { std::free(handle); }

void on_write(uv_write_t* req, int) {
  auto* w = reinterpret_cast<WriteReq*>(req);
  std::free(w->buf.base);
  std::free(w);
}

void on_read(uv_stream_t* client, ssize_t nread, const uv_buf_t* buf) {
  if (nread > 0) {
    auto* w = static_cast<WriteReq*>(std::malloc(sizeof(WriteReq)));
    w->buf = uv_buf_init(buf->base, static_cast<unsigned>(nread));
    uv_write(&w->req, client, &w->buf, 1, on_write);
    return;
  }
  if (nread < 0) uv_close(reinterpret_cast<uv_handle_t*>(client), on_close);
  std::free(buf->base);
}

void on_connection(uv_stream_t* server, int status) {
  if (status < 0) return;
  auto* client = static_cast<uv_tcp_t*>(std::malloc(sizeof(uv_tcp_t)));
  uv_tcp_init(loop, client);
  if (uv_accept(server, reinterpret_cast<uv_stream_t*>(client)) == 0) {
    uv_tcp_nodelay(client, 1);
    uv_read_start(reinterpret_cast<uv_stream_t*>(client), alloc_buffer, on_read);
  } else {
    uv_close(reinterpret_cast<uv_handle_t*>(client), on_close);
  }
}

void on_signal(uv_signal_t*, int) { uv_stop(loop); }

}  // namespace

int main(int argc, char** argv) {
  const int port = argc > 1 ? std::atoi(argv[1]) : 8888;
  loop = uv_default_loop();
  uv_tcp_t server;
  uv_tcp_init(loop, &server);
  sockaddr_in addr;
  uv_ip4_addr("127.0.0.1", port, &addr);
  uv_tcp_bind(&server, reinterpret_cast<const sockaddr*>(&addr), 0);
  if (int r = uv_listen(reinterpret_cast<uv_stream_t*>(&server), 1024, on_connection); r != 0) {
    std::fprintf(stderr, "listen: %s\n", uv_strerror(r));
    return 1;
  }
  uv_signal_t sigterm;
  uv_signal_init(loop, &sigterm);
  uv_signal_start(&sigterm, on_signal, SIGTERM);
  std::printf("listening on %d\n", port);
  std::fflush(stdout);
  uv_run(loop, UV_RUN_DEFAULT);
  return 0;
}
