// TCP and Unix connections and servers over loopback: round trips, bulk transfer,
// many connections, half-close, resets, cancellation, back-pressure, server life.
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <lanes/combinators.hpp>
#include <lanes/loop.hpp>
#include <lanes/net.hpp>
#include <lanes/sync.hpp>
#include <lanes/time.hpp>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

using namespace std::chrono_literals;

namespace {

lanes::Task<void> echo_handler(lanes::StreamReader reader, lanes::StreamWriter writer) {
  for (;;) {
    std::string data = co_await reader.read(65536);
    if (data.empty()) break;
    writer.write(data);
    co_await writer.drain();
  }
  writer.close();
}

std::uint64_t fnv1a(std::uint64_t h, std::string_view data) {
  for (unsigned char c : data) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}
constexpr std::uint64_t kFnvSeed = 14695981039346656037ull;

TEST(Net, EchoRoundTrip) {
  lanes::run([]() -> lanes::Task<void> {
    auto server = co_await lanes::start_server(echo_handler, "127.0.0.1", 0);
    EXPECT_NE(server.port(), 0);
    auto [reader, writer] = co_await lanes::open_connection("127.0.0.1", server.port());
    writer.write("hello\n");
    co_await writer.drain();
    EXPECT_EQ(co_await reader.readline(), "hello\n");
    EXPECT_EQ(writer.peername().port, server.port());
    EXPECT_EQ(writer.peername().host, "127.0.0.1");
    EXPECT_EQ(writer.sockname().family, AF_INET);
    EXPECT_EQ(writer.get_extra_info("peername"), writer.peername());
    EXPECT_FALSE(writer.get_extra_info("cipher").has_value());
    writer.close();
    co_await writer.wait_closed();
    server.close();
    co_await server.wait_closed();
  }());
}

TEST(Net, SixtyFourMebibytesArriveIntact) {
  lanes::run([]() -> lanes::Task<void> {
    const std::size_t kTotal = 64u << 20;
    std::uint64_t received_sum = kFnvSeed;
    std::size_t received = 0;
    lanes::Event done;
    auto server = co_await lanes::start_server(
        [&](lanes::StreamReader r, lanes::StreamWriter w) -> lanes::Task<void> {
          for (;;) {
            std::string chunk = co_await r.read(1 << 20);
            if (chunk.empty()) break;
            received += chunk.size();
            received_sum = fnv1a(received_sum, chunk);
          }
          w.close();
          done.set();
        },
        "127.0.0.1", 0);
    auto [reader, writer] = co_await lanes::open_connection("127.0.0.1", server.port());
    std::uint64_t sent_sum = kFnvSeed;
    std::string chunk(256 * 1024, '\0');
    std::uint32_t x = 12345;
    for (std::size_t sent = 0; sent < kTotal; sent += chunk.size()) {
      for (char& c : chunk) {
        x = x * 1664525u + 1013904223u;
        c = static_cast<char>(x >> 24);
      }
      sent_sum = fnv1a(sent_sum, chunk);
      writer.write(chunk);
      co_await writer.drain();
      EXPECT_LE(writer.get_write_buffer_size(), 64u * 1024 + chunk.size());
    }
    writer.write_eof();
    co_await done.wait();
    EXPECT_EQ(received, kTotal);
    EXPECT_EQ(received_sum, sent_sum);
    EXPECT_EQ(co_await reader.read(), "");  // the server closed after the end
  }());
}

TEST(Net, ThousandConcurrentConnections) {
  constexpr int kConnections = 1000;
  rlimit lim{};
  getrlimit(RLIMIT_NOFILE, &lim);
  if (lim.rlim_cur < 2 * kConnections + 64) GTEST_SKIP() << "needs " << 2 * kConnections + 64 << " descriptors";
  lanes::run([]() -> lanes::Task<void> {
    auto server = co_await lanes::start_server(echo_handler, "127.0.0.1", 0, {.backlog = 1024});
    const auto port = server.port();
    std::vector<lanes::Future<std::string>> clients;
    for (int i = 0; i < kConnections; ++i) {
      clients.push_back(lanes::create_task([](std::uint16_t port, int i) -> lanes::Task<std::string> {
        auto [r, w] = co_await lanes::open_connection("127.0.0.1", port);
        w.write("client " + std::to_string(i) + "\n");
        co_await w.drain();
        std::string line = co_await r.readline();
        w.close();
        co_return line;
      }(port, i)));
    }
    for (int i = 0; i < kConnections; ++i) EXPECT_EQ(co_await clients[i], "client " + std::to_string(i) + "\n");
    server.close();
    co_await server.wait_closed();
  }());
}

TEST(Net, HalfCloseLetsThePeerAnswer) {
  lanes::run([]() -> lanes::Task<void> {
    auto server = co_await lanes::start_server(
        [](lanes::StreamReader r, lanes::StreamWriter w) -> lanes::Task<void> {
          std::string all = co_await r.read();  // until the client's EOF
          w.write("got " + std::to_string(all.size()) + " bytes");
          w.close();
        },
        "127.0.0.1", 0);
    auto [reader, writer] = co_await lanes::open_connection("127.0.0.1", server.port());
    EXPECT_TRUE(writer.can_write_eof());
    writer.write("abcdef");
    writer.write_eof();
    EXPECT_THROW(writer.write("more"), lanes::RuntimeError);
    EXPECT_EQ(co_await reader.read(), "got 6 bytes");
    EXPECT_TRUE(reader.at_eof());
  }());
}

TEST(Net, PeerResetMidReadIsATypedErrorOnThatStreamOnly) {
  lanes::run([]() -> lanes::Task<void> {
    int handled = 0;
    auto server = co_await lanes::start_server(
        [&](lanes::StreamReader r, lanes::StreamWriter w) -> lanes::Task<void> {
          std::string cmd = co_await r.readline();
          ++handled;
          if (cmd == "reset\n") {
            w.abort();  // RST: the client's pending read fails
          } else {
            w.write("fine\n");
            co_await w.drain();
          }
        },
        "127.0.0.1", 0);
    auto [r1, w1] = co_await lanes::open_connection("127.0.0.1", server.port());
    auto [r2, w2] = co_await lanes::open_connection("127.0.0.1", server.port());
    auto pending = lanes::create_task(r1.read(100));
    w1.write("reset\n");
    EXPECT_THROW(co_await pending, lanes::ConnectionResetError);
    // Writing to the reset connection fails too (never with SIGPIPE).
    EXPECT_THROW(
        {
          for (int i = 0; i < 100; ++i) {
            w1.write("x");
            co_await w1.drain();
          }
        },
        lanes::ConnectionError);
    // The other connection and the server are untouched.
    w2.write("hello\n");
    EXPECT_EQ(co_await r2.readline(), "fine\n");
    EXPECT_EQ(handled, 2);
  }());
}

TEST(Net, CancelledReadLeavesTheStreamUsable) {
  lanes::run([]() -> lanes::Task<void> {
    auto server = co_await lanes::start_server(echo_handler, "127.0.0.1", 0);
    auto [reader, writer] = co_await lanes::open_connection("127.0.0.1", server.port());
    EXPECT_THROW(co_await lanes::wait_for(reader.readline(), 20ms), lanes::TimeoutError);
    EXPECT_THROW(co_await lanes::wait_for(reader.read(10), 5ms), lanes::TimeoutError);
    writer.write("after\n");
    EXPECT_EQ(co_await reader.readline(), "after\n");
    // readinto too: cancelled while parked, then used again.
    char buf[16];
    EXPECT_THROW(co_await lanes::timeout(5ms, [&]() -> lanes::Task<std::size_t> {
      co_return co_await reader.readinto(buf);
    }), lanes::TimeoutError);
    writer.write("again");
    EXPECT_EQ(co_await reader.readexactly(5), "again");
  }());
}

TEST(Net, SlowReaderBoundsTheWritersBuffer) {
  lanes::run([]() -> lanes::Task<void> {
    constexpr std::size_t kHigh = 32 * 1024;
    constexpr std::size_t kChunk = 8 * 1024;
    constexpr std::size_t kTotal = 16u << 20;
    std::size_t max_buffered = 0;
    bool writer_waited = false;
    lanes::Event blocked;
    auto server = co_await lanes::start_server(
        [&](lanes::StreamReader, lanes::StreamWriter w) -> lanes::Task<void> {
          w.set_write_buffer_limits(kHigh);
          const std::string chunk(kChunk, 'z');
          for (std::size_t sent = 0; sent < kTotal; sent += kChunk) {
            w.write(chunk);
            max_buffered = std::max(max_buffered, w.get_write_buffer_size());
            if (w.get_write_buffer_size() > kHigh) {
              writer_waited = true;
              blocked.set();
            }
            co_await w.drain();
          }
          w.close();
        },
        "127.0.0.1", 0);
    auto [reader, writer] = co_await lanes::open_connection("127.0.0.1", server.port());
    co_await blocked.wait();  // the kernel buffers are full: the writer had to wait
    std::size_t got = 0;
    for (;;) {
      std::string part = co_await reader.read(4096);  // slowly, a little at a time
      if (part.empty()) break;
      got += part.size();
    }
    EXPECT_EQ(got, kTotal);
    EXPECT_TRUE(writer_waited);
    EXPECT_LE(max_buffered, kHigh + kChunk);
  }());
}

TEST(Net, ReadexactlyAtEarlyEof) {
  lanes::run([]() -> lanes::Task<void> {
    auto server = co_await lanes::start_server(
        [](lanes::StreamReader, lanes::StreamWriter w) -> lanes::Task<void> {
          w.write("short");
          w.close();
          co_return;
        },
        "127.0.0.1", 0);
    auto [reader, writer] = co_await lanes::open_connection("127.0.0.1", server.port());
    try {
      co_await reader.readexactly(100);
      ADD_FAILURE() << "readexactly should have thrown";
    } catch (const lanes::IncompleteReadError& e) {
      EXPECT_EQ(e.partial(), "short");
      EXPECT_EQ(e.expected(), 100u);
    }
  }());
}

TEST(Net, ConnectionRefused) {
  lanes::run([]() -> lanes::Task<void> {
    // A port that was just free: bind, note it, close.
    auto server = co_await lanes::start_server(echo_handler, "127.0.0.1", 0);
    const auto port = server.port();
    server.close();
    co_await server.wait_closed();
    EXPECT_THROW(co_await lanes::open_connection("127.0.0.1", port), lanes::ConnectionRefusedError);
  }());
}

TEST(Net, HandlerErrorGoesToTheExceptionHandlerAndTheServerGoesOn) {
  lanes::run([]() -> lanes::Task<void> {
    std::vector<std::string> reported;
    lanes::get_running_loop().set_exception_handler(
        [&](lanes::EventLoop&, const lanes::ExceptionContext& c) {
          reported.push_back(lanes::describe_exception(c.exception));
        });
    auto server = co_await lanes::start_server(
        [](lanes::StreamReader r, lanes::StreamWriter w) -> lanes::Task<void> {
          std::string line = co_await r.readline();
          if (line == "boom\n") throw std::runtime_error("handler failed");
          w.write(line);
        },
        "127.0.0.1", 0);
    {
      auto [r, w] = co_await lanes::open_connection("127.0.0.1", server.port());
      w.write("boom\n");
      EXPECT_EQ(co_await r.read(), "");  // the failed handler's stream closes
    }
    auto [r, w] = co_await lanes::open_connection("127.0.0.1", server.port());
    w.write("ok\n");
    EXPECT_EQ(co_await r.readline(), "ok\n");
    EXPECT_EQ(reported.size(), 1u);
    if (!reported.empty()) {
      EXPECT_NE(reported[0].find("handler failed"), std::string::npos);
    }
  }());
}

TEST(Net, ServeForeverReturnsWhenClosed) {
  lanes::run([]() -> lanes::Task<void> {
    auto server = co_await lanes::start_server(echo_handler, "127.0.0.1", 0, {.start_serving = false});
    EXPECT_FALSE(server.is_serving());
    auto forever = lanes::create_task(server.serve_forever());
    co_await lanes::sleep(0s);
    EXPECT_TRUE(server.is_serving());
    EXPECT_THROW(co_await server.serve_forever(), lanes::RuntimeError);
    auto [r, w] = co_await lanes::open_connection("127.0.0.1", server.port());
    w.write("x\n");
    EXPECT_EQ(co_await r.readline(), "x\n");
    server.close();
    co_await forever;
    EXPECT_FALSE(server.is_serving());
    EXPECT_TRUE(server.sockets().empty());
    // wait_closed also waits for the open connection.
    auto closed = lanes::create_task(server.wait_closed());
    co_await lanes::sleep(0s);
    EXPECT_FALSE(closed.done());
    w.close();
    co_await closed;
  }());
}

TEST(Net, CancellingServeForeverClosesTheServer) {
  lanes::run([]() -> lanes::Task<void> {
    auto server = co_await lanes::start_server(echo_handler, "127.0.0.1", 0);
    const auto port = server.port();
    EXPECT_THROW(co_await lanes::wait_for(server.serve_forever(), 10ms), lanes::TimeoutError);
    EXPECT_FALSE(server.is_serving());
    EXPECT_THROW(co_await lanes::open_connection("127.0.0.1", port), lanes::ConnectionRefusedError);
  }());
}

TEST(Net, CloseClientsEndsTheirHandlers) {
  lanes::run([]() -> lanes::Task<void> {
    auto server = co_await lanes::start_server(echo_handler, "127.0.0.1", 0);
    auto [r, w] = co_await lanes::open_connection("127.0.0.1", server.port());
    w.write("x\n");
    EXPECT_EQ(co_await r.readline(), "x\n");
    server.close();
    server.close_clients();
    EXPECT_EQ(co_await r.read(), "");
    co_await server.wait_closed();
  }());
}

TEST(Net, AddressInUse) {
  lanes::run([]() -> lanes::Task<void> {
    auto first = co_await lanes::start_server(echo_handler, "127.0.0.1", 0);
    try {
      co_await lanes::start_server(echo_handler, "127.0.0.1", first.port(), {.reuse_address = false});
      ADD_FAILURE() << "the second bind should fail";
    } catch (const lanes::OSError& e) {
      EXPECT_EQ(e.errno_value(), EADDRINUSE);
      EXPECT_EQ(e.code(), std::errc::address_in_use);
    }
  }());
}

TEST(Net, Ipv6Loopback) {
  bool skipped = false;
  lanes::run([](bool& skipped) -> lanes::Task<void> {
    lanes::Server server;
    try {
      server = co_await lanes::start_server(echo_handler, "::1", 0);
    } catch (const lanes::OSError&) {
      skipped = true;
    }
    if (skipped) co_return;
    auto [r, w] = co_await lanes::open_connection("::1", server.port());
    w.write("six\n");
    EXPECT_EQ(co_await r.readline(), "six\n");
    EXPECT_EQ(w.peername().family, AF_INET6);
    EXPECT_EQ(w.peername().to_string(), "[::1]:" + std::to_string(server.port()));
  }(skipped));
  if (skipped) GTEST_SKIP() << "no IPv6 loopback here";
}

TEST(Net, AllInterfacesAndLocalhost) {
  lanes::run([]() -> lanes::Task<void> {
    auto server = co_await lanes::start_server(echo_handler, "", 0);
    EXPECT_FALSE(server.sockets().empty());
    for (const auto& s : server.sockets()) EXPECT_EQ(s.getsockname().port, server.port());
    auto [r, w] = co_await lanes::open_connection("localhost", server.port());
    w.write("any\n");
    EXPECT_EQ(co_await r.readline(), "any\n");
  }());
}

TEST(Net, HostNameResolvedOffTheLoopThread) {
  char name[256] = {};
  gethostname(name, sizeof name - 1);
  std::string skipped;
  lanes::run([](std::string host, std::string& skipped) -> lanes::Task<void> {
    auto server = co_await lanes::start_server(echo_handler, "", 0);
    std::pair<lanes::StreamReader, lanes::StreamWriter> conn{lanes::StreamReader(), lanes::StreamWriter(nullptr)};
    try {
      conn = co_await lanes::open_connection(host, server.port());
    } catch (const lanes::GAIError&) {
      skipped = "the host name does not resolve here";
    } catch (const lanes::ConnectionRefusedError&) {
      skipped = "the host name does not resolve to this machine";
    }
    if (!skipped.empty()) co_return;
    conn.second.write("named\n");
    EXPECT_EQ(co_await conn.first.readline(), "named\n");
  }(name, skipped));
  if (!skipped.empty()) GTEST_SKIP() << skipped;
}

TEST(Net, UnknownHostIsAGaiError) {
  lanes::run([]() -> lanes::Task<void> {
    EXPECT_THROW(co_await lanes::open_connection("no-such-host.invalid", 80), lanes::GAIError);
  }());
}

TEST(Net, UnixSocketRoundTrip) {
  const std::string path = "/tmp/lanes-test-" + std::to_string(getpid()) + ".sock";
  lanes::run([](std::string path) -> lanes::Task<void> {
    auto server = co_await lanes::start_unix_server(echo_handler, path);
    EXPECT_EQ(server.sockets().at(0).family, AF_UNIX);
    auto [r, w] = co_await lanes::open_unix_connection(path);
    w.write("unix\n");
    EXPECT_EQ(co_await r.readline(), "unix\n");
    server.close();
    EXPECT_NE(access(path.c_str(), F_OK), 0);  // the socket file is removed
  }(path));
}

TEST(Net, UnixConnectToNothingFails) {
  lanes::run([]() -> lanes::Task<void> {
    EXPECT_THROW(co_await lanes::open_unix_connection("/tmp/lanes-no-such-socket"), lanes::FileNotFoundError);
  }());
}

TEST(Net, AcceptOutOfDescriptorsBacksOffAndRecovers) {
#if defined(LANES_SANITIZED_ADDRESS)
  // UBSan's type checks and ASan's reports open /proc files themselves, and fail
  // (aborting the test) while the process is out of descriptors.
  GTEST_SKIP() << "not under ASan+UBSan: their runtime needs descriptors too";
#endif
  rlimit old{};
  getrlimit(RLIMIT_NOFILE, &old);
  lanes::run([](rlimit old) -> lanes::Task<void> {
    int reports = 0;
    lanes::get_running_loop().set_exception_handler(
        [&](lanes::EventLoop&, const lanes::ExceptionContext& c) {
          if (lanes::describe_exception(c.exception).find("accept") != std::string::npos) ++reports;
        });
    {
      // Warm up what runs while descriptors are short, so that a sanitizer's
      // runtime (which opens files to check types) has nothing new to look up then.
      auto warm = co_await lanes::start_server(echo_handler, "127.0.0.1", 0);
      auto [r0, w0] = co_await lanes::open_connection("127.0.0.1", warm.port());
      w0.write("warm\n");
      EXPECT_EQ(co_await r0.readline(), "warm\n");
      (void)lanes::describe_exception(lanes::make_os_error(EMFILE, "accept()"));
      w0.close();
      co_await w0.wait_closed();
      warm.close();
      co_await warm.wait_closed();
    }
    // Leave room for the listening socket and the client's socket, not for the
    // server's accept. (Lowered before the server starts: io_uring reads the limit
    // when an accept is armed, as a blocking accept4 would when it is called.)
    const int probe = dup(0);
    close(probe);
    rlimit low = old;
    low.rlim_cur = static_cast<rlim_t>(probe + 2);
    EXPECT_EQ(setrlimit(RLIMIT_NOFILE, &low), 0);
    auto server = co_await lanes::start_server(echo_handler, "127.0.0.1", 0);
    const auto start = std::chrono::steady_clock::now();
    auto [r, w] = co_await lanes::open_connection("127.0.0.1", server.port());
    w.write("late\n");
    for (int i = 0; i < 100 && reports < 2; ++i) co_await lanes::sleep(10ms);
    EXPECT_GE(reports, 1);
    // Retries every 100 ms, not a busy loop: at most one report per 100 ms elapsed.
    const auto elapsed = std::chrono::steady_clock::now() - start;
    EXPECT_LE(reports, 2 + static_cast<int>(elapsed / 100ms));
    setrlimit(RLIMIT_NOFILE, &old);
    EXPECT_EQ(co_await r.readline(), "late\n");  // accepted once descriptors are back
  }(old));
  setrlimit(RLIMIT_NOFILE, &old);
}

double process_cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

TEST(Net, WaitingForIoDoesNotSpin) {
  lanes::run([]() -> lanes::Task<void> {
    auto server = co_await lanes::start_server(echo_handler, "127.0.0.1", 0);
    auto [reader, writer] = co_await lanes::open_connection("127.0.0.1", server.port());
    auto pending = lanes::create_task(reader.read(10));  // nothing will come for a while
    const double cpu0 = process_cpu_seconds();
    co_await lanes::sleep(300ms);
    const double used = process_cpu_seconds() - cpu0;
    // A loop that polled without sleeping would burn the whole 300 ms.
    EXPECT_LT(used, 0.15);
    writer.write("x");
    EXPECT_EQ(co_await pending, "x");
  }());
}

TEST(Net, StreamsOutliveTheirLoopSafely) {
  auto kept = lanes::run([]() -> lanes::Task<std::pair<lanes::StreamReader, lanes::StreamWriter>> {
    auto server = co_await lanes::start_server(echo_handler, "127.0.0.1", 0);
    auto conn = co_await lanes::open_connection("127.0.0.1", server.port());
    conn.second.write("pending");
    co_return conn;
  }());
  EXPECT_THROW(kept.second.write("x"), lanes::RuntimeError);
}

TEST(Net, WriterDroppedWithDataStillSendsIt) {
  lanes::run([]() -> lanes::Task<void> {
    constexpr std::size_t kBig = 8u << 20;
    auto server = co_await lanes::start_server(
        [](lanes::StreamReader, lanes::StreamWriter w) -> lanes::Task<void> {
          w.write(std::string(kBig, 'q'));  // far more than the kernel takes at once
          co_return;                        // handles dropped: the stream flushes, then closes
        },
        "127.0.0.1", 0);
    auto [r, w] = co_await lanes::open_connection("127.0.0.1", server.port());
    co_await lanes::sleep(10ms);
    std::string all = co_await r.read();
    EXPECT_EQ(all.size(), kBig);
  }());
}

}  // namespace
