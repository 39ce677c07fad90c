// tools/lanes/lab/measure.cpp — timing and memory readings from the OS (see measure.hpp).
#include "lab/measure.hpp"

#include <malloc.h>
#include <sched.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>
#include <thread>

namespace lanes_cli::lab {

namespace {
double tv_seconds(const timeval& tv) {
  return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) * 1e-6;
}

long read_long_file(const char* path, long fallback) {
  std::ifstream in(path);
  std::string word;
  if (!(in >> word)) return fallback;
  if (word == "max") return std::numeric_limits<long>::max();
  try {
    return std::stol(word);
  } catch (...) {
    return fallback;
  }
}

/// Threads alive on the whole machine: the 4th field of /proc/loadavg is running/total.
long threads_alive() {
  std::ifstream in("/proc/loadavg");
  std::string a, b, c, d;
  if (!(in >> a >> b >> c >> d)) return 0;
  auto slash = d.find('/');
  if (slash == std::string::npos) return 0;
  try {
    return std::stol(d.substr(slash + 1));
  } catch (...) {
    return 0;
  }
}
}  // namespace

double cpu_seconds_self_and_children() {
  rusage self{}, children{};
  getrusage(RUSAGE_SELF, &self);
  getrusage(RUSAGE_CHILDREN, &children);
  return tv_seconds(self.ru_utime) + tv_seconds(self.ru_stime) + tv_seconds(children.ru_utime) +
         tv_seconds(children.ru_stime);
}

std::int64_t resident_bytes() {
  std::ifstream in("/proc/self/statm");
  long size = 0, resident = 0;
  if (!(in >> size >> resident)) return 0;
  return static_cast<std::int64_t>(resident) * sysconf(_SC_PAGESIZE);
}

std::int64_t heap_in_use_bytes() {
  struct mallinfo2 mi = mallinfo2();
  return static_cast<std::int64_t>(mi.uordblks + mi.hblkhd);
}

namespace {
/// Clock ticks the machine's CPUs spent busy so far (every state of /proc/stat's "cpu"
/// line except idle and iowait), or -1 if unreadable.
double busy_seconds() {
  const long hz_raw = sysconf(_SC_CLK_TCK);
  const double hz = hz_raw > 0 ? static_cast<double>(hz_raw) : 100.0;
  std::ifstream in("/proc/stat");
  std::string label;
  if (!(in >> label) || label != "cpu") return -1;
  double user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0;
  if (!(in >> user >> nice >> system >> idle >> iowait >> irq >> softirq)) return -1;
  in >> steal;  // absent on old kernels; time a hypervisor gave to another guest
  return (user + nice + system + irq + softirq + steal) / hz;
}
}  // namespace

OthersCpu::OthersCpu()
    : wall0_(std::chrono::steady_clock::now()), busy0_(busy_seconds()),
      own0_(cpu_seconds_self_and_children()) {}

double OthersCpu::busy_cores() const {
  const double busy1 = busy_seconds(), own1 = cpu_seconds_self_and_children();
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0_).count();
  if (busy0_ < 0 || busy1 < 0 || wall <= 0) return -1;
  return std::max(0.0, ((busy1 - busy0_) - (own1 - own0_)) / wall);
}

double others_busy_cores(double seconds) {
  OthersCpu sample;
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  return sample.busy_cores();
}

std::int64_t kernel_stack_bytes() {
  std::ifstream in("/proc/meminfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("KernelStack:", 0) == 0) {
      std::istringstream fields(line.substr(12));
      long kb = 0;
      fields >> kb;
      return static_cast<std::int64_t>(kb) * 1024;
    }
  }
  return 0;
}

int usable_cores() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) == 0) return std::max(1, CPU_COUNT(&set));
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? static_cast<int>(n) : 1;
}

long thread_headroom() {
  const long alive = threads_alive();
  long room = std::numeric_limits<long>::max();
  room = std::min(room, read_long_file("/proc/sys/kernel/threads-max", room) - alive);
  room = std::min(room, read_long_file("/proc/sys/kernel/pid_max", room) - alive);
  // Each thread maps its stack and a guard page: two of the max_map_count mappings.
  room = std::min(room, read_long_file("/proc/sys/vm/max_map_count", room) / 2);
  rlimit nproc{};
  if (getrlimit(RLIMIT_NPROC, &nproc) == 0 && nproc.rlim_cur != RLIM_INFINITY)
    room = std::min(room, static_cast<long>(nproc.rlim_cur) - alive);
  long pids_max = read_long_file("/sys/fs/cgroup/pids.max", std::numeric_limits<long>::max());
  if (pids_max != std::numeric_limits<long>::max())
    room = std::min(room, pids_max - read_long_file("/sys/fs/cgroup/pids.current", 0));
  return std::max(0L, room);
}

}  // namespace lanes_cli::lab
