// StreamReader without a transport (fed by feed_data), as asyncio's tests use it:
// read, readline, readuntil, readexactly, limits, errors, cancellation.
#include <gtest/gtest.h>

#include <lanes/combinators.hpp>
#include <lanes/loop.hpp>
#include <lanes/streams.hpp>
#include <lanes/time.hpp>

#include <chrono>
#include <string>

using namespace std::chrono_literals;

namespace {

TEST(StreamReaderFed, ReadReturnsWhatIsBuffered) {
  lanes::run([]() -> lanes::Task<void> {
    lanes::StreamReader r;
    r.feed_data("hello world");
    EXPECT_EQ(co_await r.read(5), "hello");
    EXPECT_EQ(co_await r.read(100), " world");
    r.feed_eof();
    EXPECT_EQ(co_await r.read(10), "");
    EXPECT_TRUE(r.at_eof());
  }());
}

TEST(StreamReaderFed, ReadAllUntilEof) {
  lanes::run([]() -> lanes::Task<void> {
    lanes::StreamReader r;
    auto feeder = lanes::create_task([](lanes::StreamReader r) -> lanes::Task<void> {
      for (int i = 0; i < 3; ++i) {
        r.feed_data("ab");
        co_await lanes::sleep(0s);
      }
      r.feed_eof();
    }(r));
    EXPECT_EQ(co_await r.read(), "ababab");
    co_await feeder;
  }());
}

TEST(StreamReaderFed, ReadWaitsForData) {
  lanes::run([]() -> lanes::Task<void> {
    lanes::StreamReader r;
    auto reader = lanes::create_task(r.read(10));
    co_await lanes::sleep(0s);
    EXPECT_FALSE(reader.done());
    r.feed_data("x");
    EXPECT_EQ(co_await reader, "x");
  }());
}

TEST(StreamReaderFed, ReadlineSplitsLines) {
  lanes::run([]() -> lanes::Task<void> {
    lanes::StreamReader r;
    r.feed_data("one\ntwo\nthr");
    EXPECT_EQ(co_await r.readline(), "one\n");
    EXPECT_EQ(co_await r.readline(), "two\n");
    r.feed_data("ee");
    r.feed_eof();
    EXPECT_EQ(co_await r.readline(), "three");
    EXPECT_EQ(co_await r.readline(), "");
  }());
}

TEST(StreamReaderFed, ReaduntilMultiByteSeparatorAcrossFeeds) {
  lanes::run([]() -> lanes::Task<void> {
    lanes::StreamReader r;
    auto t = lanes::create_task(r.readuntil("\r\n\r\n"));
    r.feed_data("GET / HTTP/1.1\r\nHost: x\r\n\r");
    co_await lanes::sleep(0s);
    EXPECT_FALSE(t.done());
    r.feed_data("\nbody");
    EXPECT_EQ(co_await t, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    EXPECT_EQ(co_await r.read(4), "body");
  }());
}

TEST(StreamReaderFed, ReaduntilAtEofThrowsIncompleteReadWithPartial) {
  lanes::run([]() -> lanes::Task<void> {
    lanes::StreamReader r;
    r.feed_data("no separator");
    r.feed_eof();
    try {
      co_await r.readuntil("\n");
      ADD_FAILURE() << "readuntil should have thrown";
    } catch (const lanes::IncompleteReadError& e) {
      EXPECT_EQ(e.partial(), "no separator");
    }
  }());
}

TEST(StreamReaderFed, ReaduntilOverLimitKeepsData) {
  lanes::run([]() -> lanes::Task<void> {
    lanes::StreamReader r(8);
    r.feed_data("0123456789\n");
    EXPECT_THROW(co_await r.readuntil("\n"), lanes::LimitOverrunError);
    // The data stays: read() still sees it.
    EXPECT_EQ(co_await r.read(100), "0123456789\n");
  }());
}

TEST(StreamReaderFed, ReadlineOverLimitDropsTheLineAndIsAValueError) {
  lanes::run([]() -> lanes::Task<void> {
    lanes::StreamReader r(4);
    r.feed_data("toolong\nok\n");
    EXPECT_THROW(co_await r.readline(), lanes::ValueError);
    EXPECT_EQ(co_await r.readline(), "ok\n");
  }());
}

TEST(StreamReaderFed, ReadexactlyWaitsForAll) {
  lanes::run([]() -> lanes::Task<void> {
    lanes::StreamReader r;
    auto t = lanes::create_task(r.readexactly(6));
    r.feed_data("abc");
    co_await lanes::sleep(0s);
    EXPECT_FALSE(t.done());
    r.feed_data("defg");
    EXPECT_EQ(co_await t, "abcdef");
    r.feed_eof();
    EXPECT_EQ(co_await r.read(), "g");
  }());
}

TEST(StreamReaderFed, ReadexactlyAtEarlyEofCarriesPartial) {
  lanes::run([]() -> lanes::Task<void> {
    lanes::StreamReader r;
    r.feed_data("abc");
    r.feed_eof();
    try {
      co_await r.readexactly(10);
      ADD_FAILURE() << "readexactly should have thrown";
    } catch (const lanes::IncompleteReadError& e) {
      EXPECT_EQ(e.partial(), "abc");
      EXPECT_EQ(e.expected(), 10u);
    }
  }());
}

TEST(StreamReaderFed, SetExceptionFailsTheWaitingRead) {
  lanes::run([]() -> lanes::Task<void> {
    lanes::StreamReader r;
    auto t = lanes::create_task(r.read(1));
    co_await lanes::sleep(0s);
    r.set_exception(std::make_exception_ptr(lanes::ConnectionResetError(ECONNRESET, "reset")));
    EXPECT_THROW(co_await t, lanes::ConnectionResetError);
    EXPECT_THROW(co_await r.readline(), lanes::ConnectionResetError);
  }());
}

TEST(StreamReaderFed, CancelledReadLosesNothing) {
  lanes::run([]() -> lanes::Task<void> {
    lanes::StreamReader r;
    EXPECT_THROW(co_await lanes::wait_for(r.readexactly(4), 10ms), lanes::TimeoutError);
    r.feed_data("ab");
    EXPECT_THROW(co_await lanes::wait_for(r.readexactly(4), 10ms), lanes::TimeoutError);
    r.feed_data("cd");
    EXPECT_EQ(co_await r.readexactly(4), "abcd");
  }());
}

TEST(StreamReaderFed, TwoConcurrentReadsAreRefused) {
  lanes::run([]() -> lanes::Task<void> {
    lanes::StreamReader r;
    auto first = lanes::create_task(r.read(1));
    co_await lanes::sleep(0s);
    EXPECT_THROW(co_await r.read(1), lanes::RuntimeError);
    r.feed_data("z");
    EXPECT_EQ(co_await first, "z");
  }());
}

TEST(StreamReaderFed, ReadintoCopiesFromTheBuffer) {
  lanes::run([]() -> lanes::Task<void> {
    lanes::StreamReader r;
    r.feed_data("abcdef");
    char buf[4];
    EXPECT_EQ(co_await r.readinto(buf), 4u);
    EXPECT_EQ(std::string(buf, 4), "abcd");
    EXPECT_EQ(co_await r.readinto(buf), 2u);
    r.feed_eof();
    EXPECT_EQ(co_await r.readinto(buf), 0u);
  }());
}

TEST(StreamReaderFed, EmptySeparatorIsAValueError) {
  lanes::run([]() -> lanes::Task<void> {
    lanes::StreamReader r;
    EXPECT_THROW(co_await r.readuntil(""), lanes::ValueError);
  }());
}

TEST(StreamReaderFed, ZeroLimitIsRefused) { EXPECT_THROW(lanes::StreamReader(0), lanes::ValueError); }

}  // namespace
