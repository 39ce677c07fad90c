// tools/lanes/lab/python_side.hpp — runs the lab's embedded Python scripts with the
// python3 found on PATH, so the real GIL is measured beside the emulated one.
//
// A script reports on stdout, one tab-separated record per line:
//   progress <label>                 a step starts (drives the progress bar)
//   row <way> <wall_s> <cpu_s> [k=v ...]   one measured way of running the workload
//   info <key> <value>               a fact about the run (e.g. the fib size chosen)
//   note <text>                      a remark for the report
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "lab/experiment.hpp"

namespace lanes_cli::lab {

/// The scripts compiled into the binary (generated from lab/python/*.py at build time).
/// Returns an empty view for an unknown name.
std::string_view embedded_python_script(std::string_view name);

class PythonSide {
 public:
  /// The python3 on PATH, or null if there is none or it does not run.
  static std::unique_ptr<PythonSide> find();
  ~PythonSide();
  PythonSide(const PythonSide&) = delete;
  PythonSide& operator=(const PythonSide&) = delete;

  /// "Python 3.11.7", as the interpreter reports itself.
  const std::string& version() const { return version_; }

  struct Output {
    std::vector<Run> runs;  // lang "Python"
    std::map<std::string, std::string> info;
    std::vector<std::string> notes;
  };
  /// Runs the embedded script `name` with `args`; `on_progress` gets each progress
  /// label. Throws std::runtime_error with the script's last stderr line if it fails.
  Output run(std::string_view name, const std::vector<std::string>& args,
             const std::function<void(std::string_view)>& on_progress);

 private:
  PythonSide(std::string exe, std::string version, std::string dir);
  std::string exe_;
  std::string version_;
  std::string dir_;  // a private temporary directory holding the scripts
};

}  // namespace lanes_cli::lab
