// The control for the compile-failure tests: the same headers and calls with what they
// accept (a plain callable, a registered free function) compile, so a failure above
// comes from the refusal and not from the command line.
#include <lanes/process_pool.hpp>
#include <lanes/task.hpp>
#include <lanes/thread_pool.hpp>

#include <vector>

int increment(int x) { return x + 1; }
LANES_REGISTER(increment);

int main() {
  lanes::ThreadPoolExecutor threads(1);
  auto a = threads.submit([] { return 42; });
  auto b = threads.map([](int x) { return x; }, std::vector<int>{1, 2});
  lanes::ProcessPoolExecutor processes(1);
  auto c = processes.submit(increment, 1);
  auto d = processes.map(increment, std::vector<int>{1, 2});
  (void)a;
  (void)b;
  (void)c;
  (void)d;
}
