// tools/lanes/lab/ways.hpp — the names the experiments give their rows ("ways") and
// values, which the claims look up to judge them. One definition for both sides, so a
// renamed row cannot leave a claim silently "not measured"; the Python scripts get the
// same names (python_side.cpp writes them into lab_ways.py beside the scripts).
// tests/test_lanes_cli.cpp feeds a result holding every way and key through every claim.
#pragma once

#include <string_view>
#include <utility>
#include <vector>

namespace lanes_cli::lab {

/// Run::lang.
namespace langs {
inline constexpr const char* cpp = "C++";
inline constexpr const char* python = "Python";
}  // namespace langs

/// Run::way: one way of running an experiment's workload.
namespace ways {
// cpu and io (C++ and Python alike)
inline constexpr const char* sequential = "sequential";
inline constexpr const char* threads = "threads";
inline constexpr const char* thread_pool = "thread pool";
inline constexpr const char* process_pool = "process pool";
inline constexpr const char* event_loop = "event loop";
// cpu and io, C++ only
inline constexpr const char* threads_one_core = "threads, 1 core";
inline constexpr const char* threads_gil = "threads + emulated GIL";
// memory
inline constexpr const char* thread = "thread";
inline constexpr const char* child_process = "child process";
// lock
inline constexpr const char* unprotected = "unprotected";
inline constexpr const char* mutex = "std::mutex";
inline constexpr const char* unprotected_gil = "unprotected + emulated GIL";
inline constexpr const char* tasks_unprotected = "tasks, unprotected";
inline constexpr const char* tasks_lock = "tasks + lanes::Lock";
// scale and hybrid name their rows by size ("threads x10k", "2 processes x 2 threads");
// the claims find those rows by the tag values below (keys::kind, keys::gil, ...).
}  // namespace ways

/// Keys of Run::values.
namespace keys {
inline constexpr const char* wall_s = "wall_s";
inline constexpr const char* cpu_s = "cpu_s";
inline constexpr const char* speedup = "speedup";        // against the same lang's sequential
inline constexpr const char* cores_busy = "cores_busy";  // cpu_s / wall_s
inline constexpr const char* cpu_inflation = "cpu_inflation";  // threads' CPU / sequential's
// On a sequential row measured twice: |a - b| / min(a, b), this run's own noise estimate.
inline constexpr const char* spread = "spread";
inline constexpr const char* gil_switches = "gil_switches";
inline constexpr const char* lost = "lost";                // lock: updates lost
inline constexpr const char* parent_sees = "parent_sees";  // memory: 1 if the write is visible
inline constexpr const char* child_saw = "child_saw";
inline constexpr const char* kind = "kind";              // scale: one of the kinds below
inline constexpr const char* create_us = "create_us";
inline constexpr const char* bytes_each = "bytes_each";
inline constexpr const char* processes = "processes";    // hybrid: the shape of a row
inline constexpr const char* threads = "threads";
inline constexpr const char* gil = "gil";                // hybrid: 1 with a GIL per process
}  // namespace keys

/// Values of keys::kind in the scale experiment.
namespace kinds {
inline constexpr double threads = 1, coroutines = 2, processes = 3;
}

/// The ways the Python scripts report, as the Python names they import them by
/// (`from lab_ways import SEQUENTIAL, ...`).
inline const std::vector<std::pair<std::string_view, std::string_view>>& python_ways() {
  static const std::vector<std::pair<std::string_view, std::string_view>> table = {
      {"SEQUENTIAL", ways::sequential},     {"THREADS", ways::threads},
      {"THREAD_POOL", ways::thread_pool},   {"PROCESS_POOL", ways::process_pool},
      {"EVENT_LOOP", ways::event_loop},
  };
  return table;
}

}  // namespace lanes_cli::lab
