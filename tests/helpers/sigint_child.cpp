// A program shaped like the README's first example, for test_sigint_exit: main
// sleeps inside lanes::run, with nothing caught around it. It prints "ready" once
// lanes::run's Ctrl-C handling is in place, so the test needs no sleep to sync.
#include <lanes/lanes.hpp>

#include <chrono>
#include <cstdio>

using namespace std::chrono_literals;

lanes::Task<void> main_task() {
  std::puts("ready");
  std::fflush(stdout);
  co_await lanes::sleep(1h);
}

int main() { lanes::run(main_task()); }
