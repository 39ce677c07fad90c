// tools/lanes/lab/experiment.hpp — what an experiment of `lanes lab` is and what it
// returns. Each experiment is a function registered in the table of lab.cpp; the
// renderers (text, JSON, HTML) and the claims only ever see ExperimentResult.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace lanes_cli::lab {

class Progress;
class PythonSide;

/// The sizes of every workload; `--quick` and the size flags fill it.
struct Sizes {
  bool quick = false;
  int fib_n = 0;               // 0: calibrated so that one task takes about task_ms
  double task_ms = 60;         // calibration target for one fib task
  int cpu_tasks = 8;           // K in fib(N) x K
  int repeat = 3;              // cpu/hybrid: runs of each way; the fastest is kept
  int io_waits = 20;           // K waits ...
  int wait_ms = 50;            // ... of L ms each
  int lock_threads = 4;        // T threads incrementing one counter
  long increments = 5'000'000; // per thread
  long task_increments = 20'000;  // per task, in the event-loop variant
  std::vector<long> waiters = {10'000, 100'000};  // scale
  int processes = 0;           // hybrid: 0 means one per core
  int threads_per_process = 2; // hybrid
  bool python = true;          // run the embedded Python side too
};

/// How a value is shown in tables and charts.
enum class Format { seconds, ratio, cores, count, bytes, micros, percent, yes_no, text_only };

/// One column of an experiment's table: the key of the value in each Run.
struct Column {
  std::string key;
  std::string header;
  Format format;
};

/// One way of running the workload: one row of the table, one bar of the chart.
struct Run {
  std::string lang = "C++";   // "C++" or "Python"
  std::string way;            // "sequential", "threads", "process pool", ...
  std::map<std::string, double> values;  // wall_s, cpu_s, speedup, cores_busy, ...
  std::string note;           // a few words shown beside the row
  std::string skipped;        // non-empty: not run, and why

  bool ran() const { return skipped.empty(); }
  /// The value for `key`, or nullopt if this run has none.
  std::optional<double> get(std::string_view key) const {
    auto it = values.find(std::string(key));
    if (it == values.end()) return std::nullopt;
    return it->second;
  }
};

/// A chart of an experiment: one bar per run that has `key`.
struct ChartSpec {
  std::string key;      // which value the bars show
  std::string title;    // e.g. "speed-up against sequential (higher is better)"
  Format format;
  bool log_scale = false;  // for values spanning several orders of magnitude
};

struct ExperimentResult {
  std::string name;      // "cpu", "io", ...
  std::string title;     // one line saying what it shows
  std::string workload;  // the sizes actually used, in words
  std::vector<Column> columns;
  std::vector<Run> runs;
  std::vector<ChartSpec> charts;  // the first beside the table, any others below it
  std::vector<std::string> notes;  // things worth knowing about this run
  double seconds = 0;              // how long the experiment took

  /// The run of `lang` named `way`, if it ran.
  const Run* find(std::string_view lang, std::string_view way) const {
    for (const auto& r : runs)
      if (r.lang == lang && r.way == way && r.ran()) return &r;
    return nullptr;
  }
};

/// What an experiment gets to work with.
struct Context {
  const Sizes& sizes;
  Progress& progress;
  PythonSide* python;  // null when Python is off or not found
  int cores;
};

/// An entry of the experiment table.
struct Experiment {
  std::string_view name;
  std::string_view summary;       // for --help
  double weight;                  // rough share of the run time, for the progress bar
  ExperimentResult (*run)(Context&);
};

/// The table of experiments, in the order `lab all` runs them.
const std::vector<Experiment>& experiments();

// The experiments (one file each: exp_<name>.cpp).
ExperimentResult run_cpu(Context& ctx);
ExperimentResult run_io(Context& ctx);
ExperimentResult run_lock(Context& ctx);
ExperimentResult run_memory(Context& ctx);
ExperimentResult run_scale(Context& ctx);
ExperimentResult run_hybrid(Context& ctx);

/// Fills speedup (against the same language's "sequential" run) and cores_busy
/// (CPU time / wall time) for every run that has wall_s and cpu_s.
void derive_speedups(ExperimentResult& result);

/// The usual columns of a timing experiment: wall, CPU, speed-up, cores busy.
std::vector<Column> timing_columns();

}  // namespace lanes_cli::lab
