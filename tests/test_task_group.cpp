// TaskGroup: results, failure handling, cancellation, lifetime of the children.
#include <gtest/gtest.h>

#include <lanes/loop.hpp>
#include <lanes/task_group.hpp>
#include <lanes/time.hpp>

#include <chrono>
#include <stdexcept>
#include <string>
#include <vector>

using namespace std::chrono_literals;

namespace {

lanes::Task<int> value_after_yields(int yields, int value) {
  for (int i = 0; i < yields; ++i) co_await lanes::sleep(0s);
  co_return value;
}

lanes::Task<int> fail_after_yields(int yields, std::string message) {
  for (int i = 0; i < yields; ++i) co_await lanes::sleep(0s);
  throw std::runtime_error(message);
}

// Sleeps until cancelled; records that it was, and fails while cleaning up if asked.
lanes::Task<void> wait_until_cancelled(bool* cancelled, const char* cleanup_error = nullptr) {
  try {
    co_await lanes::sleep(1h);
  } catch (const lanes::CancelledError&) {
    *cancelled = true;
    if (cleanup_error) throw std::runtime_error(cleanup_error);
    throw;
  }
}

std::vector<std::string> messages(const lanes::ExceptionGroup& group) {
  std::vector<std::string> out;
  for (const auto& e : group.exceptions()) {
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& x) {
      out.push_back(x.what());
    }
  }
  return out;
}

TEST(TaskGroup, SuccessCollectsResults) {
  auto body = []() -> lanes::Task<void> {
    std::vector<lanes::Future<int>> futures;
    int total = co_await lanes::TaskGroup::run([&](lanes::TaskGroup& tg) -> lanes::Task<int> {
      for (int i = 0; i < 5; ++i) futures.push_back(tg.create_task(value_after_yields(5 - i, i)));
      co_return 100;
    });
    EXPECT_EQ(total, 100);
    for (int i = 0; i < 5; ++i) {
      EXPECT_TRUE(futures[i].done());
      EXPECT_EQ(futures[i].result(), i);
    }

    lanes::TaskGroup tg;
    auto a = tg.create_task(value_after_yields(2, 1));
    auto b = tg.create_task(value_after_yields(1, 2));
    EXPECT_EQ(tg.size(), 2u);
    co_await tg.join();
    EXPECT_EQ(tg.size(), 0u);
    EXPECT_EQ(a.result() + b.result(), 3);
  };
  lanes::run(body());
}

TEST(TaskGroup, FirstFailureCancelsSiblingsAndBodyThenThrowsEveryError) {
  auto body = []() -> lanes::Task<void> {
    bool sibling_cancelled = false;
    bool second_cancelled = false;
    bool body_cancelled = false;
    lanes::Future<void> sibling;
    std::vector<std::string> errors;
    try {
      co_await lanes::TaskGroup::run([&](lanes::TaskGroup& tg) -> lanes::Task<void> {
        sibling = tg.create_task(wait_until_cancelled(&sibling_cancelled));
        tg.create_task(wait_until_cancelled(&second_cancelled, "second, while cancelling"));
        tg.create_task(fail_after_yields(1, "first"));
        try {
          co_await lanes::sleep(1h);
        } catch (const lanes::CancelledError&) {
          body_cancelled = true;
          throw;
        }
      });
    } catch (const lanes::ExceptionGroup& group) {
      errors = messages(group);
    }
    EXPECT_EQ(errors, (std::vector<std::string>{"first", "second, while cancelling"}));
    EXPECT_TRUE(sibling_cancelled);
    EXPECT_TRUE(second_cancelled);
    EXPECT_TRUE(body_cancelled);
    EXPECT_TRUE(sibling.cancelled());
    // The group took back the cancellation it sent to its parent.
    EXPECT_EQ(lanes::detail::current_task()->cancelling(), 0u);
  };
  lanes::run(body());
}

