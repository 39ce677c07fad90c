// tools/lanes/lab/progress.cpp — the progress bar (see progress.hpp).
#include "lab/progress.hpp"

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <string>

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

namespace {

/// Columns of the terminal on stderr (TIOCGWINSZ), asked at every draw so a resized
/// window is followed; 80 if it will not say.
int terminal_columns() {
  winsize ws{};
  if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
  return 80;
}

/// The longest prefix of `s` that takes at most `columns` columns (UTF-8 continuation
/// bytes take none), never cutting a character in two.
std::string fit(const std::string& s, std::size_t columns) {
  std::size_t used = 0, i = 0;
  for (; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if ((c & 0xC0) != 0x80 && used++ == columns) break;
  }
  return s.substr(0, i);
}

}  // namespace

void Progress::draw() {
  if (!enabled_) return;
  // The current step counts as half done: it has started.
  double fraction = (done_ + weight_ * (std::max(0, step_ - 1) + 0.5 * (step_ > 0)) / steps_) / total_;
  fraction = std::clamp(fraction, 0.0, 1.0);
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  char stats[48];
  std::snprintf(stats, sizeof stats, " %3d%%  %5.1fs  ", static_cast<int>(fraction * 100 + 0.5),
                elapsed);
  // The whole line stays within columns - 1: a line that reaches the last column wraps
  // on some terminals, and "\r" would then return to the wrong row, leaving the old
  // line behind.
  const int room = terminal_columns() - 1;
  const int stats_w = static_cast<int>(std::strlen(stats));
  const int bar_w = std::clamp(room - stats_w - 2 - 16, 0, 28);
  std::string line;
  if (bar_w >= 5) {
    const int filled = static_cast<int>(fraction * bar_w + 0.5);
    line.push_back('[');
    line.append(static_cast<std::size_t>(filled), '#');
    line.append(static_cast<std::size_t>(bar_w - filled), '.');
    line.push_back(']');
  }
  line += stats;
  line += experiment_;
  if (!label_.empty()) {
    line += ": ";
    line += label_;
  }
  line = fit(line, static_cast<std::size_t>(std::max(room, 0)));
  std::fprintf(stderr, "\r\033[2K%s", line.c_str());
  std::fflush(stderr);
  drawn_ = true;
}

}  // namespace lanes_cli::lab
