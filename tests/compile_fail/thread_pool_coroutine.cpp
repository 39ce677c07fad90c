// Must not compile: a coroutine function submitted to a thread pool (its Task would be
// created on a worker thread and never run). tests/CMakeLists.txt checks the message.
#include <lanes/task.hpp>
#include <lanes/thread_pool.hpp>

lanes::Task<int> answer() { co_return 42; }

int main() {
  lanes::ThreadPoolExecutor pool(1);
  auto f = pool.submit(answer);
  (void)f;
}
