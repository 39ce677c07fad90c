// bench/pool_work.hpp — what the thread-pool benchmarks share: the workloads' sizes,
// the sequential fib every side calls below the cut-off, and the clocks.
//
// Included by bench/bench_thread_pool.cpp (lanes) and by its C++ peers
// (peers/pool_tbb.cpp, peers/pool_openmp.cpp), so that every side runs the same
// sequential code, compiled with the same flags, and is timed the same way:
//   wall_s        steady_clock, the best of the runs
//   cpu_s         CPU time of every thread of the process during a run, the least of
//                 the runs: what the work cost, spinning included; other programs on a
//                 shared machine do not inflate it. Summed from each thread's own clock:
//                 CLOCK_PROCESS_CPUTIME_ID leaves out what a thread running on another
//                 core used since that core's last tick (up to 4 ms here), which
//                 swamps a 6 ms workload
//   busiest_s     the CPU time of the busiest thread during a run (each thread's own
//                 clock), the least of the runs: on free cores the wall time of a
//                 run whose threads never block would be about this, so the
//                 sequential CPU time over it is the speed-up the load hides
#pragma once

#include <fcntl.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <string>

namespace pool_bench {

inline constexpr int kTinyTasks = 1'000'000;  // workload (a)
inline constexpr int kFibN = 32;              // workload (b): fib(32)...
inline constexpr int kFibCutoff = 20;         // ...with fib(n < 20) computed sequentially

/// Plain recursion, the leaves of every fork-join version. Not inlined into the
/// callers, so that every program runs the same machine code for it.
[[gnu::noinline]] inline long fib_seq(int n) { return n < 2 ? n : fib_seq(n - 1) + fib_seq(n - 2); }

/// How many jobs the fork-join fib(n) makes: one per call at or above the cut-off
/// (each forks its fib(n-1)), the root included.
inline long fib_jobs(int n) { return n < kFibCutoff ? 0 : 1 + fib_jobs(n - 1) + fib_jobs(n - 2); }

using Clock = std::chrono::steady_clock;

inline double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

inline std::int64_t clock_ns(clockid_t clock) {
  timespec ts{};
  if (::clock_gettime(clock, &ts) != 0) return 0;
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

/// The CPU clock of thread `tid` of this process: what pthread_getcpuclockid()
/// computes for a pthread_t (Linux's encoding: ~tid << 3 | per-thread | sched),
/// here for a thread we only know by its id in /proc/self/task.
inline clockid_t thread_cpu_clock(long tid) {
  return static_cast<clockid_t>((~static_cast<unsigned>(tid) << 3) | 6u);
}

/// tid -> CPU nanoseconds of every thread of this process at one moment.
struct ThreadTimes {
  static constexpr int kMax = 256;
  long tid[kMax];
  std::int64_t ns[kMax];
  int n = 0;
  std::int64_t find(long t) const {
    for (int i = 0; i < n; ++i)
      if (tid[i] == t) return ns[i];
    return 0;  // born since: counts from zero
  }
};

/// Reads /proc/self/task with getdents64 into a buffer on the stack. Not opendir():
/// its malloc of a 32 KiB buffer makes glibc consolidate (and then trim) every small
/// block freed before — a million of them after the tiny-task run — which would
/// charge allocator work to the measured thread and force fresh pages on the next run.
inline ThreadTimes thread_cpu_snapshot() {
  ThreadTimes out;
  const int fd = ::open("/proc/self/task", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return out;
  alignas(8) char buf[8192];
  for (;;) {
    const long got = ::syscall(SYS_getdents64, fd, buf, sizeof buf);
    if (got <= 0) break;
    for (long off = 0; off < got;) {
      struct Entry {  // struct linux_dirent64
        std::uint64_t ino;
        std::int64_t off;
        unsigned short reclen;
        unsigned char type;
        char name[1];
      };
      const auto* e = reinterpret_cast<const Entry*>(buf + off);
      off += e->reclen;
      if (e->name[0] < '0' || e->name[0] > '9' || out.n == ThreadTimes::kMax) continue;
      const long tid = std::strtol(e->name, nullptr, 10);
      out.tid[out.n] = tid;
      out.ns[out.n++] = clock_ns(thread_cpu_clock(tid));
    }
  }
  ::close(fd);
  return out;
}

/// CPU time between two snapshots: of all threads, of the busiest one, and how many
/// threads used more than 1% of the busiest one's. Threads born in between count
/// from zero; a thread that ended in between is missed (the pools keep theirs).
struct ThreadUse {
  double total_s = 0;
  double busiest_s = 0;
  int threads = 0;
};
inline ThreadUse thread_use(const ThreadTimes& before, const ThreadTimes& after) {
  std::int64_t most = 0, total = 0;
  for (int i = 0; i < after.n; ++i) {
    const std::int64_t d = after.ns[i] - before.find(after.tid[i]);
    most = std::max(most, d);
    total += d;
  }
  ThreadUse u;
  u.total_s = static_cast<double>(total) / 1e9;
  u.busiest_s = static_cast<double>(most) / 1e9;
  for (int i = 0; i < after.n; ++i)
    u.threads += (after.ns[i] - before.find(after.tid[i])) * 100 > most ? 1 : 0;
  return u;
}

/// The best of `reps` runs of a workload: least wall time, least process CPU time,
/// least busiest-thread CPU time (each the least over the runs, taken separately).
struct Best {
  double wall_s = 1e300;
  double cpu_s = 1e300;
  double busiest_s = 1e300;
  int threads = 0;
};

/// Runs `run` `reps` times (after one untimed run that starts the threads and
/// warms the caches) and keeps the best figures.
template <class Run>
Best measure(int reps, Run&& run) {
  run();
  Best best;
  for (int r = 0; r < reps; ++r) {
    const auto threads0 = thread_cpu_snapshot();
    const auto t0 = Clock::now();
    run();
    const double wall = seconds_since(t0);
    const ThreadUse u = thread_use(threads0, thread_cpu_snapshot());
    best.wall_s = std::min(best.wall_s, wall);
    best.cpu_s = std::min(best.cpu_s, u.total_s);
    if (u.busiest_s < best.busiest_s) {
      best.busiest_s = u.busiest_s;
      best.threads = u.threads;
    }
  }
  return best;
}

/// The first three fields of /proc/loadavg, e.g. "5.20 6.34 7.97".
inline std::string loadavg() {
  std::FILE* f = std::fopen("/proc/loadavg", "r");
  if (f == nullptr) return "?";
  double a = 0, b = 0, c = 0;
  const int got = std::fscanf(f, "%lf %lf %lf", &a, &b, &c);
  std::fclose(f);
  if (got != 3) return "?";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.2f %.2f %.2f", a, b, c);
  return buf;
}

/// One JSON line: {"peer", "workload", <extra>, "wall_s", "cpu_s", "busiest_s", ...}.
/// `extra` is either empty or a list of `"key": value` pairs ending with ", ".
inline void print_result(const char* peer, const char* workload, const std::string& extra,
                         const Best& b, int reps, long tasks) {
  std::printf(
      "{\"peer\": \"%s\", \"workload\": \"%s\", %s\"tasks\": %ld, \"reps\": %d, "
      "\"wall_s\": %.6f, \"cpu_s\": %.6f, \"busiest_s\": %.6f, \"threads\": %d, "
      "\"loadavg\": \"%s\"}\n",
      peer, workload, extra.c_str(), tasks, reps, b.wall_s, b.cpu_s, b.busiest_s, b.threads,
      loadavg().c_str());
  std::fflush(stdout);
}

/// --reps N (the tiny-task runs) and --fib-reps N (fib(32) is short: more runs).
struct Args {
  int reps = 3;
  int fib_reps = 30;
  std::string only;  // "tiny", "fib" or empty for both
};
inline Args parse_args(int argc, char** argv) {
  Args a;
  for (int i = 1; i + 1 < argc; ++i) {
    const std::string k = argv[i];
    if (k == "--reps") {
      a.reps = std::max(1, std::atoi(argv[++i]));
    } else if (k == "--fib-reps") {
      a.fib_reps = std::max(1, std::atoi(argv[++i]));
    } else if (k == "--only") {
      a.only = argv[++i];
    }
  }
  return a;
}

}  // namespace pool_bench
