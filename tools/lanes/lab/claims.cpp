// tools/lanes/lab/claims.cpp — the seeds' claims and how each is judged.
//
// Thresholds are deliberately loose (machines are noisy): a speed-up "near 1" is
// below 1.3, "real" parallel speed-up is at least 70% of the cores that could help.
#include "lab/claims.hpp"

#include <algorithm>
#include <functional>
#include <optional>
#include <string_view>

#include <fmt/format.h>

#include "lab/report.hpp"

namespace lanes_cli::lab {

const char* verdict_name(Verdict v) {
  switch (v) {
    case Verdict::confirmed: return "confirmed";
    case Verdict::refuted: return "refuted";
    case Verdict::partly: return "partly true";
    case Verdict::answered: return "answered";
    case Verdict::not_measured: return "not measured";
  }
  return "?";
}

namespace {

constexpr double kNearOne = 1.3;

/// Read-only access to the figures of one run of the lab.
class Figures {
 public:
  Figures(const std::vector<ExperimentResult>& results, int cores) : results_(results), cores_(cores) {}

  const ExperimentResult* experiment(std::string_view name) const {
    for (const auto& r : results_)
      if (r.name == name) return &r;
    return nullptr;
  }
  std::optional<double> value(std::string_view exp, std::string_view lang, std::string_view way,
                              std::string_view key) const {
    const auto* e = experiment(exp);
    const Run* r = e ? e->find(lang, way) : nullptr;
    return r ? r->get(key) : std::nullopt;
  }
  std::optional<double> speedup(std::string_view exp, std::string_view lang,
                                std::string_view way) const {
    return value(exp, lang, way, "speedup");
  }
  /// The first run of `exp` for which `pred` holds.
  const Run* find_if(std::string_view exp, const std::function<bool(const Run&)>& pred) const {
    const auto* e = experiment(exp);
    if (!e) return nullptr;
    for (const auto& r : e->runs)
      if (r.ran() && pred(r)) return &r;
    return nullptr;
  }
  int cores() const { return cores_; }

