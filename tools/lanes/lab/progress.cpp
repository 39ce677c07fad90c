// tools/lanes/lab/progress.cpp — the progress bar (see progress.hpp).
#include "lab/progress.hpp"

#include <algorithm>
#include <cstdio>

namespace lanes_cli::lab {

Progress::Progress(double total_weight, bool enabled)
    : total_(total_weight > 0 ? total_weight : 1), enabled_(enabled),
      start_(std::chrono::steady_clock::now()) {}

Progress::~Progress() { clear(); }

void Progress::begin(std::string_view experiment, double weight) {
  experiment_ = experiment;
  weight_ = weight;
  steps_ = 1;
  step_ = 0;
  label_.clear();
  draw();
}

void Progress::plan(int steps) { steps_ = std::max(1, steps); }

void Progress::step(std::string_view label) {
  label_ = label;
  step_ = std::min(step_ + 1, steps_);
  draw();
}

void Progress::end() {
  done_ += weight_;
  weight_ = 0;
  step_ = 0;
  draw();
}

void Progress::clear() {
  if (!enabled_ || !drawn_) return;
  std::fprintf(stderr, "\r\033[2K");
  std::fflush(stderr);
  drawn_ = false;
}

void Progress::draw() {
  if (!enabled_) return;
  // The current step counts as half done: it has started.
  double fraction = (done_ + weight_ * (std::max(0, step_ - 1) + 0.5 * (step_ > 0)) / steps_) / total_;
  fraction = std::clamp(fraction, 0.0, 1.0);
  constexpr int kWidth = 28;
  const int filled = static_cast<int>(fraction * kWidth + 0.5);
  std::string bar(static_cast<std::size_t>(filled), '#');
  bar.append(static_cast<std::size_t>(kWidth - filled), '.');
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  std::string what = experiment_;
  if (!label_.empty()) what += ": " + label_;
  if (what.size() > 40) what.resize(40);
  std::fprintf(stderr, "\r\033[2K[%s] %3d%%  %5.1fs  %s", bar.c_str(),
               static_cast<int>(fraction * 100 + 0.5), elapsed, what.c_str());
  std::fflush(stderr);
  drawn_ = true;
}

}  // namespace lanes_cli::lab
