// tools/lanes/lab/render_html.cpp — `lanes lab --report FILE.html`: one self-contained
// page (inline CSS, inline SVG, no external resource), an SVG bar chart per experiment
// beside its table, then the claims.
//
// No script: the page is only markup. Each chart's <svg> carries data-experiment,
// data-key and data-scale, which the report test reads.
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "lab/report.hpp"
#include "lab/ways.hpp"

namespace lanes_cli::lab {

namespace {

std::string esc(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

constexpr const char* kCppColor = "#2b6cb0";
constexpr const char* kPythonColor = "#dd6b20";

const char* verdict_class(Verdict v) {
  switch (v) {
    case Verdict::confirmed: return "ok";
    case Verdict::refuted: return "bad";
    case Verdict::partly: return "partly";
    case Verdict::answered: return "answered";
    case Verdict::inconclusive: return "partly";
    case Verdict::not_measured: return "none";
  }
  return "none";
}

constexpr const char* kStyle = R"CSS(
body { font: 14px/1.45 "DejaVu Sans", "Liberation Sans", Arial, sans-serif; margin: 24px;
       color: #1a202c; background: #ffffff; }
h1 { font-size: 24px; margin: 0 0 4px; }
h2 { font-size: 18px; margin: 28px 0 2px; }
.machine, .workload { color: #4a5568; margin: 0 0 8px; }
.pair { display: flex; flex-wrap: wrap; gap: 24px; align-items: flex-start; }
figure { margin: 0; }
section > figure { margin-top: 16px; }
figcaption { color: #4a5568; font-size: 12px; margin-top: 4px; }
.legend span { display: inline-block; width: 10px; height: 10px; margin: 0 4px 0 10px; }
table { border-collapse: collapse; font-size: 13px; }
th, td { padding: 3px 8px; border-bottom: 1px solid #e2e8f0; text-align: right; }
th { background: #f7fafc; }
td.l, th.l { text-align: left; }
tr.skipped td { color: #a0aec0; }
.note { color: #4a5568; font-size: 12px; }
.verdict { font-weight: bold; white-space: nowrap; }
.ok { color: #276749; } .bad { color: #c53030; } .partly { color: #b7791f; }
.answered { color: #2b6cb0; } .none { color: #a0aec0; }
.claims td, .claims th { text-align: left; vertical-align: top; }
)CSS";

}  // namespace

std::string render_svg_chart(const ExperimentResult& e, const ChartSpec& chart) {
  constexpr int kWidth = 620, kLabelW = 250, kBarX = 258, kBarMax = 270, kRow = 24, kBar = 16,
                kTop = 10;
  constexpr double kCharW = 6.5;  // a generous width of one 11px DejaVu Sans character
  const int rows = static_cast<int>(e.runs.size());
  const int height = kTop + rows * kRow + 22;
  double max = 0, min_positive = 0;
  for (const auto& r : e.runs) {
    if (!r.ran()) continue;
    const double v = r.get(chart.key).value_or(0);
    max = std::max(max, v);
    if (v > 0 && (min_positive == 0 || v < min_positive)) min_positive = v;
  }
  if (chart.format == Format::ratio) max = std::max(max, 1.0);
  if (max <= 0) max = 1;
  // Log scale: from the decade below the smallest value to the largest, so the smallest
  // bar still shows.
  const double floor =
      min_positive > 0 ? std::pow(10.0, std::floor(std::log10(min_positive)) - 0.3) : max / 1000;
  auto bar_len = [&](double v) {
    if (!chart.log_scale) return std::max(0.0, v / max * kBarMax);
    if (v <= floor) return 0.0;
    return std::log10(v / floor) / std::log10(max / floor) * kBarMax;
  };

  std::string svg = fmt::format(
      "<svg class=\"chart\" data-experiment=\"{}\" data-key=\"{}\" data-scale=\"{}\" "
      "xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{}\" viewBox=\"0 0 {} {}\" "
      "role=\"img\" aria-label=\"{}\">\n",
      esc(e.name), esc(chart.key), chart.log_scale ? "log" : "linear", kWidth, height, kWidth,
      height, esc(chart.title));
  svg += fmt::format("<rect x=\"0\" y=\"0\" width=\"{}\" height=\"{}\" fill=\"#f7fafc\"/>\n",
                     kWidth, height);
  const int axis_y = kTop + rows * kRow;
  if (chart.log_scale) {
    // A faint line at each power of ten, labelled under the axis.
    for (double d = std::pow(10.0, std::ceil(std::log10(floor))); d <= max * 1.0001; d *= 10) {
      const double x = kBarX + bar_len(d);
      svg += fmt::format("<line x1=\"{:.1f}\" y1=\"{}\" x2=\"{:.1f}\" y2=\"{}\" stroke=\"#e2e8f0\"/>\n"
                         "<text x=\"{:.1f}\" y=\"{}\" font-size=\"10\" text-anchor=\"middle\" "
                         "fill=\"#718096\">{}</text>\n",
                         x, kTop - 4, x, axis_y, x, axis_y + 14, esc(format_value(d, chart.format)));
    }
  }
  // The 1x line of a speed-up chart (left of it is slower than sequential) is drawn row by
  // row, leaving out the rows where it would run through a value's label.
  const double one_x = kBarX + bar_len(1.0);
  std::vector<bool> label_on_one_x(static_cast<std::size_t>(rows), false);
  for (int i = 0; i < rows; ++i) {
    const Run& r = e.runs[static_cast<std::size_t>(i)];
    const int y = kTop + i * kRow;
    const std::string label = r.lang + "  " + r.way;
    svg += fmt::format(
        "<text x=\"{}\" y=\"{}\" text-anchor=\"end\" font-size=\"12\" fill=\"{}\">{}</text>\n",
        kLabelW, y + 12, r.ran() ? "#1a202c" : "#a0aec0", esc(label));
    auto v = r.get(chart.key);
    if (!r.ran() || !v) {
      svg += fmt::format("<text x=\"{}\" y=\"{}\" font-size=\"11\" fill=\"#a0aec0\">{}</text>\n",
                         kBarX + 4, y + 12, r.ran() ? "-" : "skipped");
      continue;
    }
    const double len = bar_len(*v);
    const std::string value = format_value(*v, chart.format);
    const double label_x = kBarX + len + 4;
    const double label_end = label_x + kCharW * static_cast<double>(value.size());
    label_on_one_x[static_cast<std::size_t>(i)] = label_x - 3 <= one_x && one_x <= label_end + 3;
    svg += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{:.1f}\" height=\"{}\" fill=\"{}\"/>\n",
                       kBarX, y, len, kBar, r.lang == langs::python ? kPythonColor : kCppColor);
    svg += fmt::format("<text class=\"value\" x=\"{:.1f}\" y=\"{}\" font-size=\"11\" "
                       "fill=\"#1a202c\">{}</text>\n",
                       label_x, y + 12, esc(value));
  }
  svg += fmt::format("<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"#4a5568\"/>\n", kBarX,
                     kTop - 4, kBarX, axis_y);
  if (chart.format == Format::ratio) {
    for (int i = 0; i < rows; ++i) {
      const int y = kTop + i * kRow;
      // The row's band, or only the gap below its bar when its label sits on the line.
      const int y1 = label_on_one_x[static_cast<std::size_t>(i)] ? y + kBar + 1 : y - 4;
      svg += fmt::format("<line class=\"one-x\" x1=\"{:.1f}\" y1=\"{}\" x2=\"{:.1f}\" y2=\"{}\" "
                         "stroke=\"#718096\" stroke-dasharray=\"4 3\"/>\n",
                         one_x, y1, one_x, y + kRow - 4);
    }
    svg += fmt::format("<text x=\"{:.1f}\" y=\"{}\" font-size=\"11\" text-anchor=\"middle\" "
                       "fill=\"#4a5568\">1x</text>\n",
                       one_x, axis_y + 14);
  }
  svg += "</svg>\n";
  return svg;
}

namespace {

/// The colour key under a chart: only when more than one language has bars in it.
std::string legend(const ExperimentResult& e, const ChartSpec& chart) {
  bool cpp = false, python = false;
  for (const auto& r : e.runs) {
    if (!r.ran() || !r.get(chart.key)) continue;
    (r.lang == langs::python ? python : cpp) = true;
  }
  if (!(cpp && python)) return {};
  return fmt::format("<span class=\"legend\"><span style=\"background:{}\"></span>C++"
                     "<span style=\"background:{}\"></span>Python</span>",
                     kCppColor, kPythonColor);
}

std::string figure(const ExperimentResult& e, const ChartSpec& chart) {
  return "<figure>\n" + render_svg_chart(e, chart) +
         fmt::format("<figcaption>{}{}</figcaption>\n", esc(chart.title), legend(e, chart)) +
         "</figure>\n";
}

}  // namespace

std::string render_html(const LabReport& report) {
  std::string h;
  h += "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
  h += "<title>lanes lab report</title>\n<style>";
  h += kStyle;
  h += "</style>\n</head>\n<body>\n";
  const auto& m = report.machine;
  h += "<h1>lanes lab</h1>\n";
  h += fmt::format("<p class=\"machine\">{} core{}{} · {}{} · {} · took {:.1f} s</p>\n", m.cores,
                   m.cores == 1 ? "" : "s", m.cpu_model.empty() ? "" : " (" + esc(m.cpu_model) + ")",
                   esc(m.kernel), m.python.empty() ? "" : " · " + esc(m.python), esc(m.build),
                   report.seconds);
  h += "<p class=\"machine\">Speed-up: against the sequential run in the same language. "
       "Cores busy: CPU time / wall time.</p>\n";
  if (auto busy = busy_machine_note(m); !busy.empty())
    h += "<p class=\"machine partly\">Note: " + esc(busy) + "</p>\n";

  for (const auto& e : report.experiments) {
    h += fmt::format("<section id=\"exp-{}\">\n<h2>{}: {}</h2>\n<p class=\"workload\">{}</p>\n",
                     esc(e.name), esc(e.name), esc(e.title), esc(e.workload));
    h += "<div class=\"pair\">\n";
    if (!e.charts.empty()) h += figure(e, e.charts.front());
    h += "<table>\n<tr><th class=\"l\"></th><th class=\"l\">way</th>";
    for (const auto& c : e.columns) h += "<th>" + esc(c.header) + "</th>";
    h += "<th class=\"l\"></th></tr>\n";
    for (const auto& r : e.runs) {
      h += r.ran() ? "<tr>" : "<tr class=\"skipped\">";
      h += "<td class=\"l\">" + esc(r.lang) + "</td><td class=\"l\">" + esc(r.way) + "</td>";
      if (!r.ran()) {
        h += fmt::format("<td class=\"l\" colspan=\"{}\">skipped: {}</td></tr>\n",
                         e.columns.size() + 1, esc(r.skipped));
        continue;
      }
      for (const auto& c : e.columns) {
        auto v = r.get(c.key);
        h += "<td>" + (v ? esc(format_value(*v, c.format)) : std::string("-")) + "</td>";
      }
      h += "<td class=\"l note\">" + esc(r.note) + "</td></tr>\n";
    }
    h += "</table>\n</div>\n";
    for (std::size_t i = 1; i < e.charts.size(); ++i) h += figure(e, e.charts[i]);
    for (const auto& note : e.notes) h += "<p class=\"note\">" + esc(note) + "</p>\n";
    h += "</section>\n";
  }

  for (const auto& err : report.errors) h += "<p class=\"bad\">error: " + esc(err) + "</p>\n";

  h += "<section id=\"claims\">\n<h2>The tutorial's claims, measured on this machine</h2>\n";
  h += "<table class=\"claims\">\n<tr><th>verdict</th><th>claim</th><th>measured</th>"
       "<th>why</th></tr>\n";
  for (const auto& c : report.claims) {
    h += fmt::format(
        "<tr><td class=\"verdict {}\">{}</td><td>{}<br><span class=\"note\">{} · lab {}</span></td>"
        "<td>{}</td><td>{}</td></tr>\n",
        verdict_class(c.verdict), verdict_name(c.verdict), esc(c.claim), esc(c.source),
        esc(c.experiment), esc(c.figure), esc(c.why));
  }
  h += "</table>\n</section>\n</body>\n</html>\n";
  return h;
}

}  // namespace lanes_cli::lab