 private:
  const std::vector<ExperimentResult>& results_;
  int cores_;
};

std::string x(double v) { return fmt::format("{:.2f}x", v); }
std::string opt_x(std::optional<double> v) { return v ? x(*v) : std::string("n/a"); }

struct ClaimDef {
  bool needs_free_cores;  // judged on parallel speed-up, which a busy machine squeezes
  const char* id;
  const char* seeds;
  const char* claim;
  const char* experiment;
  std::function<void(const Figures&, ClaimResult&)> judge;
};

bool tagged(const Run& r, std::string_view key, double want) {
  auto v = r.get(key);
  return v && *v == want;
}

const std::vector<ClaimDef>& claim_table() {
  static const std::vector<ClaimDef> table = {
      {false, "gil-one-thread", "seeds 000, 001, 004",
       "Under the GIL only one thread runs at a time: threads do not speed up CPU work.", "cpu",
       [](const Figures& f, ClaimResult& c) {
         auto py = f.speedup("cpu", "Python", "threads");
         auto emu = f.speedup("cpu", "C++", "threads + emulated GIL");
         auto free = f.speedup("cpu", "C++", "threads");
         if (!py && !emu) return;
         double worst = std::max(py.value_or(0), emu.value_or(0));
         c.verdict = worst < kNearOne ? Verdict::confirmed : Verdict::refuted;
         c.figure = fmt::format("threads on fib: Python {}, C++ under the emulated GIL {}; C++ "
                                "without a GIL {}",
                                opt_x(py), opt_x(emu), opt_x(free));
         auto sw = f.value("cpu", "C++", "threads + emulated GIL", "gil_switches");
         c.why = fmt::format("each thread must hold the one lock to compute, so the cores take "
                             "turns{}",
                             sw ? fmt::format(" (the GIL changed hands {:.0f} times)", *sw) : "");
       }},
      {true, "cpp-threads-parallel", "seed 001",
       "Without a GIL (C++, Java) threads give true parallelism on a multicore machine.", "cpu",
       [](const Figures& f, ClaimResult& c) {
         auto t = f.speedup("cpu", "C++", "threads");
         auto busy = f.value("cpu", "C++", "threads", "cores_busy");
         if (!t) return;
         if (f.cores() < 2) {
           c.verdict = Verdict::not_measured;
           c.figure = fmt::format("C++ threads {} on a single core", x(*t));
           c.why = "this machine has one usable core: nothing can run in parallel";
           return;
         }
         c.verdict = *t >= 0.7 * f.cores() ? Verdict::confirmed : Verdict::refuted;
         c.figure = fmt::format("C++ threads on fib: {} with {:.2f} of {} cores busy", x(*t),
                                busy.value_or(0), f.cores());
         c.why = "no lock serialises them: each std::thread runs on a core of its own";
       }},
      {true, "processes-for-cpu", "seeds 000, 002, 004",
       "For CPU work use parallelism: processes, which sidestep the GIL.", "cpu",
       [](const Figures& f, ClaimResult& c) {
         auto pyp = f.speedup("cpu", "Python", "process pool");
         auto pyt = f.speedup("cpu", "Python", "threads");
         auto cp = f.speedup("cpu", "C++", "process pool");
         auto ct = f.speedup("cpu", "C++", "threads");
         if (!pyp && !cp) return;
         const bool python_ok = pyp && pyt && *pyp > *pyt * 1.2 && *pyp >= 0.6 * f.cores();
         const bool cpp_ok = cp && *cp >= 0.6 * f.cores();
         if (pyp && !python_ok && f.cores() >= 2) {
           c.verdict = Verdict::refuted;
         } else {
           // In C++ threads do as well as processes: the advice is Python's, not universal.
           c.verdict = (ct && *ct >= 0.6 * f.cores()) ? Verdict::partly
                                                      : (python_ok || cpp_ok ? Verdict::confirmed
                                                                             : Verdict::refuted);
         }
         c.figure = fmt::format("process pool: Python {}, C++ {}; threads: Python {}, C++ {}",
                                opt_x(pyp), opt_x(cp), opt_x(pyt), opt_x(ct));
         c.why = "processes each have their own interpreter and lock, so Python needs them; C++ "
                 "threads have no GIL and do as well without the start-up and copying";
       }},
      {true, "which-is-faster", "seed 004, exercise 3",
       "Fibonacci with threads and with processes: which is faster? Why?", "cpu",
       [](const Figures& f, ClaimResult& c) {
         auto pyt = f.value("cpu", "Python", "threads", "wall_s");
         auto pyp = f.value("cpu", "Python", "process pool", "wall_s");
         auto ct = f.value("cpu", "C++", "threads", "wall_s");
         auto cp = f.value("cpu", "C++", "process pool", "wall_s");
         if (!ct && !pyt) return;
         c.verdict = Verdict::answered;
         auto verdict = [](double threads, double processes) {
           const double ratio = threads / processes;
           return fmt::format("threads {:.2f} s, processes {:.2f} s: {}", threads, processes,
                              ratio > 1.05   ? "processes faster"
                              : ratio < 0.95 ? "threads faster"
                                             : "about the same");
         };
         std::string parts;
         if (pyt && pyp) parts += "Python: " + verdict(*pyt, *pyp);
         if (ct && cp) parts += (parts.empty() ? "C++: " : "; C++: ") + verdict(*ct, *cp);
         c.figure = parts;
         c.why = "in Python the GIL lets one thread compute at a time, processes each have their "
                 "own; in C++ both are parallel and threads skip the process start-up";
       }},
      {false, "concurrency-without-parallelism", "seeds 001, 002",
       "Concurrency does not imply parallelism: interleaving tasks on one core overlaps "
       "waiting, not computing.",
       "cpu",
       [](const Figures& f, ClaimResult& c) {
         auto loop = f.speedup("cpu", "C++", "event loop");
         auto one = f.speedup("cpu", "C++", "threads, 1 core");
         auto loop_io = f.speedup("io", "C++", "event loop");
         if (!loop && !one) return;
         const bool ok = loop.value_or(1) < kNearOne && one.value_or(1) < kNearOne;
         c.verdict = ok ? Verdict::confirmed : Verdict::refuted;
         c.figure = fmt::format("fib: event loop {}, threads on 1 core {}{}", opt_x(loop),
                                opt_x(one),
                                loop_io ? fmt::format("; waits: event loop {}", x(*loop_io)) : "");
         c.why = "one core runs one thing at a time: switching between computations only adds "
                 "switches, while waits overlap fine";
       }},
      {false, "threads-for-io", "seeds 000, 004",
       "For I/O work use concurrency: threads are a good choice for I/O.", "io",
       [](const Figures& f, ClaimResult& c) {
         auto py = f.speedup("io", "Python", "threads");
         auto cpp = f.speedup("io", "C++", "threads");
         if (!py && !cpp) return;
         double best = std::max(py.value_or(0), cpp.value_or(0));
         c.verdict = best >= 3 ? Verdict::confirmed : Verdict::refuted;
         c.figure = fmt::format("threads on waits: Python {}, C++ {}", opt_x(py), opt_x(cpp));
         c.why = "a thread blocked in the kernel costs no CPU, so the waits overlap";
       }},
      {false, "gil-released-on-io", "seed 001",
       "The GIL is released around I/O, so threads do I/O concurrently but not CPU work.", "io",
       [](const Figures& f, ClaimResult& c) {
         auto io = f.speedup("io", "C++", "threads + emulated GIL");
         auto cpu = f.speedup("cpu", "C++", "threads + emulated GIL");
         auto py_io = f.speedup("io", "Python", "threads");
         auto py_cpu = f.speedup("cpu", "Python", "threads");
         if (!io && !py_io) return;
         const bool io_ok = std::max(io.value_or(0), py_io.value_or(0)) >= 3;
         const bool cpu_ok = !(cpu || py_cpu) || std::max(cpu.value_or(0), py_cpu.value_or(0)) < kNearOne;
         c.verdict = io_ok && cpu_ok ? Verdict::confirmed : Verdict::refuted;
         c.figure = fmt::format("threads under a GIL: waits {} (Python {}), fib {} (Python {})",
                                opt_x(io), opt_x(py_io), opt_x(cpu), opt_x(py_cpu));
         c.why = "a thread drops the lock while it waits in the kernel and needs it back only to "
                 "compute";
       }},
      {false, "event-loop-io", "seed 001",
       "A coroutine pauses on I/O and the event loop runs other tasks meanwhile.", "io",
       [](const Figures& f, ClaimResult& c) {
         auto cpp = f.speedup("io", "C++", "event loop");
         auto busy = f.value("io", "C++", "event loop", "cores_busy");
         auto py = f.speedup("io", "Python", "event loop");
         if (!cpp && !py) return;
         c.verdict = std::max(cpp.value_or(0), py.value_or(0)) >= 3 ? Verdict::confirmed
                                                                      : Verdict::refuted;
         c.figure = fmt::format("event loop on waits: C++ {} ({:.2f} cores busy), Python {}",
                                opt_x(cpp), busy.value_or(0), opt_x(py));
         c.why = "one thread starts every request, then sleeps in epoll until any answer arrives";
       }},
      {false, "memory-separation", "seeds 001, 002",
       "Threads share their process's memory; a process has memory others cannot access.",
       "memory",
       [](const Figures& f, ClaimResult& c) {
         auto thread = f.value("memory", "C++", "thread", "parent_sees");
         auto proc = f.value("memory", "C++", "child process", "parent_sees");
         if (!thread || !proc) return;
         c.verdict = (*thread == 1 && *proc == 0) ? Verdict::confirmed : Verdict::refuted;
         c.figure = fmt::format("a global set by a thread: parent sees it {}; set by a child "
                                "process: parent sees it {}",
                                *thread == 1 ? "yes" : "no", *proc == 1 ? "yes" : "no");
         c.why = "a thread writes the same pages; a child process writes its own copy";
       }},
      {false, "lock-prevents-races", "seed 004",
       "Threads sharing data race; a Lock lets only one thread at a time touch it.", "lock",
       [](const Figures& f, ClaimResult& c) {
         auto bare = f.value("lock", "C++", "unprotected", "lost");
         auto locked = f.value("lock", "C++", "std::mutex", "lost");
         if (!bare || !locked) return;
         if (*locked != 0) {
           c.verdict = Verdict::refuted;
         } else {
           c.verdict = *bare > 0 ? Verdict::confirmed : Verdict::partly;
         }
         c.figure = fmt::format("lost updates: {} unprotected, {} under a lock",
                                format_value(*bare, Format::count),
                                format_value(*locked, Format::count));
         c.why = *bare > 0 ? "two threads read the same value and both write value+1: one "
                             "increment vanishes; the lock makes read-modify-write indivisible"
                           : "no update was lost this time, but nothing prevented it: races are "
                             "timing-dependent";
       }},
      {false, "gil-not-full-protection", "seed 004",
       "The GIL does not fully protect you from data races.", "lock",
       [](const Figures& f, ClaimResult& c) {
         auto gil = f.value("lock", "C++", "unprotected + emulated GIL", "lost");
         auto tasks = f.value("lock", "C++", "tasks, unprotected", "lost");
         auto tasks_locked = f.value("lock", "C++", "tasks + lanes::Lock", "lost");
         if (!gil && !tasks) return;
         c.verdict = (gil.value_or(0) > 0 || tasks.value_or(0) > 0) ? Verdict::confirmed
                                                                      : Verdict::partly;
         c.figure = fmt::format("lost updates: {} under the emulated GIL; {} by event-loop "
                                "tasks ({} with lanes::Lock)",
                                gil ? format_value(*gil, Format::count) : "n/a",
                                tasks ? format_value(*tasks, Format::count) : "n/a",
                                tasks_locked ? format_value(*tasks_locked, Format::count) : "n/a");
         c.why = "a switch can fall between the read and the write; one thread with await in "
                 "between races the same way";
       }},
      {true, "process-has-own-gil", "seed 001",
       "Each Python process has its own GIL, so processes compute in parallel.", "hybrid",
       [](const Figures& f, ClaimResult& c) {
         const Run* multi = f.find_if("hybrid", [](const Run& r) {
           return tagged(r, "gil", 1) && r.get("processes").value_or(1) > 1;
         });
         const Run* single = f.find_if("hybrid", [](const Run& r) {
           return tagged(r, "gil", 1) && tagged(r, "processes", 1);
         });
         if (!multi || !single) return;
         auto pm = multi->get("speedup").value_or(0);
         auto ps = single->get("speedup").value_or(0);
         double p = multi->get("processes").value_or(1);
         c.verdict = (pm >= 0.7 * std::min<double>(p, f.cores()) && ps < kNearOne)
                         ? Verdict::confirmed
                         : Verdict::refuted;
         c.figure = fmt::format("a GIL per process: {} = {}; {} = {}", multi->way, x(pm),
                                single->way, x(ps));
         c.why = "the lock is per process: threads of one process take turns, processes do not";
       }},
      {true, "concurrency-and-parallelism", "seed 004, exercise 2",
       "Concurrency and parallelism together: processes that each run threads.", "hybrid",
       [](const Figures& f, ClaimResult& c) {
         const Run* both = f.find_if("hybrid", [](const Run& r) {
           return tagged(r, "gil", 0) && r.get("processes").value_or(1) > 1 &&
                  r.get("threads").value_or(1) > 1;
         });
         if (!both) return;
         auto s = both->get("speedup").value_or(0);
         c.verdict = s >= 0.7 * f.cores() ? Verdict::confirmed : Verdict::refuted;
         c.figure = fmt::format("{}: {} on {} cores", both->way, x(s), f.cores());
         c.why = "the threads of every process run on whatever core is free: the speed-up is "
                 "bounded by the cores, not by how the work is split";
       }},
      {false, "threads-lightweight", "seeds 001, 004",
       "Threads are lightweight: lighter-weight processes.", "scale",
       [](const Figures& f, ClaimResult& c) {
         const Run* th = f.find_if("scale", [](const Run& r) { return tagged(r, "kind", 1); });
         const Run* co = f.find_if("scale", [](const Run& r) { return tagged(r, "kind", 2); });
         const Run* pr = f.find_if("scale", [](const Run& r) { return tagged(r, "kind", 3); });
         if (!th) return;
         auto t_us = th->get("create_us").value_or(0);
         auto t_b = th->get("bytes_each").value_or(0);
         std::string fig = fmt::format("a thread: {:.1f} µs to start, {:.1f} KiB", t_us, t_b / 1024);
         if (pr) fig += fmt::format("; a process: {:.0f} µs", pr->get("create_us").value_or(0));
         if (co)
           fig += fmt::format("; a coroutine: {:.2f} µs, {:.0f} B",
                              co->get("create_us").value_or(0), co->get("bytes_each").value_or(0));
         c.figure = fig;
         const bool lighter = !pr || t_us < pr->get("create_us").value_or(0);
         const bool heavier_than_coroutine =
             co && t_b > 10 * co->get("bytes_each").value_or(0);
         c.verdict = !lighter ? Verdict::refuted
                              : (heavier_than_coroutine ? Verdict::partly : Verdict::confirmed);
         c.why = heavier_than_coroutine
                     ? "lighter than a process, but each has a kernel stack and a user stack; a "
                       "coroutine is one small heap frame"
                     : "a thread shares its process's memory and needs only a stack";
       }},
  };
  return table;
}

}  // namespace

std::vector<ClaimResult> evaluate_claims(const std::vector<ExperimentResult>& results, int cores,
                                         bool machine_busy) {
  Figures figures(results, cores);
  std::vector<ClaimResult> out;
  for (const auto& def : claim_table()) {
    ClaimResult c;
    c.id = def.id;
    c.seeds = def.seeds;
    c.claim = def.claim;
    c.experiment = def.experiment;
    if (figures.experiment(def.experiment)) def.judge(figures, c);
    const auto inflation = figures.value("cpu", "C++", "threads", "cpu_inflation");
    if (def.needs_free_cores && c.verdict == Verdict::refuted && inflation && *inflation > 1.3)
      c.why = fmt::format("run in parallel, the same work took {:.1f}x the CPU time here (see the "
                          "cpu note): the cores slow each other down; without that: ",
                          *inflation) + c.why;
    else if (machine_busy && def.needs_free_cores && c.verdict == Verdict::refuted)
      c.why = "other programs kept the cores busy during this run (see the note at the top), "
              "which squeezes parallel speed-ups; on an idle machine: " + c.why;
    if (c.verdict == Verdict::not_measured && c.figure.empty())
      c.figure = figures.experiment(def.experiment)
                     ? "the runs it needs did not run here"
                     : fmt::format("run `lanes lab {}` to measure it", def.experiment);
    out.push_back(std::move(c));
  }
  return out;
}

}  // namespace lanes_cli::lab
