// Jobs that hold a process-pool worker busy, shared by the process pool's test binaries
// (test_process_pool, test_process_ring): a job that never returns, one that first
// leaves a marker file so that a test knows the worker took it, and the helpers that
// name and wait for that marker. Include it from one source file per test binary: it
// registers its functions with LANES_REGISTER.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <thread>

#include "lanes/process_pool.hpp"
#include "pool_test_support.hpp"

namespace {

/// Never returns (the test's way to hold a task running).
int block_forever(int) {
  for (;;) std::this_thread::sleep_for(std::chrono::milliseconds(50));
}
LANES_REGISTER(block_forever);

/// Creates the file `marker` (the task has begun in its worker), then never returns.
int mark_then_block(const std::string& marker) {
  std::ofstream(marker) << ::getpid();
  return block_forever(0);
}
LANES_REGISTER(mark_then_block);

/// A file name for mark_then_block, unique in this test run.
std::string marker_path() {
  static std::atomic<int> counter{0};
  return ::testing::TempDir() + "lanes_marker_" + std::to_string(::getpid()) + "_" +
         std::to_string(counter++);
}

/// Waits until mark_then_block(path) has begun in a worker (the task took its frame:
/// a worker killed before that would have its task sent again, not failed).
void wait_marked(const std::string& path) {
  ASSERT_TRUE(lanes_test::wait_until([&] { return static_cast<bool>(std::ifstream(path)); }))
      << "the task never began in a worker";
  std::remove(path.c_str());
}

}  // namespace
