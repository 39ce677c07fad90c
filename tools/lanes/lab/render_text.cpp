// tools/lanes/lab/render_text.cpp — the tables and verdicts `lanes lab` prints, every line
// within kColumns columns: long notes, workloads and claims wrap onto indented lines.
#include <algorithm>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "lab/report.hpp"

namespace lanes_cli::lab {

namespace {

constexpr std::size_t kColumns = 100;

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

/// Wraps `text` to `width` columns at spaces (runs of them collapse to one), every line
/// after the first indented by `indent`.
std::string wrap(const std::string& text, std::size_t width, const std::string& indent) {
  std::string out, line;
  std::size_t start = 0;
  while (start <= text.size()) {
    auto space = text.find(' ', start);
    std::string word = text.substr(start, space == std::string::npos ? std::string::npos : space - start);
    if (word.empty()) {  // a run of spaces: one is kept, so no line ends in a space
      if (space == std::string::npos) break;
      start = space + 1;
      continue;
    }
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
  out += "== " + wrap(fmt::format("{}: {}", e.name, e.title), kColumns - 3, "   ") + "\n";
  out += "   " + wrap(e.workload, kColumns - 3, "   ") + "\n\n";

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
    std::string tail;  // the words after the figures: a note, or why it was skipped
    if (run && !run->ran()) {
      tail = "skipped: " + run->skipped;
    } else {
      for (std::size_t c = 2; c < row.size(); ++c) line += "  " + pad_left(row[c], width[c]);
      if (run) tail = run->note;
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    if (!tail.empty()) {
      // Beside the figures if it fits, wrapped in its own column if that column is wide
      // enough, else on the lines below.
      const std::size_t col = display_width(line) + 3;
      if (col + display_width(tail) <= kColumns || col + 40 <= kColumns) {
        line += "   " + wrap(tail, kColumns - col, std::string(col, ' '));
      } else {
        line += "\n        " + wrap(tail, kColumns - 8, std::string(8, ' '));
      }
    }
    out += line + "\n";
  }
  for (const auto& note : e.notes) out += "   note: " + wrap(note, kColumns - 9, "         ") + "\n";
  out += "\n";
}

}  // namespace

std::string render_text(const LabReport& report) {
  std::string out;
  const auto& m = report.machine;
  out += wrap(fmt::format("lanes lab: {} core{}{}, {}{}", m.cores, m.cores == 1 ? "" : "s",
                          m.cpu_model.empty() ? "" : " (" + m.cpu_model + ")", m.kernel,
                          m.python.empty() ? "" : ", " + m.python),
              kColumns - 11, std::string(11, ' ')) + "\n";
  out += fmt::format("speed-up: against sequential in the same language; cores busy: CPU time / "
                     "wall time\n");
  if (auto busy = busy_machine_note(m); !busy.empty())
    out += "note: " + wrap(busy, kColumns - 6, "      ") + "\n";
  out += "\n";
  for (const auto& e : report.experiments) render_experiment(out, e);
  for (const auto& err : report.errors) out += "error: " + err + "\n";
  if (!report.errors.empty()) out += "\n";

  out += "== the tutorial's claims, measured on this machine\n\n";
  for (const auto& c : report.claims) {
    out += "   " + wrap(fmt::format("[{}] {}  ({})", verdict_name(c.verdict), c.claim, c.source),
                      kColumns - 7, std::string(7, ' ')) + "\n";
    out += "       measured: " + wrap(c.figure, kColumns - 17, std::string(17, ' ')) + "\n";
    if (!c.why.empty()) out += "       why: " + wrap(c.why, kColumns - 12, std::string(12, ' ')) + "\n";
    out += "\n";
  }
  out += fmt::format("lanes lab took {:.1f} s\n", report.seconds);
  return out;
}

}  // namespace lanes_cli::lab
