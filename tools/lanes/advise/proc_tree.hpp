// tools/lanes/advise/proc_tree.hpp — watches a process and all its descendants through
// /proc: CPU time, time spent waiting for a free core, time blocked, context switches,
// I/O, threads.
//
// Two kinds of counters, summed two ways:
//   - per process (/proc/PID/stat, /proc/PID/io): a process's figures absorb those of
//     the children it reaps, so the tree's total at an instant is the sum over the
//     processes alive then, and the figure for the watch is total(end) - total(start);
//   - per thread (/proc/PID/task/TID/schedstat, status): never absorbed by anyone, so
//     each thread ever seen counts with its last reading minus its first.
#pragma once

#include <sys/types.h>

#include <array>
#include <cstdint>
#include <map>
#include <set>
#include <string>

#include "advise/wait_kind.hpp"

namespace lanes_cli::advise {

/// What the watch found, over the whole tree.
struct TreeFigures {
  double cpu_s = 0;            // user + system, from the per-process counters
  double user_s = 0;
  double system_s = 0;
  double on_cpu_s = 0;         // per-thread sums from schedstat (ns precision)
  double runqueue_s = 0;       // ready to run but waiting for a free core
  double blocked_s = 0;        // neither running nor runnable: waiting for I/O, a lock, a timer
  std::int64_t voluntary_switches = 0;    // a thread gave up the CPU (it blocked)
  std::int64_t involuntary_switches = 0;  // a thread was preempted
  std::int64_t read_bytes = 0;   // rchar: every read(), sockets and pipes included
  std::int64_t write_bytes = 0;  // wchar
  std::int64_t read_calls = 0;   // syscr
  std::int64_t write_calls = 0;  // syscw
  std::int64_t disk_read_bytes = 0;   // read_bytes: what reached the storage layer
  std::int64_t disk_write_bytes = 0;  // write_bytes
  int peak_threads = 0;          // most threads alive at once, over the tree
  int processes_seen = 0;
  bool io_readable = true;       // false if /proc/PID/io was refused (another user's process)
  // Per sample, each blocked thread counted once under the system call it sat in.
  std::array<std::int64_t, kWaitKinds> waits{};
  bool waits_readable = true;    // false if /proc/PID/task/TID/syscall was refused
  int sockets_peak = 0;          // most sockets open at once, over the tree
  int sockets_seen = 0;          // distinct sockets seen open (a server's connections)
  std::set<std::string> programs;  // comm of every process seen
};

class TreeWatcher {
 public:
  /// Watches `root` and its descendants from now on. `root_is_new`: it was just
  /// started by us, so everything it ever did counts (no baseline to subtract).
  TreeWatcher(pid_t root, bool root_is_new);

  /// Reads /proc once for every process of the tree. Returns false if the root is
  /// gone from /proc (it exited and was reaped).
  bool sample();

  /// The figures between construction and the last sample.
  TreeFigures figures() const;

 private:
  struct ProcReading {
    double cpu_s = 0;  // utime + stime + cutime + cstime (reaped children included)
    double user_s = 0;
    double system_s = 0;
    std::int64_t rchar = 0, wchar = 0, syscr = 0, syscw = 0, read_bytes = 0, write_bytes = 0;
  };
  struct ThreadTrack {
    double first_cpu = 0, first_runq = 0;  // baseline (0 for a thread born while watched)
    double cpu = 0, runq = 0;              // last reading
    double begin = 0;                      // when it started being watched (boottime s)
    double last_seen = 0;                  // boottime s of the last reading
    std::int64_t first_vol = 0, first_invol = 0, vol = 0, invol = 0;
  };

  void read_process(pid_t pid, double now, std::map<pid_t, ProcReading>& into, int& threads,
                    int& sockets);

  pid_t root_;
  double start_ = 0;  // boottime seconds when the watch began
  bool root_is_new_;
  bool first_sample_done_ = false;
  std::map<pid_t, ProcReading> baseline_;  // per-process readings at the first sample
  std::map<pid_t, ProcReading> latest_;    // per-process readings at the last sample
  std::map<std::string, ThreadTrack> threads_;  // key "pid/tid"
  std::set<pid_t> seen_;
  std::set<std::string> programs_;
  int peak_threads_ = 0;
  bool io_readable_ = true;
  std::array<std::int64_t, kWaitKinds> waits_{};
  bool waits_readable_ = true;
  int sockets_peak_ = 0;
  std::set<std::string> sockets_seen_;  // "socket:[inode]" link texts
};

/// Seconds on CLOCK_BOOTTIME, the clock of /proc/PID/stat's start times.
double boottime_now();

/// The command name (/proc/PID/comm) of `pid`, empty if it is gone.
std::string process_name(pid_t pid);

}  // namespace lanes_cli::advise
