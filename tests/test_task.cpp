// Task<T>: laziness, values, errors, and no stack growth on long or deep chains.
#include <gtest/gtest.h>

#include <lanes/lanes.hpp>

#include <cstdlib>

#include <memory>
#include <stdexcept>
#include <string>

namespace {

lanes::Task<int> value_of(int x) { co_return x; }

lanes::Task<void> set_flag(bool& flag) {
  flag = true;
  co_return;
}

lanes::Task<int> fails() {
  throw std::runtime_error("boom");
  co_return 0;
}

lanes::Task<int> depth(int n) {
  if (n == 0) co_return 0;
  co_return 1 + co_await depth(n - 1);
}

TEST(Task, IsLazyUntilAwaited) {
  bool ran = false;
  auto task = set_flag(ran);
  EXPECT_FALSE(ran);
  lanes::run(std::move(task));
  EXPECT_TRUE(ran);
}

TEST(Task, ReturnsValueThroughAwait) {
  auto outer = []() -> lanes::Task<int> { co_return co_await value_of(20) + co_await value_of(22); };
  EXPECT_EQ(lanes::run(outer()), 42);
}

TEST(Task, ExceptionTravelsThroughAwait) {
  auto outer = []() -> lanes::Task<std::string> {
    try {
      co_await fails();
    } catch (const std::runtime_error& e) {
      co_return e.what();
    }
    co_return "no error";
  };
  EXPECT_EQ(lanes::run(outer()), "boom");
}

TEST(Task, RunRethrowsMainsError) { EXPECT_THROW(lanes::run(fails()), std::runtime_error); }

TEST(Task, MillionSequentialAwaitsDoNotGrowTheStack) {
  auto loop = []() -> lanes::Task<long> {
    long total = 0;
    for (int i = 0; i < 1'000'000; ++i) total += co_await value_of(1);
    co_return total;
  };
  EXPECT_EQ(lanes::run(loop()), 1'000'000);
}

TEST(Task, RecursionHundredThousandDeep) { EXPECT_EQ(lanes::run(depth(100'000)), 100'000); }

TEST(Task, MoveOnlyResult) {
  auto make = []() -> lanes::Task<std::unique_ptr<int>> { co_return std::make_unique<int>(7); };
  auto outer = [&]() -> lanes::Task<int> {
    auto p = co_await make();
    co_return *p;
  };
  EXPECT_EQ(lanes::run(outer()), 7);
}

TEST(Task, AwaitingAnEmptyTaskThrowsInvalidState) {
  auto outer = []() -> lanes::Task<void> {
    lanes::Task<int> empty;
    co_await empty;
  };
  EXPECT_THROW(lanes::run(outer()), lanes::InvalidStateError);
}

TEST(Task, MovedTaskIsEmpty) {
  auto a = value_of(1);
  auto b = std::move(a);
  EXPECT_FALSE(a.valid());  // NOLINT(bugprone-use-after-move): checking the moved-from state
  EXPECT_TRUE(b.valid());
  EXPECT_EQ(lanes::run(std::move(b)), 1);
}

TEST(Task, NeverAwaitedTaskIsReportedInDebugMode) {
  int reports = 0;
  auto body = [&]() -> lanes::Task<void> {
    auto& loop = lanes::get_running_loop();
    loop.set_exception_handler([&](lanes::EventLoop&, const lanes::ExceptionContext& c) {
      if (c.message.find("without ever being awaited") != std::string::npos) ++reports;
    });
    { auto forgotten = value_of(3); }
    co_return;
  };
  lanes::run(body(), {.debug = true});
  EXPECT_EQ(reports, 1);
}

TEST(Task, NeverAwaitedTaskIsReportedWithoutDebug) {
  int reports = 0;
  auto body = [&]() -> lanes::Task<void> {
    lanes::get_running_loop().set_exception_handler(
        [&](lanes::EventLoop&, const lanes::ExceptionContext&) { ++reports; });
    { auto forgotten = value_of(3); }
    co_return;
  };
  lanes::run(body());
  // Python's RuntimeWarning is always on; LANES_NO_UNAWAITED_WARNING=1 silences it.
  EXPECT_EQ(reports, std::getenv("LANES_NO_UNAWAITED_WARNING") == nullptr ? 1 : 0);
}

}  // namespace
