// UDP endpoints over loopback: round trip, connected endpoints, errors, cancellation.
#include <gtest/gtest.h>
#include <sys/socket.h>

#include <lanes/combinators.hpp>
#include <lanes/datagram.hpp>
#include <lanes/loop.hpp>
#include <lanes/time.hpp>

#include <chrono>
#include <string>
#include <vector>

using namespace std::chrono_literals;

namespace {

TEST(Datagram, RoundTrip) {
  lanes::run([]() -> lanes::Task<void> {
    auto server = co_await lanes::create_datagram_endpoint({.local_host = "127.0.0.1"});
    const auto server_addr = server.sockname();
    EXPECT_NE(server_addr.port, 0);
    auto client = co_await lanes::create_datagram_endpoint({.local_host = "127.0.0.1"});
    co_await client.sendto("ping", server_addr);
    auto [data, from] = co_await server.recvfrom();
    EXPECT_EQ(data, "ping");
    EXPECT_EQ(from, client.sockname());
    co_await server.sendto("pong", from);
    auto [reply, replier] = co_await client.recvfrom();
    EXPECT_EQ(reply, "pong");
    EXPECT_EQ(replier, server_addr);
  }());
}

TEST(Datagram, ConnectedEndpointSendsAndReceives) {
  lanes::run([]() -> lanes::Task<void> {
    auto server = co_await lanes::create_datagram_endpoint({.local_host = "127.0.0.1"});
    const auto port = server.sockname().port;
    auto client = co_await lanes::create_datagram_endpoint({.remote_host = "127.0.0.1", .remote_port = port});
    EXPECT_EQ(client.peername().port, port);
    for (int i = 0; i < 10; ++i) {
      const std::string msg = "n" + std::to_string(i);  // outlives the co_await
      co_await client.send(msg);
    }
    for (int i = 0; i < 10; ++i) {
      auto [data, from] = co_await server.recvfrom();
      EXPECT_EQ(data, "n" + std::to_string(i));  // loopback keeps order
      co_await server.sendto(data, from);
    }
    for (int i = 0; i < 10; ++i) EXPECT_EQ((co_await client.recvfrom()).first, "n" + std::to_string(i));
  }());
}

TEST(Datagram, NobodyListeningIsConnectionRefusedOnAConnectedEndpoint) {
  lanes::run([]() -> lanes::Task<void> {
    std::uint16_t port;
    {
      auto gone = co_await lanes::create_datagram_endpoint({.local_host = "127.0.0.1"});
      port = gone.sockname().port;
      gone.close();
    }
    auto client = co_await lanes::create_datagram_endpoint({.remote_host = "127.0.0.1", .remote_port = port});
    co_await client.send("anyone?");
    EXPECT_THROW(co_await client.recvfrom(), lanes::ConnectionRefusedError);
  }());
}

TEST(Datagram, CancelledReceiveLeavesTheEndpointUsable) {
  lanes::run([]() -> lanes::Task<void> {
    auto server = co_await lanes::create_datagram_endpoint({.local_host = "127.0.0.1"});
    EXPECT_THROW(co_await lanes::timeout(10ms, [&]() -> lanes::Task<std::string> {
      co_return (co_await server.recvfrom()).first;
    }), lanes::TimeoutError);
    auto client = co_await lanes::create_datagram_endpoint({.local_host = "127.0.0.1"});
    co_await client.sendto("late", server.sockname());
    EXPECT_EQ((co_await server.recvfrom()).first, "late");
  }());
}

TEST(Datagram, LongDatagramIsCutToMaxSize) {
  lanes::run([]() -> lanes::Task<void> {
    auto server = co_await lanes::create_datagram_endpoint({.local_host = "127.0.0.1"});
    auto client = co_await lanes::create_datagram_endpoint({.local_host = "127.0.0.1"});
    const std::string big(1000, 'x');
    co_await client.sendto(big, server.sockname());
    auto [data, from] = co_await server.recvfrom(10);
    EXPECT_EQ(data, std::string(10, 'x'));
  }());
}

TEST(Datagram, ClosedEndpointRefusesWork) {
  lanes::run([]() -> lanes::Task<void> {
    auto ep = co_await lanes::create_datagram_endpoint({.local_host = "127.0.0.1"});
    const auto addr = ep.sockname();
    ep.close();
    EXPECT_TRUE(ep.is_closing());
    EXPECT_THROW(co_await ep.sendto("x", addr), lanes::RuntimeError);
    EXPECT_THROW(co_await ep.recvfrom(), lanes::RuntimeError);
  }());
}

TEST(Datagram, NonNumericSendtoAddressIsRefused) {
  lanes::run([]() -> lanes::Task<void> {
    auto ep = co_await lanes::create_datagram_endpoint({.local_host = "127.0.0.1"});
    lanes::SocketAddress named{AF_INET, "example.invalid", 9};
    EXPECT_THROW(co_await ep.sendto("x", named), lanes::ValueError);
  }());
}

TEST(Datagram, NeitherAddressIsAValueError) {
  lanes::run([]() -> lanes::Task<void> {
    EXPECT_THROW(co_await lanes::create_datagram_endpoint({}), lanes::ValueError);
  }());
}

TEST(Datagram, Ipv6RoundTrip) {
  bool skipped = false;
  lanes::run([](bool& skipped) -> lanes::Task<void> {
    lanes::DatagramEndpoint server;
    try {
      server = co_await lanes::create_datagram_endpoint({.local_host = "::1"});
    } catch (const lanes::OSError&) {
      skipped = true;
    }
    if (skipped) co_return;
    auto client = co_await lanes::create_datagram_endpoint({.local_host = "::1"});
    co_await client.sendto("six", server.sockname());
    auto [data, from] = co_await server.recvfrom();
    EXPECT_EQ(data, "six");
    EXPECT_EQ(from.family, AF_INET6);
  }(skipped));
  if (skipped) GTEST_SKIP() << "no IPv6 loopback here";
}

// Closing with a receive parked (on io_uring: a RECVMSG armed in the ring) wakes
// it with RuntimeError, really closes the socket (its port can be bound again as
// soon as the waiter has woken) and leaves nothing that a late completion could write into (ASan).
TEST(Datagram, CloseWithAReceiveArmedWakesItAndFreesThePort) {
  lanes::run([]() -> lanes::Task<void> {
    auto server = co_await lanes::create_datagram_endpoint({.local_host = "127.0.0.1"});
    const auto port = server.sockname().port;
    auto pending = lanes::create_task([](lanes::DatagramEndpoint ep) -> lanes::Task<std::string> {
      co_return (co_await ep.recvfrom()).first;
    }(server));
    co_await lanes::sleep(0s);  // the receive starts and parks
    server.close();
    EXPECT_THROW(co_await pending, lanes::RuntimeError);
    server = lanes::DatagramEndpoint();  // the last reference: the core goes
    auto again = co_await lanes::create_datagram_endpoint({.local_host = "127.0.0.1", .local_port = port});
    auto client = co_await lanes::create_datagram_endpoint({.local_host = "127.0.0.1"});
    co_await client.sendto("back", again.sockname());
    EXPECT_EQ((co_await again.recvfrom()).first, "back");
  }());
}

// An endpoint dropped while a cancelled receive is still armed in the ring: the
// operation's record outlives it and the cancel's completion frees it (ASan).
TEST(Datagram, DroppedAfterACancelledReceive) {
  lanes::run([]() -> lanes::Task<void> {
    {
      auto server = co_await lanes::create_datagram_endpoint({.local_host = "127.0.0.1"});
      EXPECT_THROW(co_await lanes::timeout(5ms, [&]() -> lanes::Task<std::string> {
        co_return (co_await server.recvfrom()).first;
      }), lanes::TimeoutError);
    }
    // More iterations of the loop: the cancellation completes meanwhile.
    auto a = co_await lanes::create_datagram_endpoint({.local_host = "127.0.0.1"});
    auto b = co_await lanes::create_datagram_endpoint({.local_host = "127.0.0.1"});
    co_await a.sendto("still fine", b.sockname());
    EXPECT_EQ((co_await b.recvfrom()).first, "still fine");
  }());
}

// A burst of datagrams each way, sent before any is received: below the socket's
// receive buffer none is lost on loopback, and the order is kept.
class DatagramBurst : public ::testing::TestWithParam<int> {};

TEST_P(DatagramBurst, NoLossAndInOrderBothWays) {
  const int count = GetParam();
  lanes::run([](int count) -> lanes::Task<void> {
    auto server = co_await lanes::create_datagram_endpoint({.local_host = "127.0.0.1"});
    auto client = co_await lanes::create_datagram_endpoint({.remote_host = "127.0.0.1", .remote_port = server.sockname().port});
    std::vector<std::string> msgs;
    for (int i = 0; i < count; ++i) msgs.push_back("datagram " + std::to_string(i));
    for (const auto& m : msgs) co_await client.send(m);
    std::vector<std::pair<std::string, lanes::SocketAddress>> got;
    for (int i = 0; i < count; ++i) got.push_back(co_await server.recvfrom());
    for (int i = 0; i < count; ++i) EXPECT_EQ(got[static_cast<std::size_t>(i)].first, msgs[static_cast<std::size_t>(i)]);
    for (const auto& [data, from] : got) co_await server.sendto(data, from);
    for (int i = 0; i < count; ++i) EXPECT_EQ((co_await client.recvfrom()).first, msgs[static_cast<std::size_t>(i)]);
  }(count));
}

INSTANTIATE_TEST_SUITE_P(Datagram, DatagramBurst, ::testing::Values(1, 16, 128));

// Datagrams that sendto() accepted are delivered even if the endpoint is closed
// right after (on io_uring they may still wait in the ring's queue).
TEST(Datagram, DatagramsSentJustBeforeCloseAreDelivered) {
  lanes::run([]() -> lanes::Task<void> {
    auto server = co_await lanes::create_datagram_endpoint({.local_host = "127.0.0.1"});
    auto client = co_await lanes::create_datagram_endpoint({.local_host = "127.0.0.1"});
    for (int i = 0; i < 50; ++i) {
      const std::string msg = "m" + std::to_string(i);
      co_await client.sendto(msg, server.sockname());
    }
    client.close();
    EXPECT_THROW(co_await client.sendto("late", server.sockname()), lanes::RuntimeError);
    for (int i = 0; i < 50; ++i) EXPECT_EQ((co_await server.recvfrom()).first, "m" + std::to_string(i));
  }());
}

// A connected endpoint whose peer is gone: the ICMP error surfaces in a receive as
// ConnectionRefusedError, and the endpoint keeps working once a peer is back on
// that port.
TEST(Datagram, ConnectionRefusedThenThePeerComesBack) {
  lanes::run([]() -> lanes::Task<void> {
    std::uint16_t port;
    {
      auto gone = co_await lanes::create_datagram_endpoint({.local_host = "127.0.0.1"});
      port = gone.sockname().port;
    }
    auto client = co_await lanes::create_datagram_endpoint({.remote_host = "127.0.0.1", .remote_port = port});
    co_await client.send("anyone?");
    EXPECT_THROW(co_await client.recvfrom(), lanes::ConnectionRefusedError);
    auto back = co_await lanes::create_datagram_endpoint({.local_host = "127.0.0.1", .local_port = port});
    co_await client.send("hello again");
    auto [data, from] = co_await back.recvfrom();
    EXPECT_EQ(data, "hello again");
    co_await back.sendto("welcome", from);
    EXPECT_EQ((co_await client.recvfrom()).first, "welcome");
  }());
}

// The loop closes while an endpoint that outlives it has a receive armed (and a
// task parked in it): the closing ring completes the operation, and the endpoint
// closed afterwards touches neither the loop nor freed memory (ASan).
TEST(Datagram, EndpointOutlivesItsLoopWithAReceiveArmed) {
  lanes::DatagramEndpoint kept;
  lanes::run([](lanes::DatagramEndpoint& kept) -> lanes::Task<void> {
    kept = co_await lanes::create_datagram_endpoint({.local_host = "127.0.0.1"});
    auto waiting = lanes::create_task([](lanes::DatagramEndpoint ep) -> lanes::Task<std::string> {
      co_return (co_await ep.recvfrom()).first;
    }(kept));
    co_await lanes::sleep(0s);  // the receive starts and parks; the loop closes under it
  }(kept));
  EXPECT_FALSE(kept.is_closing());
  kept.close();
  EXPECT_TRUE(kept.is_closing());
}

// send() needs a connected endpoint: refused at once on both backends.
TEST(Datagram, SendOnAnUnconnectedEndpointIsRefused) {
  lanes::run([]() -> lanes::Task<void> {
    auto ep = co_await lanes::create_datagram_endpoint({.local_host = "127.0.0.1"});
    EXPECT_THROW(co_await ep.send("to nobody"), lanes::OSError);
    auto peer = co_await lanes::create_datagram_endpoint({.local_host = "127.0.0.1"});
    co_await ep.sendto("still usable", peer.sockname());
    EXPECT_EQ((co_await peer.recvfrom()).first, "still usable");
  }());
}

}  // namespace
