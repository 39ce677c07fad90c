// Signals delivered to the loop, and lanes::run turning SIGINT into cancellation.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <lanes/loop.hpp>
#include <lanes/signal.hpp>
#include <lanes/sync.hpp>
#include <lanes/time.hpp>

#include <chrono>
#include <thread>

using namespace std::chrono_literals;

namespace {

/// Gives SIGINT its default disposition for a test (a shell may start background
/// jobs with it ignored), and restores what was there.
class DefaultSigint {
 public:
  DefaultSigint() {
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    sigemptyset(&dfl.sa_mask);
    sigaction(SIGINT, &dfl, &saved_);
  }
  ~DefaultSigint() { sigaction(SIGINT, &saved_, nullptr); }

 private:
  struct sigaction saved_ {};
};

TEST(Signal, HandlerRunsOnTheLoop) {
  lanes::run([]() -> lanes::Task<void> {
    lanes::Event got;
    int calls = 0;
    const auto loop_thread = std::this_thread::get_id();
    bool on_loop_thread = false;
    lanes::add_signal_handler(SIGUSR1, [&] {
      ++calls;
      on_loop_thread = std::this_thread::get_id() == loop_thread;
      got.set();
    });
    ::kill(::getpid(), SIGUSR1);
    co_await got.wait();
    EXPECT_GE(calls, 1);
    EXPECT_TRUE(on_loop_thread);
    EXPECT_TRUE(lanes::remove_signal_handler(SIGUSR1));
    EXPECT_FALSE(lanes::remove_signal_handler(SIGUSR1));
  }());
}

TEST(Signal, DeliveredFromAnotherThread) {
  lanes::run([]() -> lanes::Task<void> {
    lanes::Event got;
    lanes::add_signal_handler(SIGUSR2, [&] { got.set(); });
    std::thread sender([] { ::kill(::getpid(), SIGUSR2); });
    co_await got.wait();
    sender.join();
    lanes::remove_signal_handler(SIGUSR2);
  }());
}

TEST(Signal, RemovingRestoresThePreviousDisposition) {
  struct sigaction before {};
  sigaction(SIGUSR1, nullptr, &before);
  lanes::run([]() -> lanes::Task<void> {
    lanes::add_signal_handler(SIGUSR1, [] {});
    struct sigaction during {};
    sigaction(SIGUSR1, nullptr, &during);
    EXPECT_NE(during.sa_handler, SIG_DFL);
    lanes::remove_signal_handler(SIGUSR1);
    co_return;
  }());
  struct sigaction after {};
  sigaction(SIGUSR1, nullptr, &after);
  EXPECT_EQ(after.sa_handler, before.sa_handler);
}

TEST(Signal, LoopCloseRemovesItsHandlers) {
  lanes::run([]() -> lanes::Task<void> {
    lanes::add_signal_handler(SIGUSR1, [] {});
    co_return;
  }());
  struct sigaction after {};
  sigaction(SIGUSR1, nullptr, &after);
  EXPECT_EQ(after.sa_handler, SIG_DFL);
}

TEST(Signal, UncatchableAndInvalidSignalsAreRefused) {
  lanes::run([]() -> lanes::Task<void> {
    EXPECT_THROW(lanes::add_signal_handler(SIGKILL, [] {}), lanes::ValueError);
    EXPECT_THROW(lanes::add_signal_handler(0, [] {}), lanes::ValueError);
    EXPECT_THROW(lanes::add_signal_handler(1000, [] {}), lanes::ValueError);
    co_return;
  }());
}

TEST(Signal, AHandlerThatThrowsIsReported) {
  lanes::run([]() -> lanes::Task<void> {
    int reports = 0;
    lanes::Event got;
    lanes::get_running_loop().set_exception_handler([&](lanes::EventLoop&, const lanes::ExceptionContext&) {
      ++reports;
      got.set();
    });
    lanes::add_signal_handler(SIGUSR1, [] { throw std::runtime_error("handler failed"); });
    ::kill(::getpid(), SIGUSR1);
    co_await got.wait();
    EXPECT_EQ(reports, 1);
    lanes::remove_signal_handler(SIGUSR1);
  }());
}

TEST(Signal, TwoLoopsCannotShareASignal) {
  std::atomic<bool> owned{false}, release{false};
  std::thread other([&] {
    lanes::run([](std::atomic<bool>& owned, std::atomic<bool>& release) -> lanes::Task<void> {
      lanes::add_signal_handler(SIGUSR2, [] {});
      owned = true;
      while (!release) co_await lanes::sleep(1ms);
    }(owned, release));
  });
  while (!owned) std::this_thread::yield();
  lanes::run([]() -> lanes::Task<void> {
    EXPECT_THROW(lanes::add_signal_handler(SIGUSR2, [] {}), lanes::RuntimeError);
    co_return;
  }());
  release = true;
  other.join();
}

TEST(Signal, SigintCancelsTheMainTaskAndItsCleanupRuns) {
  DefaultSigint scope;
  bool cleanup_ran = false;
  EXPECT_THROW(lanes::run([](bool& cleanup_ran) -> lanes::Task<void> {
                 lanes::get_running_loop().call_soon([] { ::kill(::getpid(), SIGINT); });
                 try {
                   co_await lanes::sleep(60s);
                 } catch (const lanes::CancelledError&) {
                   cleanup_ran = true;
                   throw;
                 }
               }(cleanup_ran)),
               lanes::KeyboardInterrupt);
  EXPECT_TRUE(cleanup_ran);
  struct sigaction after {};
  sigaction(SIGINT, nullptr, &after);
  EXPECT_EQ(after.sa_handler, SIG_DFL);
}

TEST(Signal, FirstSigintRestoresTheDefaultAtOnce) {
  // So that a second Ctrl-C kills a program whose loop is stuck (never polls).
#if defined(LANES_SANITIZED_THREAD)
  constexpr bool kHandlerRunsInRaise = false;  // TSan defers handlers to a later point
#else
  constexpr bool kHandlerRunsInRaise = true;
#endif
  DefaultSigint scope;
  auto body = []() -> lanes::Task<void> {
    struct sigaction before {};
    sigaction(SIGINT, nullptr, &before);
    EXPECT_NE(before.sa_handler, SIG_DFL);
    ::raise(SIGINT);
    struct sigaction after {};
    sigaction(SIGINT, nullptr, &after);
    if (kHandlerRunsInRaise) {
      EXPECT_EQ(after.sa_handler, SIG_DFL);  // the loop ran nothing yet
    }
    co_await lanes::sleep(60s);
  };
  EXPECT_THROW(lanes::run(body()), lanes::KeyboardInterrupt);
}

TEST(Signal, MainThatSwallowsSigintReturnsNormally) {
  DefaultSigint scope;
  const int value = lanes::run([]() -> lanes::Task<int> {
    lanes::get_running_loop().call_soon([] { ::kill(::getpid(), SIGINT); });
    try {
      co_await lanes::sleep(60s);
    } catch (const lanes::CancelledError&) {
      co_return 7;
    }
    co_return 0;
  }());
  EXPECT_EQ(value, 7);
}

TEST(Signal, UserSigintHandlerTakesPrecedence) {
  DefaultSigint scope;
  lanes::run([]() -> lanes::Task<void> {
    lanes::Event got;
    lanes::add_signal_handler(SIGINT, [&] { got.set(); });
    ::kill(::getpid(), SIGINT);
    co_await got.wait();  // the main task was not cancelled
    lanes::remove_signal_handler(SIGINT);
  }());
}

}  // namespace
