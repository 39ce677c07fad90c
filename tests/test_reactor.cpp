// The reactor backends (detail/io/reactor.hpp, lanes/backend.hpp): choosing one,
// readiness reports on each, and the io_uring backend's faults — a full
// submission queue, an overflowing completion queue, cancellation, and a ring
// destroyed with operations in flight.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <lanes/backend.hpp>
#include <lanes/detail/io/reactor.hpp>
#include <lanes/errors.hpp>
#include <lanes/loop.hpp>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

using namespace std::chrono_literals;
using lanes::Backend;
using lanes::detail::IoOp;
using lanes::detail::IoWatcher;
using lanes::detail::Reactor;

namespace {

std::unique_ptr<Reactor> uring_or_skip() {
  int error = 0;
  return lanes::detail::make_uring_reactor(error);
}

struct Counter : IoWatcher {
  int calls = 0;
  std::uint32_t last = 0;
  Counter() {
    on_ready = [](IoWatcher* self, std::uint32_t events) noexcept {
      auto* c = static_cast<Counter*>(self);
      ++c->calls;
      c->last |= events;
    };
  }
};

/// Polls until `done()` or a generous number of rounds (no timing assertion).
template <class Pred>
bool poll_until(Reactor& r, Pred done) {
  for (int i = 0; i < 2000 && !done(); ++i) r.poll(5ms);
  return done();
}

class EachBackend : public ::testing::TestWithParam<Backend> {
 protected:
  std::unique_ptr<Reactor> make() {
    if (GetParam() == Backend::epoll) return lanes::detail::make_epoll_reactor();
    return uring_or_skip();
  }
};

TEST_P(EachBackend, ReportsReadabilityOfAPipe) {
  auto r = make();
  if (!r) GTEST_SKIP() << "io_uring unavailable here";
  EXPECT_EQ(r->backend(), GetParam());
  int fds[2];
  ASSERT_EQ(::pipe2(fds, O_NONBLOCK | O_CLOEXEC), 0);
  Counter c;
  r->add(fds[0], lanes::detail::kReadable | lanes::detail::kEdgeTriggered, &c);
  EXPECT_EQ(r->watched(), 1u);
  r->poll(0ns);
  c.calls = 0;
  c.last = 0;
  ASSERT_EQ(::write(fds[1], "x", 1), 1);
  EXPECT_TRUE(poll_until(*r, [&] { return c.calls > 0; }));
  EXPECT_TRUE(c.last & lanes::detail::kReadable);
  ::close(fds[1]);
  EXPECT_TRUE(poll_until(*r, [&] { return (c.last & lanes::detail::kHangup) != 0; }));
  r->remove(fds[0]);
  EXPECT_EQ(r->watched(), 0u);
  r->remove(fds[0]);  // harmless twice
  ::close(fds[0]);
}

TEST_P(EachBackend, LevelTriggeredReportsAgainUntilDrained) {
  auto r = make();
  if (!r) GTEST_SKIP() << "io_uring unavailable here";
  const int efd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  ASSERT_GE(efd, 0);
  Counter c;
  r->add(efd, lanes::detail::kReadable, &c);
  const std::uint64_t one = 1;
  ASSERT_EQ(::write(efd, &one, sizeof one), 8);
  EXPECT_TRUE(poll_until(*r, [&] { return c.calls >= 3; }));  // not drained: again and again
  std::uint64_t v;
  ASSERT_EQ(::read(efd, &v, sizeof v), 8);
  r->remove(efd);
  ::close(efd);
}

TEST_P(EachBackend, ARemovedDescriptorIsReallyClosed) {
  auto r = make();
  if (!r) GTEST_SKIP() << "io_uring unavailable here";
  int fds[2];
  ASSERT_EQ(::pipe2(fds, O_NONBLOCK | O_CLOEXEC), 0);
  Counter c;
  r->add(fds[1], lanes::detail::kWritable | lanes::detail::kEdgeTriggered, &c);
  r->poll(0ns);
  r->remove(fds[1]);
  ::close(fds[1]);
  char b;
  // The reader sees the end at once: nothing in the backend holds the write end.
  EXPECT_EQ(::read(fds[0], &b, 1), 0);
  ::close(fds[0]);
}

INSTANTIATE_TEST_SUITE_P(Backends, EachBackend, ::testing::Values(Backend::epoll, Backend::io_uring),
                         [](const auto& info) { return std::string(lanes::backend_name(info.param)); });

TEST(BackendChoice, ExplicitChoicesAreHonoured) {
  EXPECT_EQ(lanes::detail::make_reactor(Backend::epoll)->backend(), Backend::epoll);
  lanes::EventLoop loop(Backend::epoll);
  EXPECT_EQ(loop.reactor().backend(), Backend::epoll);
  auto ring = uring_or_skip();
  const Backend expected = ring ? Backend::io_uring : Backend::epoll;  // falls back, never fails
  EXPECT_EQ(lanes::detail::make_reactor(Backend::io_uring)->backend(), expected);
}

TEST(BackendChoice, TheEnvironmentDecidesAutomatic) {
  const char* env = std::getenv("LANES_BACKEND");
  const std::string saved = env ? env : "";
  const bool have_ring = uring_or_skip() != nullptr;
  ::setenv("LANES_BACKEND", "epoll", 1);
  EXPECT_EQ(lanes::detail::make_reactor()->backend(), Backend::epoll);
  ::setenv("LANES_BACKEND", "io_uring", 1);
  EXPECT_EQ(lanes::detail::make_reactor()->backend(), have_ring ? Backend::io_uring : Backend::epoll);
  ::setenv("LANES_BACKEND", "kqueue", 1);
  EXPECT_THROW(lanes::detail::make_reactor(), lanes::ValueError);
  EXPECT_EQ(lanes::detail::make_reactor(Backend::epoll)->backend(), Backend::epoll);  // not consulted
  ::unsetenv("LANES_BACKEND");
  EXPECT_EQ(lanes::detail::make_reactor()->backend(), have_ring ? Backend::io_uring : Backend::epoll);
  if (env) ::setenv("LANES_BACKEND", saved.c_str(), 1);
}

TEST(BackendChoice, EpollDoesNotCompleteOperations) {
  auto r = lanes::detail::make_epoll_reactor();
  EXPECT_FALSE(r->completes_operations());
  IoOp op;
  EXPECT_THROW(r->submit(op), lanes::RuntimeError);
}

struct CountedOp : IoOp {
  int* done;
  int result = 1;
  char byte = 0;
};

void count_done(IoOp* op, int result) noexcept {
  auto* c = static_cast<CountedOp*>(op);
  c->result = result;
  ++*c->done;
}

TEST(UringReactor, ManyMoreOperationsThanTheQueuesHoldAllComplete) {
  auto r = uring_or_skip();
  if (!r) GTEST_SKIP() << "io_uring unavailable here";
  const int zero = ::open("/dev/zero", O_RDONLY | O_CLOEXEC);
  ASSERT_GE(zero, 0);
  // 6000 reads queued without polling: the submission queue (256) fills many
  // times over, and the completion queue (4096) overflows into the kernel's list.
  constexpr int kOps = 6000;
  std::vector<CountedOp> ops(kOps);
  int done = 0;
  for (auto& op : ops) {
    op.code = IoOp::Code::read;
    op.fd = zero;
    op.buffer = &op.byte;
    op.length = 1;
    op.offset = 0;
    op.done = &done;
    op.byte = 7;
    op.on_complete = &count_done;
    r->submit(op);
  }
  EXPECT_TRUE(poll_until(*r, [&] { return done == kOps; }));
  EXPECT_EQ(done, kOps);
  int good = 0;
  for (auto& op : ops) good += (op.result == 1 && op.byte == 0);
  EXPECT_EQ(good, kOps);
  ::close(zero);
}

TEST(UringReactor, CancelEndsAnOperationThatWouldWaitForever) {
  auto r = uring_or_skip();
  if (!r) GTEST_SKIP() << "io_uring unavailable here";
  int fds[2];
  ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0);  // blocking: the read waits inside the kernel
  int done = 0;
  CountedOp op;
  op.code = IoOp::Code::read;
  op.fd = fds[0];
  op.buffer = &op.byte;
  op.length = 1;
  op.offset = ~std::uint64_t{0};
  op.done = &done;
  op.on_complete = &count_done;
  r->submit(op);
  r->poll(0ns);
  EXPECT_EQ(done, 0);
  r->cancel(op);
  EXPECT_TRUE(poll_until(*r, [&] { return done == 1; }));
  EXPECT_EQ(op.result, -ECANCELED);
  ::close(fds[0]);
  ::close(fds[1]);
}

