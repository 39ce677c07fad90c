// Seed 004's threading example in lanes: two threads each wait two seconds and print;
// both finish after two seconds, not four.
//
// Python:                                    lanes:
//   def thread_ripper_5000(num):               void thread_ripper_5000(int num) {...}
//       time.sleep(2)
//       print(f"Rip n Tear: {num}")
//   a = threading.Thread(                      lanes::ThreadPoolExecutor pool(2);
//         target=thread_ripper_5000, args=(1,))
//   a.start()                                  auto a = pool.submit(thread_ripper_5000, 1);
//   a.join()                                   a.result();
//
// Unlike Python's threads, these also compute in parallel (C++ has no GIL): see
// fib_threads.cpp. A submit() hands back a lanes::Future, the same type an event loop
// task gives: result() waits for it here, and a task could co_await it instead.
#include <lanes/thread_pool.hpp>

#include <chrono>
#include <cstdio>
#include <thread>
#include <vector>

void thread_ripper_5000(int num) {
  std::this_thread::sleep_for(std::chrono::seconds(2));
  std::printf("Rip n Tear: %d\n", num);
}

int main() {
  const auto start = std::chrono::steady_clock::now();
  lanes::ThreadPoolExecutor pool(2);
  std::vector<lanes::Future<void>> threads;
  threads.push_back(pool.submit(thread_ripper_5000, 1));  // have your thread start the computation
  threads.push_back(pool.submit(thread_ripper_5000, 2));
  for (auto& t : threads) t.result();  // have our threads wrap up work (join)
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("both done after %.2f s: the two threads waited at the same time\n", seconds);
  return 0;
}
