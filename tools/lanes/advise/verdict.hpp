// tools/lanes/advise/verdict.hpp — from measured figures to a verdict (CPU-bound,
// I/O-bound, mixed, idle, or too short to judge), the evidence for it, the lanes
// executor to use, and the speed-up to expect on this machine by Amdahl's law.
#pragma once

#include <string>
#include <vector>

#include "advise/proc_tree.hpp"

namespace lanes_cli::advise {

/// Everything measured about one program.
struct Evidence {
  std::string command;   // as the user typed it, or "pid N (comm)"
  double wall_s = 0;
  TreeFigures tree;
  bool have_rusage = false;  // we ran it: wait4 gave exact totals for the tree
  double ru_user_s = 0, ru_system_s = 0;
  long ru_voluntary = 0, ru_involuntary = 0;
  long ru_maxrss_kb = 0;
  int cores = 1;
  std::string ended;     // "exit status 0", "killed by signal 9 (SIGKILL)", "still running"
};

enum class Kind { cpu_bound, io_bound, mixed, idle, too_short };
/// "CPU-bound", "I/O-bound", "mixed", "idle", "too short to judge".
const char* kind_name(Kind k);

struct Advice {
  Kind kind = Kind::mixed;
  double cpu_s = 0;          // CPU time used
  double cores_busy = 0;     // cpu_s / wall
  double demand = 0;         // (CPU + time waiting for a free core) / wall: cores it wanted
  double compute_share = 0;  // the share of its time it computed, waits for a core aside
  double wakeups_per_s = 0;  // voluntary context switches per second: how often it woke
  double io_wait_share = 0;  // of its blocked samples, the share in I/O system calls
  std::vector<std::string> evidence;
  std::string executor;      // which lanes executor fits
  std::string speedup;       // what to expect, with the Amdahl arithmetic
  std::string rule;          // how the verdict was reached
};

/// Shorter than this, start-up (exec, dynamic linking) is most of what was measured.
inline constexpr double kTooShortSeconds = 0.1;

/// The verdict. Too short to judge under kTooShortSeconds (of wall time, less the time
/// it waited for a free core). Otherwise the compute share
/// is the larger of CPU / wall and, over the threads watched, CPU / (CPU + blocked):
/// time spent waiting for a free core is left out, so neither a busy loop on a loaded
/// machine nor a program slow to start on one is misjudged. CPU-bound at 0.75 or more,
/// mixed above 0.25; at most 0.25 it waited: I/O-bound if it did I/O meanwhile (bytes
/// or calls through /proc/PID/io, or frequent wake-ups while blocked in socket, pipe or
/// poll calls), idle if not.
Advice judge(const Evidence& e);

std::string render_text(const Evidence& e, const Advice& a);
std::string render_json(const Evidence& e, const Advice& a);

}  // namespace lanes_cli::advise