TEST(TaskGroup, ChildrenCannotOutliveTheGroup) {
  auto body = []() -> lanes::Task<void> {
    // The scoped form: every child has ended when run() gives back control, whether
    // it succeeded or failed.
    std::vector<lanes::Future<int>> futures;
    co_await lanes::TaskGroup::run([&](lanes::TaskGroup& tg) -> lanes::Task<void> {
      for (int i = 0; i < 3; ++i) futures.push_back(tg.create_task(value_after_yields(10 * i, i)));
      co_return;
    });
    for (auto& f : futures) EXPECT_TRUE(f.done());

    bool cancelled = false;
    lanes::Future<void> straggler;
    try {
      co_await lanes::TaskGroup::run([&](lanes::TaskGroup& tg) -> lanes::Task<void> {
        straggler = tg.create_task(wait_until_cancelled(&cancelled));
        co_await lanes::sleep(0s);
        throw std::logic_error("the body fails");
      });
    } catch (const lanes::ExceptionGroup& group) {
      EXPECT_EQ(messages(group), (std::vector<std::string>{"the body fails"}));
    }
    EXPECT_TRUE(straggler.done());
    EXPECT_TRUE(cancelled);

    // The explicit form left without join(): the destructor cancels the children.
    lanes::Future<void> orphan;
    bool orphan_cancelled = false;
    {
      lanes::TaskGroup tg;
      orphan = tg.create_task(wait_until_cancelled(&orphan_cancelled));
      co_await lanes::sleep(0s);
    }
    try {
      co_await orphan;
    } catch (const lanes::CancelledError&) {
    }
    EXPECT_TRUE(orphan.cancelled());
    EXPECT_TRUE(orphan_cancelled);
  };
  lanes::run(body());
}

TEST(TaskGroup, CreateTaskAfterTheGroupFinishedOrWhileAbortingThrows) {
  auto body = []() -> lanes::Task<void> {
    lanes::TaskGroup done_group;
    done_group.create_task(value_after_yields(1, 1));
    co_await done_group.join();
    EXPECT_THROW(done_group.create_task(value_after_yields(0, 0)), lanes::RuntimeError);

    bool threw = false;
    try {
      co_await lanes::TaskGroup::run([&](lanes::TaskGroup& tg) -> lanes::Task<void> {
        tg.create_task(fail_after_yields(0, "boom"));
        bool cancelled = false;
        try {
          co_await lanes::sleep(1h);
        } catch (const lanes::CancelledError&) {
          cancelled = true;
        }
        EXPECT_TRUE(cancelled);
        EXPECT_TRUE(tg.aborting());
        try {
          tg.create_task(value_after_yields(0, 0));
        } catch (const lanes::RuntimeError&) {
          threw = true;
        }
      });
    } catch (const lanes::ExceptionGroup&) {
    }
    EXPECT_TRUE(threw);
  };
  lanes::run(body());
}

TEST(TaskGroup, OutsideCancellationCancelsChildrenAndPropagates) {
  auto body = []() -> lanes::Task<void> {
    bool child_cancelled = false;
    auto parent = lanes::create_task(lanes::TaskGroup::run(
        [&](lanes::TaskGroup& tg) -> lanes::Task<void> {
          tg.create_task(wait_until_cancelled(&child_cancelled));
          co_await lanes::sleep(1h);
        }));
    co_await lanes::sleep(0s);
    co_await lanes::sleep(0s);
    EXPECT_TRUE(parent.cancel());
    bool cancelled = false;
    try {
      co_await parent;
    } catch (const lanes::CancelledError&) {
      cancelled = true;
    }
    EXPECT_TRUE(cancelled);
    EXPECT_TRUE(child_cancelled);

    // Cancelled while waiting in join: the children are cancelled too.
    bool joined_child_cancelled = false;
    auto joiner = lanes::create_task([](bool* flag) -> lanes::Task<void> {
      lanes::TaskGroup tg;
      tg.create_task(wait_until_cancelled(flag));
      co_await tg.join();
    }(&joined_child_cancelled));
    co_await lanes::sleep(0s);
    co_await lanes::sleep(0s);
    joiner.cancel();
    try {
      co_await joiner;
    } catch (const lanes::CancelledError&) {
    }
    EXPECT_TRUE(joiner.cancelled());
    EXPECT_TRUE(joined_child_cancelled);
  };
  lanes::run(body());
}

}  // namespace
