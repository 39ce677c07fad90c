// asyncio.gather in lanes: start many waits at once, get every result in order.
//
// Three "requests" (timers standing in for network round trips) run concurrently
// on one thread, so the whole batch takes as long as the slowest one. Then the
// settled form (Python's return_exceptions=True) collects a failure beside the
// successes instead of throwing it.
#include <lanes/combinators.hpp>
#include <lanes/lanes.hpp>

#include <chrono>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <vector>

using namespace std::chrono_literals;

namespace {

lanes::Task<std::string> request(std::string name, std::chrono::milliseconds latency) {
  co_await lanes::sleep(latency);
  co_return name + " answered after " + std::to_string(latency.count()) + " ms";
}

lanes::Task<int> flaky(int i) {
  co_await lanes::sleep(std::chrono::milliseconds(10 * i));
  if (i == 2) throw std::runtime_error("request 2 failed");
  co_return i * i;
}

lanes::Task<void> main_task() {
  auto& loop = lanes::get_running_loop();
  const auto start = loop.time();

  // Variadic: a tuple, in argument order.
  auto [a, b, c] = co_await lanes::gather(request("alpha", 200ms), request("beta", 100ms),
                                          request("gamma", 150ms));
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(loop.time() - start);
  std::printf("%s\n%s\n%s\n", a.c_str(), b.c_str(), c.c_str());
  std::printf("all three in %lld ms (sequentially it would be 450 ms)\n",
              static_cast<long long>(ms.count()));

  // A range: a vector, in range order.
  std::vector<lanes::Task<std::string>> batch;
  for (int i = 0; i < 5; ++i) batch.push_back(request("host" + std::to_string(i), 50ms));
  auto answers = co_await lanes::gather(std::move(batch));
  std::printf("%zu answers, first: %s\n", answers.size(), answers.front().c_str());

  // Settled: every outcome, failures included (return_exceptions=True).
  std::vector<lanes::Task<int>> risky;
  for (int i = 0; i < 4; ++i) risky.push_back(flaky(i));
  auto outcomes = co_await lanes::gather_settled(std::move(risky));
  for (std::size_t i = 0; i < outcomes.size(); ++i) {
    if (outcomes[i].has_value()) {
      std::printf("flaky(%zu) = %d\n", i, outcomes[i].value());
    } else {
      std::printf("flaky(%zu) failed: %s\n", i,
                  lanes::describe_exception(outcomes[i].exception()).c_str());
    }
  }
}

}  // namespace

int main() {
  lanes::run(main_task());
  return 0;
}
