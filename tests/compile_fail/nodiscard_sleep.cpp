// Must NOT compile with -Werror: `lanes::sleep(1s);` alone does nothing (it is not
// awaited), and lanes marks it [[nodiscard]] with a message saying so. Built by the
// ctest `nodiscard_sleep_warns` (tests/CMakeLists.txt), which expects the message.
#include <lanes/time.hpp>
#include <lanes/task.hpp>

#include <chrono>

using namespace std::chrono_literals;

lanes::Task<void> forgets_to_await() {
  lanes::sleep(1s);
  co_return;
}

int main() { return 0; }
