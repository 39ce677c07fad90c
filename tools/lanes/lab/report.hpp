// tools/lanes/lab/report.hpp — everything one run of `lanes lab` found, and the three
// ways of showing it: text tables for people, JSON for machines, an HTML page with an
// SVG bar chart per experiment for browsers.
#pragma once

#include <string>
#include <vector>

#include "lab/claims.hpp"
#include "lab/experiment.hpp"

namespace lanes_cli::lab {

struct Machine {
  int cores = 1;
  std::string cpu_model;  // from /proc/cpuinfo, may be empty
  std::string kernel;     // uname -sr
  std::string python;     // "Python 3.11.7", or empty when the Python side did not run
  std::string build;      // compiler and sanitizer of this binary
  // Cores other programs kept busy in a short sample when the lab started, and on
  // average while it ran (-1: unknown).
  double others_busy_cores = -1;
  double others_busy_during = -1;
};

/// Reads the machine description from the OS (python left empty).
Machine describe_machine();
/// A warning when other programs were keeping the cores busy, or empty.
std::string busy_machine_note(const Machine& m);

struct LabReport {
  Machine machine;
  Sizes sizes;
  std::vector<ExperimentResult> experiments;
  std::vector<ClaimResult> claims;
  std::vector<std::string> errors;  // experiments that failed, with why
  double seconds = 0;
};

/// A value as the tables show it: "0.812 s", "1.97x", "12,345", "8.0 KiB"...
std::string format_value(double v, Format f);

/// The tables, then the claims: what `lanes lab` prints.
std::string render_text(const LabReport& report);
/// The whole report as one JSON document (`--json`).
std::string render_json(const LabReport& report);
/// A self-contained HTML page (`--report FILE.html`): no external resource at all.
std::string render_html(const LabReport& report);
/// One chart of an experiment as an inline SVG element.
std::string render_svg_chart(const ExperimentResult& result, const ChartSpec& chart);

}  // namespace lanes_cli::lab
