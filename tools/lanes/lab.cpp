// tools/lanes/lab.cpp — `lanes lab [cpu|io|lock|memory|scale|hybrid|all]`: runs, with
// lanes on this machine, the experiments behind the claims of the Python concurrency
// tutorial lanes follows (the GIL, threads vs processes, event loops, races), prints a
// table per experiment, then each claim beside the figures that confirm or refute it.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "cli.hpp"
#include "validators.hpp"
#include "lab/claims.hpp"
#include "lab/experiment.hpp"
#include "lab/measure.hpp"
#include "lab/progress.hpp"
#include "lab/python_side.hpp"
#include "lab/report.hpp"

namespace lanes_cli {

namespace lab {
const std::vector<Experiment>& experiments() {
  // The table of experiments, in the order `lab all` runs them. Weights are rough
  // shares of the run time at default sizes, for the progress bar only.
  static const std::vector<Experiment> table = {
      {"cpu", "fib(N) x K: sequential, threads, pools, event loop, emulated GIL (+ Python)", 8,
       &run_cpu},
      {"io", "K waits of L ms on HTTP + file I/O, every way (+ Python)", 6, &run_io},
      {"lock", "lost updates: a shared counter without and with a lock", 2, &run_lock},
      {"memory", "a global changed in a thread vs in a child process", 1, &run_memory},
      {"scale", "10k and 100k waiters: threads vs coroutines, time and bytes each", 4,
       &run_scale},
      {"hybrid", "processes that each run threads (the tutorial's exercise 2)", 3, &run_hybrid},
  };
  return table;
}
}  // namespace lab

namespace {

struct LabOptions {
  std::vector<std::string> names;
  bool quick = false;
  bool json = false;
  bool no_python = false;
  std::string report;
  // Sizes; an option given on the command line wins over --quick's defaults.
  int fib = 0;
  double task_ms = 0;
  int tasks = 0;
  int repeat = 0;
  int waits = 0;
  int wait_ms = 0;
  int threads = 0;
  long increments = 0;
  std::vector<long> waiters;
  int processes = 0;
  int threads_per_process = 0;
  std::vector<CLI::Option*> size_options;
};

lab::Sizes make_sizes(const LabOptions& o) {
  lab::Sizes s;
  if (o.quick) {
    s.quick = true;
    s.task_ms = 20;
    s.cpu_tasks = 4;
    s.repeat = 1;
    s.io_waits = 10;
    s.wait_ms = 20;
    s.increments = 1'000'000;
    s.task_increments = 5'000;
    s.waiters = {10'000};
  }
  auto given = [&](const char* name) {
    for (auto* opt : o.size_options)
      if (opt->get_name() == name) return opt->count() > 0;
    return false;
  };
  if (given("--fib")) s.fib_n = o.fib;
  if (given("--task-ms")) s.task_ms = o.task_ms;
  if (given("--tasks")) s.cpu_tasks = o.tasks;
  if (given("--repeat")) s.repeat = o.repeat;
  if (given("--waits")) s.io_waits = o.waits;
  if (given("--wait-ms")) s.wait_ms = o.wait_ms;
  if (given("--threads")) s.lock_threads = o.threads;
  if (given("--increments")) {
    s.increments = o.increments;
    s.task_increments = std::max(1L, std::min(s.task_increments, o.increments));
  }
  if (given("--waiters")) s.waiters = o.waiters;
  if (given("--processes")) s.processes = o.processes;
  if (given("--threads-per-process")) s.threads_per_process = o.threads_per_process;
  s.python = !o.no_python;
  return s;
}

void write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc | std::ios::binary);
  if (!out) throw UsageError(fmt::format("cannot write the report to {}", path));
  out << text;
  out.close();
  if (!out) throw UsageError(fmt::format("cannot write the report to {}", path));
}

int run_lab(const LabOptions& o) {
  const auto t0 = std::chrono::steady_clock::now();
  // Say now, not after a minute of measuring, if the report cannot be written.
  if (!o.report.empty()) write_file(o.report, "");

  std::set<std::string> wanted(o.names.begin(), o.names.end());
  const bool all = wanted.empty() || wanted.count("all");
  std::vector<const lab::Experiment*> chosen;
  double total_weight = 0;
  for (const auto& e : lab::experiments()) {
    if (all || wanted.count(std::string(e.name))) {
      chosen.push_back(&e);
      total_weight += e.weight;
    }
  }

  lab::LabReport report;
  report.sizes = make_sizes(o);
  report.machine = lab::describe_machine();
  const lab::OthersCpu others;  // what other programs use while the lab runs

  std::unique_ptr<lab::PythonSide> python;
  const bool wants_python = std::any_of(chosen.begin(), chosen.end(), [](const auto* e) {
    return e->name == "cpu" || e->name == "io";
  });
  std::string python_note;
  if (report.sizes.python && wants_python) {
    python = lab::PythonSide::find();
    if (python) {
      report.machine.python = python->version();
    } else {
      python_note = "python3 was not found on PATH: the Python side was skipped";
    }
  }

  lab::Progress progress(total_weight, isatty(STDERR_FILENO) == 1);
  lab::Context ctx{report.sizes, progress, python.get(), report.machine.cores};
  for (const auto* e : chosen) {
    progress.begin(e->name, e->weight);
    const auto e0 = std::chrono::steady_clock::now();
    try {
      lab::ExperimentResult r = e->run(ctx);
      r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - e0).count();
      if (!python_note.empty() && (r.name == "cpu" || r.name == "io")) r.notes.push_back(python_note);
      report.experiments.push_back(std::move(r));
    } catch (const std::exception& ex) {
      report.errors.push_back(fmt::format("{}: {}", e->name, ex.what()));
    }
    progress.end();
  }
  progress.clear();
  report.machine.others_busy_during = others.busy_cores();

