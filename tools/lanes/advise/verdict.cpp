// tools/lanes/advise/verdict.cpp — the verdict and its rendering (see verdict.hpp).
#include "advise/verdict.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "json.hpp"

namespace lanes_cli::advise {

namespace {

std::string secs(double s) {
  if (s >= 10) return fmt::format("{:.1f} s", s);
  if (s >= 0.1) return fmt::format("{:.2f} s", s);
  return fmt::format("{:.1f} ms", s * 1e3);
}

std::string bytes(std::int64_t b) {
  const double v = static_cast<double>(b);
  if (v >= 1024.0 * 1024 * 1024) return fmt::format("{:.1f} GiB", v / (1024.0 * 1024 * 1024));
  if (v >= 1024.0 * 1024) return fmt::format("{:.1f} MiB", v / (1024.0 * 1024));
  if (v >= 1024.0) return fmt::format("{:.1f} KiB", v / 1024);
  return fmt::format("{} B", b);
}

std::string times(double s) {
  if (!std::isfinite(s) || s >= 1000) return "more than 1000x";
  return fmt::format("{:.1f}x", s);
}

bool is_python(const TreeFigures& t) {
  return std::any_of(t.programs.begin(), t.programs.end(),
                     [](const std::string& p) { return p.rfind("python", 0) == 0; });
}

}  // namespace

const char* kind_name(Kind k) {
  switch (k) {
    case Kind::cpu_bound: return "CPU-bound";
    case Kind::io_bound: return "I/O-bound";
    case Kind::mixed: return "mixed";
  }
  return "?";
}

Advice judge(const Evidence& e) {
  Advice a;
  const TreeFigures& t = e.tree;
  a.cpu_s = e.have_rusage ? std::max(e.ru_user_s + e.ru_system_s, t.cpu_s) : t.cpu_s;
  const double user = e.have_rusage ? e.ru_user_s : t.user_s;
  const double sys = e.have_rusage ? e.ru_system_s : t.system_s;
  const double wall = std::max(e.wall_s, 1e-6);
  a.cores_busy = a.cpu_s / wall;
  a.demand = (a.cpu_s + t.runqueue_s) / wall;
  a.compute_share = std::min(1.0, a.demand);
  a.kind = a.demand >= 0.75 ? Kind::cpu_bound : (a.demand <= 0.25 ? Kind::io_bound : Kind::mixed);
  a.rule = "CPU-bound when the program wanted at least 0.75 of a core on average (running, or "
           "ready and waiting for a free core), I/O-bound at most 0.25, mixed between";

  const long vol = e.have_rusage ? e.ru_voluntary : static_cast<long>(t.voluntary_switches);
  const long invol = e.have_rusage ? e.ru_involuntary : static_cast<long>(t.involuntary_switches);
  const double waiting = std::max(0.0, 1.0 - a.compute_share);

  a.evidence.push_back(fmt::format("ran {} of wall time; on CPU {} (user {}, system {}): {:.2f} "
                                   "cores busy on average",
                                   secs(e.wall_s), secs(a.cpu_s), secs(user), secs(sys),
                                   a.cores_busy));
  if (t.runqueue_s > 0.05 * wall)
    a.evidence.push_back(fmt::format("ready but waiting for a free core {} (other programs held "
                                     "the CPUs): counted as wanting CPU, not as waiting for I/O",
                                     secs(t.runqueue_s)));
  a.evidence.push_back(fmt::format("off CPU and not runnable {:.0f}% of the time: blocked on I/O, "
                                   "a timer, a lock or a child",
                                   waiting * 100));
  a.evidence.push_back(fmt::format("context switches: {} voluntary (it blocked), {} involuntary "
                                   "(it was preempted)",
                                   vol, invol));
  if (t.io_readable) {
    a.evidence.push_back(fmt::format("I/O: read {} in {} calls, wrote {} in {} calls; storage: {} "
                                     "read, {} written",
                                     bytes(t.read_bytes), t.read_calls, bytes(t.write_bytes),
                                     t.write_calls, bytes(t.disk_read_bytes),
                                     bytes(t.disk_write_bytes)));
    if (a.kind != Kind::cpu_bound && t.read_calls + t.write_calls < 50 && t.read_bytes + t.write_bytes < 1 << 20)
      a.evidence.push_back("it waited with almost no I/O: sleeping, or waiting on a lock, a "
                           "child or a signal");
  } else {
    a.evidence.push_back("I/O counters: not readable (/proc/PID/io belongs to another user)");
  }
  std::string programs;
  for (const auto& p : t.programs) programs += (programs.empty() ? "" : ", ") + p;
  a.evidence.push_back(fmt::format("threads: at most {} at once, in {} process{}{}", t.peak_threads,
                                   t.processes_seen, t.processes_seen == 1 ? "" : "es",
                                   programs.empty() ? "" : " (" + programs + ")"));
  if (a.cpu_s > 0.05 && sys > 0.3 * a.cpu_s)
    a.evidence.push_back(fmt::format("{:.0f}% of the CPU time is in the kernel: many small "
                                     "system calls? batching them helps more than threads",
                                     100 * sys / a.cpu_s));

  const int n = std::max(1, e.cores);
  const bool python = is_python(t);
  const double f = a.compute_share;
  switch (a.kind) {
    case Kind::cpu_bound:
      a.executor = "lanes::ThreadPoolExecutor: in C++ threads compute in parallel (no GIL); "
                   "lanes::ProcessPoolExecutor when the code is not thread-safe or may crash";
      if (python)
        a.executor += ". This is Python: its threads share one GIL, so use "
                      "ProcessPoolExecutor / multiprocessing there";
      if (a.demand >= 0.9 * n) {
        a.speedup = fmt::format("none from more concurrency: it already keeps all {} cores busy; "
                                "only doing less work will help",
                                n);
      } else if (a.demand <= 1.0) {
        const double s = 1.0 / ((1.0 - f) + f / n);
        a.speedup = fmt::format("up to {} on {} cores, if the work splits into independent "
                                "pieces (Amdahl: computing {:.0f}% of the time, "
                                "1 / ({:.2f} + {:.2f}/{}) = {:.2f})",
                                times(s), n, f * 100, 1.0 - f, f, n, s);
      } else {
        const double s = n / a.demand;
        a.speedup = fmt::format("up to {} more: it wants {:.2f} of {} cores already, if the "
                                "rest of the work can spread too",
                                times(s), a.demand, n);
      }
      break;
    case Kind::io_bound: {
      a.executor = "the event loop: lanes::run with a task per wait (create_task, gather), "
                   "blocking calls through lanes::to_thread; threads also work (a "
                   "ThreadPoolExecutor sized to the waits, not to the cores)";
      const double s10 = 1.0 / (f + waiting / 10.0);
      const double lim = f > 0 ? 1.0 / f : INFINITY;
      a.speedup = fmt::format("{} if 10 of its waits overlap (Amdahl: waiting {:.1f}% of the "
                              "time, 1 / ({:.3f} + {:.3f}/10)); at most {} with every wait "
                              "overlapped: the computing part stays serial on one loop thread",
                              times(s10), waiting * 100, f, waiting, times(lim));
      break;
    }
    case Kind::mixed: {
      a.executor = "the event loop for the waits, with the CPU parts sent to a "
                   "lanes::ThreadPoolExecutor (loop.run_in_executor or lanes::to_thread)";
      if (python) a.executor += "; in Python, a ProcessPoolExecutor for the CPU parts";
      const double s10 = 1.0 / (f / n + waiting / 10.0);
      const double lim = f > 0 ? n / f : INFINITY;
      a.speedup = fmt::format("{} if 10 waits overlap and the computing spreads over {} cores "
                              "(Amdahl: 1 / ({:.2f}/{} + {:.2f}/10)); at most {}",
                              times(s10), n, f, n, waiting, times(lim));
      break;
    }
  }
  return a;
}

std::string render_text(const Evidence& e, const Advice& a) {
  std::string out = fmt::format("lanes advise: {}  ({})\n", e.command, e.ended);
  out += fmt::format("  verdict: {}\n", kind_name(a.kind));
  out += "  evidence:\n";
  for (const auto& line : a.evidence) out += "    - " + line + "\n";
  out += "  use: " + a.executor + "\n";
  out += fmt::format("  expected speed-up on this machine ({} core{}): {}\n", e.cores,
                     e.cores == 1 ? "" : "s", a.speedup);
  return out;
}

std::string render_json(const Evidence& e, const Advice& a) {
  JsonWriter w;
  w.begin_object();
  w.member("command", e.command);
  w.member("ended", e.ended);
  w.member("verdict", kind_name(a.kind));
  w.member("wall_s", e.wall_s);
  w.member("cpu_s", a.cpu_s);
  w.member("cores_busy", a.cores_busy);
  w.member("cpu_demand", a.demand);
  w.member("runqueue_s", e.tree.runqueue_s);
  w.member("blocked_s", e.tree.blocked_s);
  w.member("voluntary_switches", static_cast<long long>(e.have_rusage ? e.ru_voluntary : e.tree.voluntary_switches));
  w.member("involuntary_switches", static_cast<long long>(e.have_rusage ? e.ru_involuntary : e.tree.involuntary_switches));
  w.member("read_bytes", static_cast<long long>(e.tree.read_bytes));
  w.member("write_bytes", static_cast<long long>(e.tree.write_bytes));
  w.member("read_calls", static_cast<long long>(e.tree.read_calls));
  w.member("write_calls", static_cast<long long>(e.tree.write_calls));
  w.member("peak_threads", e.tree.peak_threads);
  w.member("processes", e.tree.processes_seen);
  w.member("cores", e.cores);
  w.key("evidence").begin_array();
  for (const auto& line : a.evidence) w.value(line);
  w.end_array();
  w.member("executor", a.executor);
  w.member("speedup", a.speedup);
  w.member("rule", a.rule);
  w.end_object();
  return w.str() + "\n";
}

}  // namespace lanes_cli::advise
