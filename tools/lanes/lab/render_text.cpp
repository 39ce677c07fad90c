// tools/lanes/lab/render_text.cpp — the tables and verdicts `lanes lab` prints.
#include <algorithm>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "lab/report.hpp"

namespace lanes_cli::lab {

namespace {

/// Columns a string takes on a terminal: UTF-8 continuation bytes take none.
std::size_t display_width(const std::string& s) {
  std::size_t n = 0;
  for (unsigned char c : s)
    if ((c & 0xC0) != 0x80) ++n;
  return n;
}

std::string pad_right(const std::string& s, std::size_t width) {
  auto w = display_width(s);
  return w >= width ? s : s + std::string(width - w, ' ');
}
std::string pad_left(const std::string& s, std::size_t width) {
  auto w = display_width(s);
  return w >= width ? s : std::string(width - w, ' ') + s;
}

/// Wraps `text` to `width` columns, every line after the first indented by `indent`.
std::string wrap(const std::string& text, std::size_t width, const std::string& indent) {
  std::string out, line;
  std::size_t start = 0;
  while (start <= text.size()) {
    auto space = text.find(' ', start);
    std::string word = text.substr(start, space == std::string::npos ? std::string::npos : space - start);
    if (!line.empty() && display_width(line) + 1 + display_width(word) > width) {
      out += line + "\n" + indent;
      line.clear();
    }
    line += line.empty() ? word : " " + word;
    if (space == std::string::npos) break;
    start = space + 1;
  }
  return out + line;
}

void render_experiment(std::string& out, const ExperimentResult& e) {
  out += fmt::format("== {}: {}\n", e.name, e.title);
  out += fmt::format("   {}\n\n", e.workload);

  // Header row, then one row per run; skipped runs say why instead of figures.
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> header = {"", "way"};
  for (const auto& c : e.columns) header.push_back(c.header);
  rows.push_back(header);
  for (const auto& r : e.runs) {
    std::vector<std::string> row = {r.lang, r.way};
    for (const auto& c : e.columns) {
      auto v = r.get(c.key);
      row.push_back(r.ran() && v ? format_value(*v, c.format) : std::string(r.ran() ? "-" : ""));
    }
    rows.push_back(std::move(row));
  }
  std::vector<std::size_t> width(header.size(), 0);
  for (const auto& row : rows)
    for (std::size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], display_width(row[i]));

  for (std::size_t i = 0; i < rows.size(); ++i) {
    const auto& row = rows[i];
    std::string line = "   " + pad_right(row[0], width[0]) + "  " + pad_right(row[1], width[1]);
    const Run* run = i == 0 ? nullptr : &e.runs[i - 1];
    if (run && !run->ran()) {
      line += "  skipped: " + run->skipped;
    } else {
      for (std::size_t c = 2; c < row.size(); ++c) line += "  " + pad_left(row[c], width[c]);
      if (run && !run->note.empty()) line += "   " + run->note;
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
  }
  for (const auto& note : e.notes) out += "   note: " + wrap(note, 86, "         ") + "\n";
  out += "\n";
}

}  // namespace

std::string render_text(const LabReport& report) {
  std::string out;
  const auto& m = report.machine;
  out += fmt::format("lanes lab: {} core{}{}, {}{}\n", m.cores, m.cores == 1 ? "" : "s",
                     m.cpu_model.empty() ? "" : " (" + m.cpu_model + ")", m.kernel,
                     m.python.empty() ? "" : ", " + m.python);
  out += fmt::format("speed-up: against sequential in the same language; cores busy: CPU time / "
                     "wall time\n");
  if (auto busy = busy_machine_note(m); !busy.empty()) out += "note: " + wrap(busy, 88, "      ") + "\n";
  out += "\n";
  for (const auto& e : report.experiments) render_experiment(out, e);
  for (const auto& err : report.errors) out += "error: " + err + "\n";
  if (!report.errors.empty()) out += "\n";

  out += "== claims of the seeds, measured on this machine\n\n";
  for (const auto& c : report.claims) {
    out += fmt::format("   [{}] {}  ({})\n", verdict_name(c.verdict), c.claim, c.seeds);
    out += "       measured: " + wrap(c.figure, 80, "                 ") + "\n";
    if (!c.why.empty()) out += "       why: " + wrap(c.why, 84, "            ") + "\n";
    out += "\n";
  }
  out += fmt::format("lanes lab took {:.1f} s\n", report.seconds);
  return out;
}

}  // namespace lanes_cli::lab