TEST(UringReactor, DestroyedWithOperationsInFlightCompletesEachOne) {
  auto r = uring_or_skip();
  if (!r) GTEST_SKIP() << "io_uring unavailable here";
  int fds[2];
  ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0);
  int done = 0;
  std::vector<CountedOp> ops(8);
  for (auto& op : ops) {
    op.code = IoOp::Code::read;
    op.fd = fds[0];
    op.buffer = &op.byte;
    op.length = 1;
    op.offset = ~std::uint64_t{0};
    op.done = &done;
    op.on_complete = &count_done;
    r->submit(op);
  }
  r->poll(0ns);
  r.reset();  // cancels, and waits for every completion before the ring goes
  EXPECT_EQ(done, 8);
  for (auto& op : ops) EXPECT_EQ(op.result, -ECANCELED);
  ::close(fds[0]);
  ::close(fds[1]);
}

TEST(UringReactor, SendAndRecvCompleteFromTheRing) {
  auto r = uring_or_skip();
  if (!r) GTEST_SKIP() << "io_uring unavailable here";
  int sv[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
  int done = 0;
  char in[8] = {};
  char out[] = "ring";
  CountedOp recv_op, send_op;
  recv_op.code = IoOp::Code::recv;  // submitted first: it waits for the data
  recv_op.fd = sv[1];
  recv_op.buffer = in;
  recv_op.length = sizeof in;
  recv_op.done = &done;
  recv_op.on_complete = &count_done;
  send_op.code = IoOp::Code::send;
  send_op.fd = sv[0];
  send_op.buffer = out;
  send_op.length = 4;
  send_op.done = &done;
  send_op.on_complete = &count_done;
  r->submit(recv_op);
  r->poll(0ns);
  r->submit(send_op);
  EXPECT_TRUE(poll_until(*r, [&] { return done == 2; }));
  EXPECT_EQ(send_op.result, 4);
  EXPECT_EQ(recv_op.result, 4);
  EXPECT_EQ(std::string(in, 4), "ring");
  ::close(sv[0]);
  ::close(sv[1]);
}

TEST(UringReactor, AWholeLoopRunsOnIt) {
  if (!uring_or_skip()) GTEST_SKIP() << "io_uring unavailable here";
  lanes::EventLoop loop(Backend::io_uring);
  EXPECT_EQ(loop.reactor().backend(), Backend::io_uring);
  int seen = 0;
  loop.call_soon_threadsafe([&] { ++seen; });
  loop.call_later(1ms, [&] {
    ++seen;
    loop.stop();
  });
  loop.run_forever();
  EXPECT_EQ(seen, 2);
}

}  // namespace
