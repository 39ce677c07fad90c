// Must not compile: a lambda submitted to the process pool (workers find functions by
// their registered name). tests/CMakeLists.txt checks the message.
#include <lanes/process_pool.hpp>

int main() {
  lanes::ProcessPoolExecutor pool(1);
  auto f = pool.submit([](int x) { return x + 1; }, 1);
  (void)f;
}
