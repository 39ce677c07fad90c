// Must not compile: a coroutine lambda given to ThreadPoolExecutor::map.
#include <lanes/task.hpp>
#include <lanes/thread_pool.hpp>

#include <vector>

int main() {
  lanes::ThreadPoolExecutor pool(1);
  auto results = pool.map([](int x) -> lanes::Task<int> { co_return x; }, std::vector<int>{1, 2});
  (void)results;
}
