// Seed 004's multiprocessing example in lanes: two processes, each "computes" for two
// seconds and prints; both finish after two seconds, not four.
//
// Python:                                    lanes:
//   def process_ripper_5000(num):              void process_ripper_5000(int num) {...}
//       time.sleep(2)                          LANES_REGISTER(process_ripper_5000);
//       print(f"Process n Compute: {num}")
//   a = multiprocessing.Process(               auto a = pool.submit(process_ripper_5000, 1);
//         target=process_ripper_5000, args=(1,))
//   a.start(); ... a.join()                    a.result();
//
// The function runs in a worker process (a fresh start of this same program that
// never reaches main), so it must be registered: workers find it by name.
#include <lanes/process_pool.hpp>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <thread>
#include <vector>

void process_ripper_5000(int num) {
  std::this_thread::sleep_for(std::chrono::seconds(2));
  // Printed by the worker: its stdout is this program's.
  std::printf("Process n Compute: %d (in worker process %d)\n", num, static_cast<int>(::getpid()));
}
LANES_REGISTER(process_ripper_5000);

int main() {
  const auto start = std::chrono::steady_clock::now();
  std::printf("main process %d starts two worker processes\n", static_cast<int>(::getpid()));
  std::fflush(stdout);  // before the workers write to the same stdout
  lanes::ProcessPoolExecutor pool(2);
  std::vector<lanes::Future<void>> processes;
  processes.push_back(pool.submit(process_ripper_5000, 1));  // start the computation
  processes.push_back(pool.submit(process_ripper_5000, 2));
  for (auto& p : processes) p.result();  // wrap up work (join)
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("both done after %.2f s: the two processes ran at the same time\n", seconds);
  return 0;
}