  std::set<std::string> ran;
  for (const auto& r : report.experiments) ran.insert(r.name);
  for (auto& c : lab::evaluate_claims(report.experiments, report.machine.cores,
                                           !lab::busy_machine_note(report.machine).empty()))
    if (ran.count(c.experiment)) report.claims.push_back(std::move(c));
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  if (o.json) {
    std::fputs(lab::render_json(report).c_str(), stdout);
  } else {
    std::fputs(lab::render_text(report).c_str(), stdout);
  }
  if (!o.report.empty()) {
    write_file(o.report, lab::render_html(report));
    std::fprintf(o.json ? stderr : stdout, "report written to %s\n", o.report.c_str());
  }
  std::fflush(stdout);
  return report.errors.empty() ? 0 : 1;
}

}  // namespace

Subcommand add_lab_command(CLI::App& parent) {
  auto opts = std::make_shared<LabOptions>();
  std::vector<std::string> names = {"all"};
  std::string list;
  for (const auto& e : lab::experiments()) {
    names.emplace_back(e.name);
    list += fmt::format("\n  {:<7} {}", e.name, e.summary);
  }
  CLI::App* app = parent.add_subcommand(
      "lab", "Measure, on this machine, the claims of the Python concurrency tutorial "
             "(\"threads do not speed up CPU work under the GIL\", \"processes sidestep the "
             "GIL\", \"an event loop overlaps waits\", \"a Lock prevents races\"...): each "
             "is confirmed, refuted, or inconclusive against the figures.\n"
             "Experiments (default: all):" + list);
  app->add_option("experiments", opts->names, "Which experiments to run")
      ->check(CLI::IsMember(names));
  app->add_flag("--quick", opts->quick, "Small sizes: the whole lab in about 10 s");
  app->add_flag("--json", opts->json, "Print the results as JSON instead of tables");
  app->add_option("--report", opts->report, "Also write a self-contained HTML page with charts")
      ->type_name("FILE.html");
  app->add_flag("--no-python", opts->no_python, "Do not run the Python side of cpu and io");
  auto& so = opts->size_options;
  so.push_back(app->add_option("--fib", opts->fib, "cpu/hybrid: fib(N) per task (default: "
                                                   "calibrated to --task-ms)")
                   ->check(number_from_to<int>(10, 45)));
  so.push_back(app->add_option("--task-ms", opts->task_ms,
                               "cpu/hybrid: calibrate fib so one task takes this long (default "
                               "60, quick 20)")
                   ->check(number_from_to<double>(1.0, 10000.0)));
  so.push_back(app->add_option("--tasks", opts->tasks, "cpu/hybrid: number of fib tasks K "
                                                       "(default 8, quick 4)")
                   ->check(number_from_to<int>(1, 1024)));
  so.push_back(app->add_option("--repeat", opts->repeat,
                               "cpu/hybrid: runs of each way, the fastest kept (default 3, quick 1)")
                   ->check(number_from_to<int>(1, 20)));
  so.push_back(app->add_option("--waits", opts->waits, "io: number of waits K (default 20, "
                                                       "quick 10)")
                   ->check(number_from_to<int>(1, 1000)));
  so.push_back(app->add_option("--wait-ms", opts->wait_ms, "io: the server answers after L ms "
                                                           "(default 50, quick 20)")
                   ->check(number_from_to<int>(1, 10000)));
  so.push_back(app->add_option("--threads", opts->threads, "lock: threads incrementing the "
                                                           "counter (default 4)")
                   ->check(number_from_to<int>(2, 256)));
  so.push_back(app->add_option("--increments", opts->increments,
                               "lock: increments per thread (default 5000000, quick 1000000)")
                   ->check(number_from_to<long>(1L, 1'000'000'000L)));
  so.push_back(app->add_option("--waiters", opts->waiters,
                               "scale: waiter counts, comma-separated (default 10000,100000; "
                               "quick 10000)")
                   ->delimiter(',')
                   ->check(number_from_to<long>(1L, 10'000'000L)));
  so.push_back(app->add_option("--processes", opts->processes, "hybrid: processes (default: one "
                                                               "per core)")
                   ->check(number_from_to<int>(1, 64)));
  so.push_back(app->add_option("--threads-per-process", opts->threads_per_process,
                               "hybrid: threads in each process (default 2)")
                   ->check(number_from_to<int>(1, 64)));
  return {app, [opts] { return run_lab(*opts); }};
}

}  // namespace lanes_cli
