// tools/lanes/advise/verdict.hpp — from measured figures to a verdict (CPU-bound,
// I/O-bound or mixed), the evidence for it, the lanes executor to use, and the
// speed-up to expect on this machine by Amdahl's law.
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

enum class Kind { cpu_bound, io_bound, mixed };
const char* kind_name(Kind k);

struct Advice {
  Kind kind = Kind::mixed;
  double cpu_s = 0;          // CPU time used
  double cores_busy = 0;     // cpu_s / wall
  double demand = 0;         // (CPU + time waiting for a free core) / wall: cores it wanted
  double compute_share = 0;  // min(1, demand): the share of its time it computed
  std::vector<std::string> evidence;
  std::string executor;      // which lanes executor fits
  std::string speedup;       // what to expect, with the Amdahl arithmetic
  std::string rule;          // how the verdict was reached
};

/// The verdict: CPU-bound if the tree wanted at least 0.75 of a core on average
/// (running, or ready and waiting for a free one), I/O-bound at most 0.25, mixed
/// between. Waiting for a free core is not waiting for I/O: a busy loop on a loaded
/// machine stays CPU-bound.
Advice judge(const Evidence& e);

std::string render_text(const Evidence& e, const Advice& a);
std::string render_json(const Evidence& e, const Advice& a);

}  // namespace lanes_cli::advise
