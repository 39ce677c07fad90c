// UDP endpoints over loopback: round trip, connected endpoints, errors, cancellation.
#include <gtest/gtest.h>
#include <sys/socket.h>

#include <lanes/combinators.hpp>
#include <lanes/datagram.hpp>
#include <lanes/loop.hpp>
#include <lanes/time.hpp>

#include <chrono>
#include <string>

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

}  // namespace
