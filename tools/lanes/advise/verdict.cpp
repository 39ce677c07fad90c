// tools/lanes/advise/verdict.cpp — the verdict and its rendering (see verdict.hpp).
#include "advise/verdict.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "json_out.hpp"

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
    case Kind::idle: return "idle";
    case Kind::too_short: return "too short to judge";
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
  // Per thread, the share of the time it had a core that it used: waiting for a core
  // (a loaded machine, a slow start) counts neither way.
  const double per_thread =
      t.on_cpu_s + t.blocked_s > 0 ? t.on_cpu_s / (t.on_cpu_s + t.blocked_s) : 0.0;
  a.compute_share = std::min(1.0, std::max(a.cores_busy, per_thread));

  const long vol = e.have_rusage ? e.ru_voluntary : static_cast<long>(t.voluntary_switches);
  const long invol = e.have_rusage ? e.ru_involuntary : static_cast<long>(t.involuntary_switches);
  a.wakeups_per_s = static_cast<double>(vol) / wall;

  // What its blocked threads sat in; a shell waiting for its children is neither
  // computing nor doing I/O, and the children are watched themselves.
  std::int64_t blocked_samples = 0, io_samples = 0;
  for (int k = 0; k < kWaitKinds; ++k) {
    const auto kind = static_cast<WaitKind>(k);
    if (kind == WaitKind::child) continue;
    blocked_samples += t.waits[static_cast<std::size_t>(k)];
    if (is_io_wait(kind)) io_samples += t.waits[static_cast<std::size_t>(k)];
  }
  a.io_wait_share = blocked_samples > 0 ? static_cast<double>(io_samples) /
                                              static_cast<double>(blocked_samples)
                                        : 0.0;
  const std::int64_t io_bytes = t.read_bytes + t.write_bytes;
  const std::int64_t io_calls = t.read_calls + t.write_calls;
  const bool traffic = static_cast<double>(io_bytes) / wall >= 16 * 1024 ||
                       static_cast<double>(io_calls) / wall >= 20;
  // Sockets' send/recv escape /proc/PID/io: frequent wake-ups out of I/O waits show them.
  const bool busy_waits = a.io_wait_share >= 0.5 && a.wakeups_per_s >= 5;
  const bool did_io = blocked_samples > 0 ? (a.io_wait_share >= 0.5 && (traffic || busy_waits))
                                          : traffic;

  // Too short: it ran (or could have run) for less than kTooShortSeconds; time spent
  // waiting for a free core is the machine's load, not the program.
  if (e.wall_s - t.runqueue_s < kTooShortSeconds) {
    a.kind = Kind::too_short;
  } else if (a.compute_share >= 0.75) {
    a.kind = Kind::cpu_bound;
  } else if (a.compute_share > 0.25) {
    a.kind = Kind::mixed;
  } else {
    a.kind = did_io ? Kind::io_bound : Kind::idle;
  }
  a.rule = fmt::format(
      "too short to judge under {:.0f} ms (start-up is most of it); else by the share of its "
      "time it computed (waits for a free core left out): CPU-bound from 0.75, mixed above "
      "0.25; below, I/O-bound if it did I/O while it waited (bytes or calls, or wake-ups out "
      "of socket, pipe and poll waits), idle if it did not",
      kTooShortSeconds * 1e3);

  const double waiting = std::max(0.0, 1.0 - a.compute_share);
  a.evidence.push_back(fmt::format("ran {} of wall time; on CPU {} (user {}, system {}): {:.2f} "
                                   "cores busy on average",
                                   secs(e.wall_s), secs(a.cpu_s), secs(user), secs(sys),
                                   a.cores_busy));
  if (a.kind == Kind::too_short)
    a.evidence.push_back(fmt::format("it ended within {:.0f} ms: what was measured is mostly "
                                     "starting a program, not the program's own work",
                                     kTooShortSeconds * 1e3));
  if (t.runqueue_s > 0.05 * wall)
    a.evidence.push_back(fmt::format("ready but waiting for a free core {} (other programs held "
                                     "the CPUs): counted neither as computing nor as waiting",
                                     secs(t.runqueue_s)));
  a.evidence.push_back(fmt::format("computing {:.0f}% of the time it could run, blocked {:.0f}%",
                                   a.compute_share * 100, waiting * 100));
  if (blocked_samples > 0) {
    std::vector<std::pair<std::int64_t, int>> kinds;
    for (int k = 0; k < kWaitKinds; ++k)
      if (k != static_cast<int>(WaitKind::child) && t.waits[static_cast<std::size_t>(k)] > 0)
        kinds.emplace_back(t.waits[static_cast<std::size_t>(k)], k);
    std::sort(kinds.rbegin(), kinds.rend());
    std::string parts;
    for (std::size_t i = 0; i < kinds.size() && i < 3; ++i)
      parts += fmt::format("{}{} {:.0f}%", i ? ", " : "",
                           wait_kind_name(static_cast<WaitKind>(kinds[i].second)),
                           100.0 * static_cast<double>(kinds[i].first) /
                               static_cast<double>(blocked_samples));
    a.evidence.push_back("while blocked, it sat in: " + parts);
  } else if (!t.waits_readable) {
    a.evidence.push_back("what it blocked in: not readable (/proc/PID/task/*/syscall belongs to "
                         "another user)");
  }
  a.evidence.push_back(fmt::format("context switches: {} voluntary (it blocked: {:.0f} wake-ups "
                                   "a second), {} involuntary (it was preempted)",
                                   vol, a.wakeups_per_s, invol));
  if (t.io_readable) {
    a.evidence.push_back(fmt::format("I/O through read/write: read {} in {} calls, wrote {} in {} "
                                     "calls; storage: {} read, {} written",
                                     bytes(t.read_bytes), t.read_calls, bytes(t.write_bytes),
                                     t.write_calls, bytes(t.disk_read_bytes),
                                     bytes(t.disk_write_bytes)));
  } else {
    a.evidence.push_back("I/O counters: not readable (/proc/PID/io belongs to another user)");
  }
  if (t.sockets_seen > 0)
    a.evidence.push_back(fmt::format(
        "sockets: {} seen open, at most {} at once; what they carried through send/recv is not "
        "counted by /proc/PID/io, so network traffic shows only as the waits and wake-ups above",
        t.sockets_seen, t.sockets_peak));
  if (a.kind == Kind::idle)
    a.evidence.push_back(a.io_wait_share >= 0.5
                             ? "it waited on sockets, pipes or poll with almost no traffic: an "
                               "idle server, or a peer slow to answer"
                             : "its waits were not I/O: sleeping, or waiting on a lock or a "
                               "signal");
  std::string programs;
  for (const auto& p : t.programs) programs += (programs.empty() ? "" : ", ") + p;
  a.evidence.push_back(fmt::format("threads: at most {} at once, in {} process{}{}", t.peak_threads,
                                   t.processes_seen, t.processes_seen == 1 ? "" : "es",
                                   programs.empty() ? "" : " (" + programs + ")"));
  if (a.cpu_s > 0.05 && sys > 0.3 * a.cpu_s) {
    const double pct = 100 * sys / a.cpu_s;
    if (!t.io_readable || io_calls == 0) {
      a.evidence.push_back(fmt::format("{:.0f}% of the CPU time is in the kernel", pct));
    } else {
      const double per_call = static_cast<double>(io_bytes) / static_cast<double>(io_calls);
      const double calls_per_s = static_cast<double>(io_calls) / wall;
      if (per_call < 4096 && calls_per_s >= 1000) {
        a.evidence.push_back(fmt::format("{:.0f}% of the CPU time is in the kernel, over {:.0f} "
                                         "reads and writes a second of {} each on average: many "
                                         "small system calls; batching them (bigger buffers) "
                                         "helps more than threads",
                                         pct, calls_per_s, bytes(static_cast<std::int64_t>(per_call))));
      } else if (t.sockets_seen > 0) {
        a.evidence.push_back(fmt::format("{:.0f}% of the CPU time is in the kernel; its counted "
                                         "reads and writes ({:.0f} a second, {} each on average) "
                                         "are only part of it: socket calls (send, recv, poll) "
                                         "are not counted, and many small ones cost as much: "
                                         "fewer, larger transfers help more than threads",
                                         pct, calls_per_s, bytes(static_cast<std::int64_t>(per_call))));
      } else {
        a.evidence.push_back(fmt::format("{:.0f}% of the CPU time is in the kernel, but its reads "
                                         "and writes are not many small ones ({:.0f} a second, {} "
                                         "each on average): the kernel time is in what the calls "
                                         "do (disk syncs, copies, page faults), not in their number",
                                         pct, calls_per_s, bytes(static_cast<std::int64_t>(per_call))));
      }
    }
  }

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
    case Kind::idle:
      a.executor = "nothing to choose from this watch: it was idle. Watch it while it works "
                   "(lanes advise --pid N while it serves requests or reads its input)";
      a.speedup = "none to expect: concurrency speeds up work, and there was none";
      break;
    case Kind::too_short:
      a.executor = "cannot tell from a run this short: give it a bigger input, or watch a "
                   "longer-running process with lanes advise --pid N";
      a.speedup = "cannot tell: start-up dominates a run this short";
      break;
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
  const TreeFigures& t = e.tree;
  JsonDoc d = json_document("lanes advise");
  d["command"] = e.command;
  d["ended"] = e.ended;
  d["verdict"] = kind_name(a.kind);
  d["wall_s"] = json_number(e.wall_s);
  d["cpu_s"] = json_number(a.cpu_s);
  d["cores_busy"] = json_number(a.cores_busy);
  d["cpu_demand"] = json_number(a.demand);
  d["compute_share"] = json_number(a.compute_share);
  d["runqueue_s"] = json_number(t.runqueue_s);
  d["blocked_s"] = json_number(t.blocked_s);
  d["voluntary_switches"] = e.have_rusage ? e.ru_voluntary : t.voluntary_switches;
  d["involuntary_switches"] = e.have_rusage ? e.ru_involuntary : t.involuntary_switches;
  d["wakeups_per_s"] = json_number(a.wakeups_per_s);
  d["read_bytes"] = t.read_bytes;
  d["write_bytes"] = t.write_bytes;
  d["read_calls"] = t.read_calls;
  d["write_calls"] = t.write_calls;
  d["sockets_seen"] = t.sockets_seen;
  d["sockets_peak"] = t.sockets_peak;
  d["io_wait_share"] = json_number(a.io_wait_share);
  JsonDoc& waits = d["blocked_in"] = JsonDoc::object();  // samples per kind of system call
  static constexpr const char* keys[kWaitKinds] = {"sleep", "poll",     "socket", "read", "write",
                                                   "disk_sync", "io_uring", "lock", "child", "other"};
  for (int k = 0; k < kWaitKinds; ++k) waits[keys[k]] = t.waits[static_cast<std::size_t>(k)];
  d["peak_threads"] = t.peak_threads;
  d["processes"] = t.processes_seen;
  d["cores"] = e.cores;
  d["evidence"] = a.evidence;
  d["executor"] = a.executor;
  d["speedup"] = a.speedup;
  d["rule"] = a.rule;
  return dump_json(d);
}

}  // namespace lanes_cli::advise
