// tools/lanes/lab/claims.cpp — the tutorial's claims and how each is judged.
//
// Thresholds are deliberately loose (machines are noisy): a speed-up "near 1" is
// below 1.3, "real" parallel speed-up is at least 70% of the cores that could help.
// And a verdict needs a margin: a figure within the run's own noise of its threshold
// (at least 15%, more when the sequential baseline, measured twice, moved more) is
// "inconclusive", not refuted; so is a parallel speed-up that falls short while other
// programs kept the cores busy.
#include "lab/claims.hpp"

#include <algorithm>
#include <functional>
#include <optional>
#include <string_view>

#include <fmt/format.h>

#include "lab/claim_figures.hpp"
#include "lab/report.hpp"
#include "lab/ways.hpp"

namespace lanes_cli::lab {

const char* verdict_name(Verdict v) {
  switch (v) {
    case Verdict::confirmed: return "confirmed";
    case Verdict::refuted: return "refuted";
    case Verdict::partly: return "partly true";
    case Verdict::answered: return "answered";
    case Verdict::inconclusive: return "inconclusive";
    case Verdict::not_measured: return "not measured";
  }
  return "?";
}

namespace {

using namespace claim_detail;

std::string x(double v) { return fmt::format("{:.2f}x", v); }
std::string opt_x(std::optional<double> v) { return v ? x(*v) : std::string("n/a"); }

/// What a claim's figures need to be trusted against a threshold.
enum class Needs {
  nothing,        // counts, not timings (lost updates, what a process sees)
  quiet_machine,  // timings: other programs' load makes them noisy
  free_cores,     // parallel speed-ups: other programs' load squeezes them
};

struct ClaimDef {
  Needs needs;
  const char* id;
  const char* source;
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
      {Needs::quiet_machine, "gil-one-thread", "tutorial parts 000, 001, 004",
       "Under the GIL only one thread runs at a time: threads do not speed up CPU work.", "cpu",
       [](const Figures& f, ClaimResult& c) {
         auto py = f.speedup("cpu", langs::python, ways::threads);
         auto emu = f.speedup("cpu", langs::cpp, ways::threads_gil);
         auto free = f.speedup("cpu", langs::cpp, ways::threads);
         if (!py && !emu) return;
         double worst = std::max(py.value_or(0), emu.value_or(0));
         c.verdict = f.below(worst, kNearOne);
         c.figure = fmt::format("threads on fib: Python {}, C++ under the emulated GIL {}; C++ "
                                "without a GIL {}",
                                opt_x(py), opt_x(emu), opt_x(free));
         auto sw = f.value("cpu", langs::cpp, ways::threads_gil, keys::gil_switches);
         c.why = fmt::format("each thread must hold the one lock to compute, so the cores take "
                             "turns{}",
                             sw ? fmt::format(" (the GIL changed hands {:.0f} times)", *sw) : "");
       }},
      {Needs::free_cores, "cpp-threads-parallel", "tutorial part 001",
       "Without a GIL (C++, Java) threads give true parallelism on a multicore machine.", "cpu",
       [](const Figures& f, ClaimResult& c) {
         auto t = f.speedup("cpu", langs::cpp, ways::threads);
         auto busy = f.value("cpu", langs::cpp, ways::threads, keys::cores_busy);
         if (!t) return;
         if (f.cores() < 2) {
           c.verdict = Verdict::not_measured;
           c.figure = fmt::format("C++ threads {} on a single core", x(*t));
           c.why = "this machine has one usable core: nothing can run in parallel";
           return;
         }
         c.verdict = f.at_least(*t, 0.7 * f.cores());
         c.figure = fmt::format("C++ threads on fib: {} with {:.2f} of {} cores busy", x(*t),
                                busy.value_or(0), f.cores());
         c.why = "no lock serialises them: each std::thread runs on a core of its own";
       }},
      {Needs::free_cores, "processes-for-cpu", "tutorial parts 000, 002, 004",
       "For CPU work use parallelism: processes, which sidestep the GIL.", "cpu",
       [](const Figures& f, ClaimResult& c) {
         auto pyp = f.speedup("cpu", langs::python, ways::process_pool);
         auto pyt = f.speedup("cpu", langs::python, ways::threads);
         auto cp = f.speedup("cpu", langs::cpp, ways::process_pool);
         auto ct = f.speedup("cpu", langs::cpp, ways::threads);
         if (!pyp && !cp) return;
         // Python: processes beat its threads and reach 60% of the cores.
         std::optional<Verdict> python;
         if (pyp && pyt && f.cores() >= 2)
           python = both(f.at_least(*pyp, *pyt * 1.2), f.at_least(*pyp, 0.6 * f.cores()));
         const Verdict cpp = cp ? f.at_least(*cp, 0.6 * f.cores()) : Verdict::not_measured;
         if (python && *python != Verdict::confirmed) {
           c.verdict = *python;
         } else if (ct && f.at_least(*ct, 0.6 * f.cores()) == Verdict::confirmed) {
           // In C++ threads do as well as processes: the advice is Python's, not universal.
           c.verdict = Verdict::partly;
         } else {
           c.verdict = python ? Verdict::confirmed : cpp;
         }
         c.figure = fmt::format("process pool: Python {}, C++ {}; threads: Python {}, C++ {}",
                                opt_x(pyp), opt_x(cp), opt_x(pyt), opt_x(ct));
         c.why = "processes each have their own interpreter and lock, so Python needs them; C++ "
                 "threads have no GIL and do as well without the start-up and copying";
       }},
      {Needs::free_cores, "which-is-faster", "tutorial part 004, exercise 3",
       "Fibonacci with threads and with processes: which is faster? Why?", "cpu",
       [](const Figures& f, ClaimResult& c) {
         auto pyt = f.value("cpu", langs::python, ways::threads, keys::wall_s);
         auto pyp = f.value("cpu", langs::python, ways::process_pool, keys::wall_s);
         auto ct = f.value("cpu", langs::cpp, ways::threads, keys::wall_s);
         auto cp = f.value("cpu", langs::cpp, ways::process_pool, keys::wall_s);
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
      {Needs::quiet_machine, "concurrency-without-parallelism", "tutorial parts 001, 002",
       "Concurrency does not imply parallelism: interleaving tasks on one core overlaps "
       "waiting, not computing.",
       "cpu",
       [](const Figures& f, ClaimResult& c) {
         auto loop = f.speedup("cpu", langs::cpp, ways::event_loop);
         auto one = f.speedup("cpu", langs::cpp, ways::threads_one_core);
         auto loop_io = f.speedup("io", langs::cpp, ways::event_loop);
         if (!loop && !one) return;
         c.verdict = both(f.below(loop.value_or(1), kNearOne), f.below(one.value_or(1), kNearOne));
         c.figure = fmt::format("fib: event loop {}, threads on 1 core {}{}", opt_x(loop),
                                opt_x(one),
                                loop_io ? fmt::format("; waits: event loop {}", x(*loop_io)) : "");
         c.why = "one core runs one thing at a time: switching between computations only adds "
                 "switches, while waits overlap fine";
       }},
      {Needs::quiet_machine, "threads-for-io", "tutorial parts 000, 004",
       "For I/O work use concurrency: threads are a good choice for I/O.", "io",
       [](const Figures& f, ClaimResult& c) {
         auto py = f.speedup("io", langs::python, ways::threads);
         auto cpp = f.speedup("io", langs::cpp, ways::threads);
         auto py_pool = f.speedup("io", langs::python, ways::thread_pool);
         auto cpp_pool = f.speedup("io", langs::cpp, ways::thread_pool);
         if (!py && !cpp) return;
         // A thread pool is threads too: the best of the four.
         const double best = std::max({py.value_or(0), cpp.value_or(0), py_pool.value_or(0),
                                       cpp_pool.value_or(0)});
         c.verdict = f.at_least(best, 3);
         c.figure = fmt::format("threads on waits: Python {}, C++ {}; thread pools: Python {}, "
                                "C++ {}",
                                opt_x(py), opt_x(cpp), opt_x(py_pool), opt_x(cpp_pool));
         c.why = "a thread blocked in the kernel costs no CPU, so the waits overlap";
       }},
      {Needs::quiet_machine, "gil-released-on-io", "tutorial part 001",
       "The GIL is released around I/O, so threads do I/O concurrently but not CPU work.", "io",
       [](const Figures& f, ClaimResult& c) {
         auto io = f.speedup("io", langs::cpp, ways::threads_gil);
         auto cpu = f.speedup("cpu", langs::cpp, ways::threads_gil);
         auto py_io = f.speedup("io", langs::python, ways::threads);
         auto py_cpu = f.speedup("cpu", langs::python, ways::threads);
         if (!io && !py_io) return;
         const Verdict io_part = f.at_least(std::max(io.value_or(0), py_io.value_or(0)), 3);
         const Verdict cpu_part = (cpu || py_cpu)
                                      ? f.below(std::max(cpu.value_or(0), py_cpu.value_or(0)), kNearOne)
                                      : Verdict::confirmed;
         c.verdict = both(io_part, cpu_part);
         c.figure = fmt::format("threads under a GIL: waits {} (Python {}), fib {} (Python {})",
                                opt_x(io), opt_x(py_io), opt_x(cpu), opt_x(py_cpu));
         c.why = "a thread drops the lock while it waits in the kernel and needs it back only to "
                 "compute";
       }},
      {Needs::quiet_machine, "event-loop-io", "tutorial part 001",
       "A coroutine pauses on I/O and the event loop runs other tasks meanwhile.", "io",
       [](const Figures& f, ClaimResult& c) {
         auto cpp = f.speedup("io", langs::cpp, ways::event_loop);
         auto busy = f.value("io", langs::cpp, ways::event_loop, keys::cores_busy);
         auto py = f.speedup("io", langs::python, ways::event_loop);
         if (!cpp && !py) return;
         c.verdict = f.at_least(std::max(cpp.value_or(0), py.value_or(0)), 3);
         c.figure = fmt::format("event loop on waits: C++ {} ({:.2f} cores busy), Python {}",
                                opt_x(cpp), busy.value_or(0), opt_x(py));
         c.why = "one thread starts every request, then sleeps in epoll until any answer arrives";
       }},
      {Needs::nothing, "memory-separation", "tutorial parts 001, 002",
       "Threads share their process's memory; a process has memory others cannot access.",
       "memory",
       [](const Figures& f, ClaimResult& c) {
         auto thread = f.value("memory", langs::cpp, ways::thread, keys::parent_sees);
         auto proc = f.value("memory", langs::cpp, ways::child_process, keys::parent_sees);
         if (!thread || !proc) return;
         c.verdict = (*thread == 1 && *proc == 0) ? Verdict::confirmed : Verdict::refuted;
         c.figure = fmt::format("a global set by a thread: parent sees it {}; set by a child "
                                "process: parent sees it {}",
                                *thread == 1 ? "yes" : "no", *proc == 1 ? "yes" : "no");
         c.why = "a thread writes the same pages; a child process writes its own copy";
       }},
      {Needs::nothing, "lock-prevents-races", "tutorial part 004",
       "Threads sharing data race; a Lock lets only one thread at a time touch it.", "lock",
       [](const Figures& f, ClaimResult& c) {
         auto bare = f.value("lock", langs::cpp, ways::unprotected, keys::lost);
         auto locked = f.value("lock", langs::cpp, ways::mutex, keys::lost);
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
      {Needs::nothing, "gil-not-full-protection", "tutorial part 004",
       "The GIL does not fully protect you from data races.", "lock",
       [](const Figures& f, ClaimResult& c) {
         auto gil = f.value("lock", langs::cpp, ways::unprotected_gil, keys::lost);
         auto tasks = f.value("lock", langs::cpp, ways::tasks_unprotected, keys::lost);
         auto tasks_locked = f.value("lock", langs::cpp, ways::tasks_lock, keys::lost);
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
      {Needs::free_cores, "process-has-own-gil", "tutorial part 001",
       "Each Python process has its own GIL, so processes compute in parallel.", "hybrid",
       [](const Figures& f, ClaimResult& c) {
         const Run* multi = f.find_if("hybrid", [](const Run& r) {
           return tagged(r, keys::gil, 1) && r.get(keys::processes).value_or(1) > 1;
         });
         const Run* single = f.find_if("hybrid", [](const Run& r) {
           return tagged(r, keys::gil, 1) && tagged(r, keys::processes, 1);
         });
         if (!multi || !single) return;
         auto pm = multi->get(keys::speedup).value_or(0);
         auto ps = single->get(keys::speedup).value_or(0);
         double p = multi->get(keys::processes).value_or(1);
         c.verdict = both(f.at_least(pm, 0.7 * std::min<double>(p, f.cores())),
                          f.below(ps, kNearOne));
         c.figure = fmt::format("a GIL per process: {} = {}; {} = {}", multi->way, x(pm),
                                single->way, x(ps));
         c.why = "the lock is per process: threads of one process take turns, processes do not";
       }},
      {Needs::free_cores, "concurrency-and-parallelism", "tutorial part 004, exercise 2",
       "Concurrency and parallelism together: processes that each run threads.", "hybrid",
       [](const Figures& f, ClaimResult& c) {
         const Run* both = f.find_if("hybrid", [](const Run& r) {
           return tagged(r, keys::gil, 0) && r.get(keys::processes).value_or(1) > 1 &&
                  r.get(keys::threads).value_or(1) > 1;
         });
         if (!both) return;
         auto s = both->get(keys::speedup).value_or(0);
         c.verdict = f.at_least(s, 0.7 * f.cores());
         c.figure = fmt::format("{}: {} on {} cores", both->way, x(s), f.cores());
         c.why = "the threads of every process run on whatever core is free: the speed-up is "
                 "bounded by the cores, not by how the work is split";
       }},
      {Needs::nothing, "threads-lightweight", "tutorial parts 001, 004",
       "Threads are lightweight: lighter-weight processes.", "scale",
       [](const Figures& f, ClaimResult& c) {
         const Run* th = f.find_if("scale", [](const Run& r) { return tagged(r, keys::kind, kinds::threads); });
         const Run* co = f.find_if("scale", [](const Run& r) { return tagged(r, keys::kind, kinds::coroutines); });
         const Run* pr = f.find_if("scale", [](const Run& r) { return tagged(r, keys::kind, kinds::processes); });
         if (!th) return;
         auto t_us = th->get(keys::create_us).value_or(0);
         auto t_b = th->get(keys::bytes_each).value_or(0);
         std::string fig = fmt::format("a thread: {:.1f} µs to start, {:.1f} KiB", t_us, t_b / 1024);
         if (pr) fig += fmt::format("; a process: {:.0f} µs", pr->get(keys::create_us).value_or(0));
         if (co)
           fig += fmt::format("; a coroutine: {:.2f} µs, {:.0f} B",
                              co->get(keys::create_us).value_or(0), co->get(keys::bytes_each).value_or(0));
         c.figure = fig;
         const bool lighter = !pr || t_us < pr->get(keys::create_us).value_or(0);
         const bool heavier_than_coroutine =
             co && t_b > 10 * co->get(keys::bytes_each).value_or(0);
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
    c.source = def.source;
    c.claim = def.claim;
    c.experiment = def.experiment;
    if (figures.experiment(def.experiment)) def.judge(figures, c);
    // A parallel speed-up that falls short on cores that were not free cannot refute.
    const auto inflation = figures.value("cpu", langs::cpp, ways::threads, keys::cpu_inflation);
    const bool fell_short = c.verdict == Verdict::refuted || c.verdict == Verdict::inconclusive;
    if (fell_short && def.needs == Needs::free_cores && inflation && *inflation > 1.3) {
      c.verdict = Verdict::inconclusive;
      c.why = fmt::format("run in parallel, the same work took {:.1f}x the CPU time here (see the "
                          "cpu note): the cores slow each other down, so this machine cannot "
                          "show it; otherwise: ",
                          *inflation) + c.why;
    } else if (fell_short && machine_busy && def.needs != Needs::nothing) {
      c.verdict = Verdict::inconclusive;
      c.why = std::string("other programs kept the cores busy during this run (see the note at "
                          "the top), which ") +
              (def.needs == Needs::free_cores ? "squeezes parallel speed-ups"
                                              : "makes timings noisy (the disk too)") +
              "; run again on an idle machine. Otherwise: " + c.why;
    } else if (c.verdict == Verdict::inconclusive) {
      c.why = fmt::format("the figure is within this run's noise ({:.0f}%) of the threshold; "
                          "run again, or without --quick. Otherwise: ",
                          figures.margin() * 100) + c.why;
    }
    if (c.verdict == Verdict::not_measured && c.figure.empty())
      c.figure = figures.experiment(def.experiment)
                     ? "the runs it needs did not run here"
                     : fmt::format("run `lanes lab {}` to measure it", def.experiment);
    out.push_back(std::move(c));
  }
  return out;
}

}  // namespace lanes_cli::lab
