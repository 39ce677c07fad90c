// Helpers shared by the executor tests (thread pool, process pool, to_thread, waits):
// the worker counts every concurrency test runs at, sanitizer scaling, bounded waits
// for a condition, and checks of an error's type and message.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <cstddef>
#include <exception>
#include <initializer_list>
#include <string>
#include <string_view>
#include <thread>
#include <typeinfo>

namespace lanes_test {

/// True in the ASan+UBSan and TSan builds.
#if defined(LANES_SANITIZED)
inline constexpr bool kSanitized = true;
#else
inline constexpr bool kSanitized = false;
#endif

/// How much smaller a loaded test is in a sanitized build (TSan makes worker start-up
/// and every synchronisation much dearer than ASan does).
#if defined(LANES_SANITIZED_THREAD)
inline constexpr int kScale = 5;
#elif defined(LANES_SANITIZED)
inline constexpr int kScale = 2;
#else
inline constexpr int kScale = 1;
#endif

/// A test run at several worker counts: TEST_P bodies read workers().
class WorkerCountTest : public ::testing::TestWithParam<std::size_t> {
 protected:
  std::size_t workers() const { return GetParam(); }
};

/// Names the instances of a WorkerCountTest "1w", "2w", ...
inline std::string worker_count_name(const ::testing::TestParamInfo<std::size_t>& info) {
  return std::to_string(info.param) + "w";
}

/// Polls `condition` (yielding between looks) until it holds or `limit` passes; returns
/// its last value. For a state another process or thread reaches, with no event to wait
/// on; the limit is generous because machines are noisy, never a timing assertion.
template <class Condition>
bool wait_until(Condition&& condition, std::chrono::seconds limit = std::chrono::seconds(60)) {
  const auto until = std::chrono::steady_clock::now() + limit;
  while (!condition()) {
    if (std::chrono::steady_clock::now() >= until) return condition();
    std::this_thread::yield();
  }
  return true;
}

/// Runs `f`, which must throw E, and returns the error's what(); records a test failure
/// (and returns "") if it throws something else or nothing.
template <class E, class F>
std::string what_of(F&& f) {
  try {
    f();
  } catch (const E& e) {
    return e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "expected " << typeid(E).name() << ", got " << typeid(e).name() << ": "
                  << e.what();
    return {};
  } catch (...) {
    ADD_FAILURE() << "expected " << typeid(E).name() << ", got another exception";
    return {};
  }
  ADD_FAILURE() << "expected " << typeid(E).name() << ", nothing was thrown";
  return {};
}

/// Checks that `text` contains each of `parts` (an error message's essentials).
inline void expect_contains(std::string_view text, std::initializer_list<std::string_view> parts) {
  for (std::string_view part : parts)
    EXPECT_NE(text.find(part), std::string_view::npos) << "'" << part << "' not in: " << text;
}

}  // namespace lanes_test
