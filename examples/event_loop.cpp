// Seed 001, "How event-loop works", as a lanes program.
//
// One thread, one loop, a queue of tasks. Each task runs until it hits a wait
// ("an I/O operation": here a timer), is paused, and the loop runs the next one.
// When the wait is over, the loop wakes the paused task and it finishes. The
// baker of seed 001 preheats the oven and, instead of standing by it, mixes the
// batter meanwhile: concurrency on one thread, without parallelism.
#include <lanes/lanes.hpp>

#include <chrono>
#include <cstdio>

using namespace std::chrono_literals;

namespace {

std::chrono::steady_clock::time_point start;

void log(const char* who, const char* what) {
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start)
          .count();
  std::printf("[%4lld ms] %-7s %s\n", static_cast<long long>(ms), who, what);
}

lanes::Task<void> preheat_oven() {
  log("oven", "starts preheating (the task pauses: nothing to do until it beeps)");
  co_await lanes::sleep(300ms);  // paused here; the loop runs other tasks
  log("oven", "beeps: preheated (the task was woken up and resumes)");
}

lanes::Task<void> mix(const char* what, std::chrono::milliseconds each_step) {
  for (int step = 1; step <= 3; ++step) {
    log("mixer", what);
    co_await lanes::sleep(each_step);  // every wait gives the loop back
  }
}

lanes::Task<void> bake_two_cakes() {
  log("baker", "puts three tasks in the loop's queue");
  auto oven = lanes::create_task(preheat_oven());
  auto flour = lanes::create_task(mix("mixes flour and sugar", 60ms));
  auto eggs = lanes::create_task(mix("beats the eggs", 80ms));
  co_await flour;
  co_await eggs;
  log("baker", "batter ready; waits for the oven");
  co_await oven;
  log("baker", "both cakes go in: about 300 ms in all, not 300 + 180 + 240");
}

}  // namespace

int main() {
  start = std::chrono::steady_clock::now();
  std::printf("one thread, one event loop, three tasks\n");
  lanes::run(bake_two_cakes());
  const auto total = std::chrono::steady_clock::now() - start;
  std::printf("total: %lld ms\n",
              static_cast<long long>(
                  std::chrono::duration_cast<std::chrono::milliseconds>(total).count()));
  return 0;
}
