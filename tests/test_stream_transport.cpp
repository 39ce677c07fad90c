// The stream core's transport seam (detail/net/stream_transport.hpp) and the
// transfer primitives under it (detail/io/syscall.hpp): IoResult for each outcome,
// the EINTR retry, and a custom transport between the buffers and the socket.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <lanes/detail/io/syscall.hpp>
#include <lanes/detail/net/stream_transport.hpp>
#include <lanes/combinators.hpp>
#include <lanes/loop.hpp>
#include <lanes/net.hpp>
#include <lanes/streams.hpp>
#include <lanes/sync.hpp>
#include <lanes/time.hpp>
#include <netinet/in.h>

#include <cerrno>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

using namespace std::chrono_literals;

namespace {

using lanes::detail::IoResult;

struct Pipe {
  int r = -1, w = -1;
  Pipe() {
    int fds[2];
    if (::pipe2(fds, O_NONBLOCK | O_CLOEXEC) != 0) throw std::runtime_error("pipe2");
    r = fds[0];
    w = fds[1];
  }
  ~Pipe() {
    if (r >= 0) ::close(r);
    if (w >= 0) ::close(w);
  }
};

TEST(Syscall, RetryEintrRetriesOnlyEintr) {
  int calls = 0;
  const int r = lanes::detail::retry_eintr([&] {
    ++calls;
    if (calls < 3) {
      errno = EINTR;
      return -1;
    }
    return 7;
  });
  EXPECT_EQ(r, 7);
  EXPECT_EQ(calls, 3);
  calls = 0;
  const int e = lanes::detail::retry_eintr([&] {
    ++calls;
    errno = EBADF;
    return -1;
  });
  EXPECT_EQ(e, -1);
  EXPECT_EQ(errno, EBADF);
  EXPECT_EQ(calls, 1);
}

TEST(Syscall, ReadSomeReportsEachOutcome) {
  Pipe p;
  char buf[16];
  EXPECT_TRUE(lanes::detail::read_some(p.r, buf, sizeof buf).would_block());
  const IoResult w = lanes::detail::write_some(p.w, "abc", 3, false);
  ASSERT_TRUE(w.done());
  EXPECT_EQ(w.bytes, 3u);
  const IoResult r = lanes::detail::read_some(p.r, buf, sizeof buf);
  ASSERT_TRUE(r.done());
  EXPECT_EQ(std::string(buf, r.bytes), "abc");
  ::close(p.w);
  p.w = -1;
  EXPECT_TRUE(lanes::detail::read_some(p.r, buf, sizeof buf).eof());
  const IoResult bad = lanes::detail::read_some(-1, buf, sizeof buf);
  ASSERT_TRUE(bad.failed());
  EXPECT_EQ(bad.error, EBADF);
}

TEST(Syscall, WriteSomeToAClosedPeerIsEpipeNotASignal) {
  lanes::detail::ignore_sigpipe();
  int sv[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
  ::close(sv[1]);
  const IoResult r = lanes::detail::write_some(sv[0], "x", 1, true);
  ASSERT_TRUE(r.failed());
  EXPECT_EQ(r.error, EPIPE);
  ::close(sv[0]);
}

TEST(Syscall, WriteSomeFillsThenBlocks) {
  Pipe p;
  const std::string chunk(1 << 16, 'z');
  IoResult r;
  std::size_t total = 0;
  for (int i = 0; i < 1024; ++i) {
    r = lanes::detail::write_some(p.w, chunk.data(), chunk.size(), false);
    if (!r.done()) break;
    total += r.bytes;
  }
  EXPECT_TRUE(r.would_block());
  EXPECT_GT(total, 0u);
}

/// Flips every byte on the way out and back: a stand-in for an encrypting layer.
class FlipTransport final : public lanes::detail::StreamTransport {
 public:
  explicit FlipTransport(const lanes::detail::IoHandle& io) : plain_(io, true) {}
  IoResult read_some(char* dst, std::size_t size) noexcept override {
    IoResult r = plain_.read_some(dst, size);
    if (r.done())
      for (std::size_t i = 0; i < r.bytes; ++i) dst[i] = static_cast<char>(~dst[i]);
    ++reads;
    return r;
  }
  IoResult write_some(const char* src, std::size_t size) noexcept override {
    std::string flipped(src, size);
    for (char& c : flipped) c = static_cast<char>(~c);
    ++writes;
    return plain_.write_some(flipped.data(), flipped.size());
  }
  void shutdown_write() noexcept override {
    ++shutdowns;
    plain_.shutdown_write();
  }
  int reads = 0, writes = 0, shutdowns = 0;

 private:
  lanes::detail::PlainTransport plain_;
};

TEST(StreamTransport, ACustomTransportCarriesTheStreamsBytes) {
  lanes::run([]() -> lanes::Task<void> {
    int sv[2];
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0);
    auto a = std::make_shared<lanes::detail::StreamCore>();
    auto b = std::make_shared<lanes::detail::StreamCore>();
    a->attach(lanes::get_running_loop(), sv[0], lanes::detail::StreamCore::Kind::socket);
    b->attach(lanes::get_running_loop(), sv[1], lanes::detail::StreamCore::Kind::socket);
    auto flip_a = std::make_unique<FlipTransport>(a->io());
    auto flip_b = std::make_unique<FlipTransport>(b->io());
    FlipTransport* fa = flip_a.get();
    FlipTransport* fb = flip_b.get();
    a->set_transport(std::move(flip_a));
    b->set_transport(std::move(flip_b));
    lanes::StreamReader ra(a), rb(b);
    lanes::StreamWriter wa(a), wb(b);

    const std::string big(300'000, 'q');  // more than the socket takes at once
    auto receiving = lanes::create_task([](lanes::StreamReader r) -> lanes::Task<std::string> {
      std::string line = co_await r.readline();
      co_return line + co_await r.read(-1);
    }(rb));
    wa.write("hello\n");
    wa.write(big);
    co_await wa.drain();
    wa.write_eof();
    EXPECT_EQ(co_await receiving, "hello\n" + big);
    EXPECT_GE(fa->writes, 2);
    EXPECT_EQ(fa->shutdowns, 1);
    EXPECT_GE(fb->reads, 2);

    wb.write("back");
    wb.close();
    EXPECT_EQ(co_await ra.read(-1), "back");
    wa.close();
    co_await wa.wait_closed();
  }());
}

TEST(StreamTransport, TheWireSeesWhatTheTransportMade) {
  lanes::run([]() -> lanes::Task<void> {
    int sv[2];
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0);
    auto a = std::make_shared<lanes::detail::StreamCore>();
    a->attach(lanes::get_running_loop(), sv[0], lanes::detail::StreamCore::Kind::socket);
    a->set_transport(std::make_unique<FlipTransport>(a->io()));
    lanes::StreamWriter wa(a);
    wa.write("AB");
    co_await wa.drain();
    char raw[2] = {};
    EXPECT_EQ(::read(sv[1], raw, 2), 2);
    EXPECT_EQ(raw[0], static_cast<char>(~'A'));
    EXPECT_EQ(raw[1], static_cast<char>(~'B'));
    a->set_transport(nullptr);  // back to the plain descriptor
    wa.write("C");
    co_await wa.drain();
    EXPECT_EQ(::read(sv[1], raw, 1), 1);
    EXPECT_EQ(raw[0], 'C');
    wa.close();
    ::close(sv[1]);
  }());
}

// ---- operations in flight (on io_uring each read and write is a ring operation
// that may outlive its task or its stream; on epoll the same behaviour) ----------

lanes::Task<void> echo_back(lanes::StreamReader r, lanes::StreamWriter w) {
  for (;;) {
    std::string data = co_await r.read(65536);
    if (data.empty()) break;
    w.write(data);
    co_await w.drain();
  }
  w.close();
}

TEST(StreamsInFlight, CancelledReadIntoThenCloseReallyCloses) {
  lanes::run([]() -> lanes::Task<void> {
    lanes::Event server_saw_end;
    auto server = co_await lanes::start_server(
        [&](lanes::StreamReader r, lanes::StreamWriter w) -> lanes::Task<void> {
          EXPECT_EQ(co_await r.read(-1), "");  // the client's FIN, nothing else
          w.close();
          server_saw_end.set();
        },
        "127.0.0.1", 0);
    auto [reader, writer] = co_await lanes::open_connection("127.0.0.1", server.port());
    // A task parked in readinto on a buffer of its own frame, cancelled: the frame
    // dies while the receive may still be in the kernel.
    auto blocked = lanes::create_task([](lanes::StreamReader r) -> lanes::Task<std::size_t> {
      char buf[64];
      co_return co_await r.readinto(buf);
    }(reader));
    co_await lanes::sleep(0s);
    blocked.cancel();
    EXPECT_THROW(co_await blocked, lanes::CancelledError);
    writer.close();
    co_await writer.wait_closed();
    // Closing cancelled the receive: the socket is really closed, the peer sees it.
    co_await lanes::wait_for(server_saw_end.wait(), 10s);
    server.close();
    co_await server.wait_closed();
  }());
}

TEST(StreamsInFlight, CloseWithAWriteInFlightStillDeliversIt) {
  lanes::run([]() -> lanes::Task<void> {
    const std::string big(4 << 20, 'w');  // more than the socket buffers take
    std::size_t received = 0;
    lanes::Event done;
    auto server = co_await lanes::start_server(
        [&](lanes::StreamReader r, lanes::StreamWriter w) -> lanes::Task<void> {
          received = (co_await r.read(-1)).size();
          w.close();
          done.set();
        },
        "127.0.0.1", 0);
    {
      auto [reader, writer] = co_await lanes::open_connection("127.0.0.1", server.port());
      writer.write(big);
      writer.close();  // no drain: the bytes in flight still go out
    }
    co_await lanes::wait_for(done.wait(), 30s);
    EXPECT_EQ(received, big.size());
    server.close();
    co_await server.wait_closed();
  }());
}

TEST(StreamsInFlight, AbortWithAWriteInFlightEndsTheConnection) {
  lanes::run([]() -> lanes::Task<void> {
    lanes::Event done;
    bool ended = false;
    auto server = co_await lanes::start_server(
        [&](lanes::StreamReader r, lanes::StreamWriter w) -> lanes::Task<void> {
          co_await r.readexactly(1);  // then stops reading: the client's send stalls
          try {
            co_await lanes::sleep(50ms);
            co_await r.read(-1);
          } catch (const lanes::ConnectionError&) {
          }
          ended = true;  // the reset (or the end) arrived: no hang
          w.close();
          done.set();
        },
        "127.0.0.1", 0);
    auto [reader, writer] = co_await lanes::open_connection("127.0.0.1", server.port());
    writer.write(std::string(8 << 20, 'a'));
    co_await lanes::sleep(10ms);
    writer.abort();
    co_await writer.wait_closed();
    co_await lanes::wait_for(done.wait(), 30s);
    EXPECT_TRUE(ended);
    server.close();
    co_await server.wait_closed();
  }());
}

TEST(StreamsInFlight, ConnectCancelledByATimeout) {
  lanes::run([]() -> lanes::Task<void> {
    // A listener whose accept queue is full drops new SYNs: a connect to it waits.
    const int lfd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof sa;
    EXPECT_EQ(::bind(lfd, reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0);
    EXPECT_EQ(::listen(lfd, 0), 0);
    EXPECT_EQ(::getsockname(lfd, reinterpret_cast<sockaddr*>(&sa), &len), 0);
    const auto port = ntohs(sa.sin_port);
    std::vector<int> fillers;
    for (int i = 0; i < 4; ++i) {
      const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
      ::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa);
      fillers.push_back(fd);
    }
    // On loopback a connect's handshake completes within the call: the queue is
    // full now.
    EXPECT_THROW(co_await lanes::wait_for(lanes::open_connection("127.0.0.1", port), 100ms),
                 lanes::TimeoutError);
    // The loop goes on: a real server still answers.
    auto server = co_await lanes::start_server(echo_back, "127.0.0.1", 0);
    auto [reader, writer] = co_await lanes::open_connection("127.0.0.1", server.port());
    writer.write("ok");
    EXPECT_EQ(co_await reader.readexactly(2), "ok");
    writer.close();
    server.close();
    co_await server.wait_closed();
    for (int fd : fillers) ::close(fd);
    ::close(lfd);
  }());
}

// Clients at once (1, 2, 4), each opening connections one after another: each
// writes, reads its echo and closes at once, so descriptor numbers are reused
// while operations of the previous owner may still be finishing.
TEST(StreamsInFlight, ManyShortConnectionsAtSeveralConcurrencies) {
  for (int clients : {1, 2, 4}) {
    lanes::run([clients]() -> lanes::Task<void> {
      auto server = co_await lanes::start_server(echo_back, "127.0.0.1", 0);
      const std::uint16_t port = server.port();
      std::vector<lanes::Future<int>> tasks;
      for (int c = 0; c < clients; ++c) {
        tasks.push_back(lanes::create_task([](std::uint16_t p, int id) -> lanes::Task<int> {
          int ok = 0;
          for (int i = 0; i < 100; ++i) {
            auto [r, w] = co_await lanes::open_connection("127.0.0.1", p);
            const std::string msg = std::to_string(id) + ":" + std::to_string(i) + "\n";
            w.write(msg);
            if (co_await r.readline() == msg) ++ok;
            if (i % 2 == 0) {
              w.write("tail");  // closed with this write maybe still in flight
            }
            w.close();
          }
          co_return ok;
        }(port, c)));
      }
      for (auto& t : tasks) EXPECT_EQ(co_await lanes::wait_for(std::move(t), 60s), 100);
      server.close();
      co_await server.wait_closed();
    }());
  }
}

TEST(StreamsInFlight, ServerCloseWithItsAcceptArmedLetsThePortGo) {
  lanes::run([]() -> lanes::Task<void> {
    for (int round = 0; round < 3; ++round) {
      auto server = co_await lanes::start_server(echo_back, "127.0.0.1", 0);
      const std::uint16_t port = server.port();
      {
        auto [r, w] = co_await lanes::open_connection("127.0.0.1", port);  // accept in use
        w.write("x");
        EXPECT_EQ(co_await r.readexactly(1), "x");
        w.close();
      }
      server.close();  // the accept is still armed here
      co_await server.wait_closed();
      // Nothing listens any more: the same port can be listened on again at once.
      auto again = co_await lanes::start_server(echo_back, "127.0.0.1", port);
      EXPECT_EQ(again.port(), port);
      again.close();
      co_await again.wait_closed();
      EXPECT_THROW(co_await lanes::open_connection("127.0.0.1", port), lanes::ConnectionRefusedError);
    }
  }());
}

}  // namespace
