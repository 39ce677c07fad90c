// tools/lanes/lab/progress.hpp — the progress bar of `lanes lab`: drawn on stderr when
// stderr is a terminal, silent otherwise (so pipes, files and tests see nothing).
#pragma once

#include <chrono>
#include <string>
#include <string_view>

namespace lanes_cli::lab {

class Progress {
 public:
  /// `total_weight`: the sum of the weights of the experiments that will run.
  /// `enabled`: draw at all (the caller passes isatty(2)).
  Progress(double total_weight, bool enabled);
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  /// An experiment of weight `weight` starts.
  void begin(std::string_view experiment, double weight);
  /// The current experiment will report `steps` steps.
  void plan(int steps);
  /// The next step of the current experiment starts: `label` says which.
  void step(std::string_view label);
  /// The current experiment is over.
  void end();
  /// Erases the bar (before printing results on the same terminal).
  void clear();

  bool enabled() const { return enabled_; }

 private:
  void draw();

  double total_;
  double done_ = 0;          // weight of the finished experiments
  double weight_ = 0;        // weight of the current one
  int steps_ = 1;
  int step_ = 0;
  std::string experiment_;
  std::string label_;
  bool enabled_;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace lanes_cli::lab
