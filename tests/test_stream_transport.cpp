// The stream core's transport seam (detail/net/stream_transport.hpp) and the
// transfer primitives under it (detail/io/syscall.hpp): IoResult for each outcome,
// the EINTR retry, and a custom transport between the buffers and the socket.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <lanes/detail/io/syscall.hpp>
#include <lanes/detail/net/stream_transport.hpp>
#include <lanes/loop.hpp>
#include <lanes/streams.hpp>

#include <cerrno>
#include <memory>
#include <string>

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

}  // namespace
