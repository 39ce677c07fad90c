// tests/test_lanes_cli.cpp — the `lanes` command-line tool, run as a user runs it:
// command-line parsing and bad use, `lanes lab --quick --json` holding every
// experiment, its text within 100 columns, its progress bar on a 60-column terminal, and
// the HTML report rendered by headless Chromium with bars where each chart is.
// `lanes advise` has its own file, tests/test_lanes_cli_advise.cpp.
#include <algorithm>
#include <array>
#include <cctype>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "cli_test_support.hpp"
#include "png_decode.hpp"

namespace {

using Json = nlohmann::json;
using namespace lanes_cli_test;

// ---------------------------------------------------------------------------------------
// Parsing and bad use: one clear line on stderr, exit status 2.
// ---------------------------------------------------------------------------------------

TEST(LanesCliParsing, NoSubcommandIsBadUse) { expect_usage_error(lanes({}), "lanes lab"); }

TEST(LanesCliParsing, UnknownFlagIsBadUse) { expect_usage_error(lanes({"--frobnicate"}), "--frobnicate"); }

TEST(LanesCliParsing, UnknownLabFlagIsBadUse) {
  expect_usage_error(lanes({"lab", "--quick", "--colour"}), "--colour");
}

TEST(LanesCliParsing, UnknownExperimentIsBadUse) {
  expect_usage_error(lanes({"lab", "gpu"}), "gpu");
}

TEST(LanesCliParsing, SizeOutOfRangeIsBadUse) {
  expect_usage_error(lanes({"lab", "cpu", "--fib", "99"}), "--fib");
}

TEST(LanesCliParsing, NonNumericSizeIsBadUse) {
  expect_usage_error(lanes({"lab", "io", "--waits", "many"}), "--waits: expects a whole number, got 'many'");
  expect_usage_error(lanes({"lab", "cpu", "--task-ms", "soon"}), "--task-ms: expects a number");
}

TEST(LanesCliParsing, OutOfRangeSaysTheRange) {
  expect_usage_error(lanes({"lab", "cpu", "--fib", "99"}), "--fib: must be from 10 to 45, got 99");
}

TEST(LanesCliParsing, VersionPrintsTheVersion) {
  Ran r = lanes({"--version"});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, std::string("lanes ") + LANES_CLI_VERSION + "\n");
}

TEST(LanesCliParsing, CommandAfterDashesNeedsAdvise) {
  expect_usage_error(lanes({"lab", "--", "ls"}), "advise");
}

TEST(LanesCliParsing, UnwritableReportIsBadUseBeforeAnythingRuns) {
  expect_usage_error(lanes({"lab", "--report", "/nonexistent-dir/lanes/report.html"}),
                     "/nonexistent-dir/lanes/report.html");
}

TEST(LanesCliParsing, HelpListsSubcommandsAndExperiments) {
  Ran top = lanes({"--help"});
  EXPECT_EQ(top.status, 0);
  EXPECT_NE(top.out.find("lab"), std::string::npos);
  EXPECT_NE(top.out.find("advise"), std::string::npos);
  Ran lab = lanes({"lab", "--help"});
  EXPECT_EQ(lab.status, 0);
  for (const char* e : {"cpu", "io", "lock", "memory", "scale", "hybrid", "--quick", "--json",
                        "--report", "--no-python", "tutorial"})
    EXPECT_NE(lab.out.find(e), std::string::npos) << e;
  // The claims come from a tutorial, and the help says so in words a reader knows.
  for (const Ran* help : {&top, &lab}) EXPECT_EQ(help->out.find("seed"), std::string::npos) << help->out;
}

// ---------------------------------------------------------------------------------------
// lanes lab --quick --json
// ---------------------------------------------------------------------------------------

const Json* find_experiment(const Json& doc, const std::string& name) {
  for (const auto& e : doc.at("experiments"))
    if (e.at("name").get<std::string>() == name) return &e;
  return nullptr;
}

const Json* find_run(const Json& experiment, const std::string& lang, const std::string& way) {
  for (const auto& r : experiment.at("runs"))
    if (r.at("lang").get<std::string>() == lang && r.at("way").get<std::string>() == way) return &r;
  return nullptr;
}

bool ran(const Json* run) { return run && !run->contains("skipped"); }

TEST(LanesCliLab, QuickJsonHoldsEveryExperiment) {
  auto args = lab_args();
  args.push_back("--json");
  Ran r = lanes(args);
  ASSERT_EQ(r.status, 0) << r.err << r.out;
  EXPECT_TRUE(r.err.empty()) << "no progress bar when stderr is not a terminal: " << r.err;
  Json doc = Json::parse(r.out);
  EXPECT_EQ(doc.at("schema").get<int>(), 2);
  EXPECT_EQ(doc.at("tool").get<std::string>(), "lanes lab");

  std::set<std::string> names;
  for (const auto& e : doc.at("experiments")) {
    names.insert(e.at("name").get<std::string>());
    EXPECT_FALSE(e.at("runs").empty()) << e.at("name").get<std::string>();
    for (const auto& run : e.at("runs")) {
      if (run.contains("skipped")) continue;
      const auto& v = run.at("values");
      if (v.contains("wall_s")) {
        EXPECT_GE(v.at("wall_s").get<double>(), 0.0);
      }
    }
  }
  EXPECT_EQ(names, (std::set<std::string>{"cpu", "io", "lock", "memory", "scale", "hybrid"}));
  EXPECT_TRUE(doc.at("errors").empty());

  // The runs each claim needs are there and ran.
  const Json* cpu = find_experiment(doc, "cpu");
  ASSERT_NE(cpu, nullptr);
  for (const char* way : {"sequential", "threads", "thread pool", "process pool", "event loop",
                          "threads + emulated GIL"}) {
    const Json* run = find_run(*cpu, "C++", way);
    ASSERT_TRUE(ran(run)) << "cpu: " << way;
    EXPECT_GT((*run).at("values").at("speedup").get<double>(), 0.0) << way;
  }
  const Json* io = find_experiment(doc, "io");
  ASSERT_NE(io, nullptr);
  for (const char* way : {"sequential", "threads", "thread pool", "process pool", "event loop",
                          "threads + emulated GIL"})
    EXPECT_TRUE(ran(find_run(*io, "C++", way))) << "io: " << way;

  const Json* lock = find_experiment(doc, "lock");
  ASSERT_NE(lock, nullptr);
  const Json* mutex = find_run(*lock, "C++", "std::mutex");
  ASSERT_TRUE(ran(mutex));
  EXPECT_EQ((*mutex).at("values").at("lost").get<double>(), 0.0) << "a lock must never lose an update";
  const Json* locked_tasks = find_run(*lock, "C++", "tasks + lanes::Lock");
  ASSERT_TRUE(ran(locked_tasks));
  EXPECT_EQ((*locked_tasks).at("values").at("lost").get<double>(), 0.0);
  const Json* racing_tasks = find_run(*lock, "C++", "tasks, unprotected");
  ASSERT_TRUE(ran(racing_tasks));
  EXPECT_GT((*racing_tasks).at("values").at("lost").get<double>(), 0.0)
      << "tasks that await between read and write always interleave";

  const Json* memory = find_experiment(doc, "memory");
  ASSERT_NE(memory, nullptr);
  const Json* thread = find_run(*memory, "C++", "thread");
  const Json* child = find_run(*memory, "C++", "child process");
  ASSERT_TRUE(ran(thread));
  ASSERT_TRUE(ran(child));
  EXPECT_EQ((*thread).at("values").at("parent_sees").get<double>(), 1.0);
  EXPECT_EQ((*child).at("values").at("parent_sees").get<double>(), 0.0);
  EXPECT_EQ((*child).at("values").at("child_saw").get<double>(), 42.0);

  const Json* scale = find_experiment(doc, "scale");
  ASSERT_NE(scale, nullptr);
  bool coroutines = false;
  for (const auto& run : (*scale).at("runs")) {
    if (!run.contains("skipped") && run.at("way").get<std::string>().rfind("coroutines", 0) == 0) {
      coroutines = true;
      EXPECT_GT(run.at("values").at("create_us").get<double>(), 0.0);
    }
  }
  EXPECT_TRUE(coroutines);

  const Json* hybrid = find_experiment(doc, "hybrid");
  ASSERT_NE(hybrid, nullptr);
  int hybrid_ran = 0;
  for (const auto& run : (*hybrid).at("runs")) hybrid_ran += !run.contains("skipped");
  EXPECT_GE(hybrid_ran, 4);

  // Every claim is judged with one of the known verdicts, and each names its experiment.
  const std::set<std::string> verdicts = {"confirmed", "refuted",      "partly true",
                                          "answered",  "inconclusive", "not measured"};
  ASSERT_GE(doc.at("claims").size(), 10u);
  for (const auto& c : doc.at("claims")) {
    EXPECT_TRUE(verdicts.count(c.at("verdict").get<std::string>())) << c.at("id").get<std::string>();
    EXPECT_TRUE(names.count(c.at("experiment").get<std::string>())) << c.at("id").get<std::string>();
    EXPECT_FALSE(c.at("claim").get<std::string>().empty());
    EXPECT_EQ(c.at("source").get<std::string>().rfind("tutorial part", 0), 0u);
    // Every experiment ran, so every claim found its figures: parallelism needs 2 cores,
    // and the hybrid claim processes running threads needs 2 threads per process (the
    // sanitized builds run 1).
    const std::string id = c.at("id").get<std::string>();
    const bool can_measure =
        doc.at("machine").at("cores").get<int>() >= 2 &&
        (id != "concurrency-and-parallelism" ||
         doc.at("sizes").at("threads_per_process").get<int>() >= 2);
    if (can_measure) {
      EXPECT_NE(c.at("verdict").get<std::string>(), "not measured") << c.at("id").get<std::string>();
    }
  }
}

TEST(LanesCliLab, TextOutputHasATablePerExperimentAndTheClaims) {
  auto args = lab_args();
  args.insert(args.begin() + 1, {"lock", "memory"});
  Ran r = lanes(args);
  ASSERT_EQ(r.status, 0) << r.err << r.out;
  EXPECT_NE(r.out.find("== lock:"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("== memory:"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("== cpu:"), std::string::npos) << "only the experiments asked for";
  EXPECT_NE(r.out.find("== the tutorial's claims"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("lost updates"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("seed"), std::string::npos) << r.out;
  // Every line fits 100 columns (a UTF-8 character is one column).
  std::size_t start = 0;
  while (start < r.out.size()) {
    std::size_t nl = r.out.find('\n', start);
    if (nl == std::string::npos) nl = r.out.size();
    const std::string line = r.out.substr(start, nl - start);
    std::size_t columns = 0;
    for (unsigned char c : line) columns += (c & 0xC0) != 0x80;
    EXPECT_LE(columns, 100u) << line;
    EXPECT_TRUE(line.empty() || line.back() != ' ') << "trailing space: '" << line << "'";
    start = nl + 1;
  }
}

TEST(LanesCliLab, ProgressBarFitsANarrowTerminalAndLeavesNothingBehind) {
  // On a terminal, the bar is drawn on stderr: on one 60 columns wide, no drawn line may
  // reach the last column (it would wrap, and "\r" then redraws on the wrong row), and
  // once the lab has finished the screen holds no stale line of it.
  auto args = lab_args();
  args.insert(args.begin() + 1, {"lock", "memory"});
  args.insert(args.begin(), LANES_CLI_PATH);
  int status = -1;
  const std::string drawn = run_on_terminal(args, 60, status);
  ASSERT_EQ(status, 0) << drawn;
  ASSERT_NE(drawn.find("%"), std::string::npos) << "no progress bar drawn on a terminal";
  std::size_t longest = 0, columns = 0;
  for (std::size_t i = 0; i < drawn.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(drawn[i]);
    if (c == '\r' || c == '\n') {
      columns = 0;
    } else if (c == 0x1b) {
      while (i < drawn.size() && !std::isalpha(static_cast<unsigned char>(drawn[i]))) ++i;
    } else if ((c & 0xC0) != 0x80) {
      longest = std::max(longest, ++columns);
    }
  }
  EXPECT_LE(longest, 59u) << drawn;
  for (const auto& line : terminal_screen(drawn, 60))
    EXPECT_TRUE(line.empty()) << "left on the screen: '" << line << "'";
}

TEST(LanesCliLab, PythonSideRunsBesideCppWhenPython3IsFound) {
#if defined(LANES_SANITIZED)
  GTEST_SKIP() << "the Python side is exercised in the plain builds";
#else
  if (run({"python3", "-c", "pass"}).status != 0) GTEST_SKIP() << "no python3 on PATH";
  Ran r = lanes({"lab", "cpu", "--quick", "--json", "--tasks", "2", "--task-ms", "5"});
  ASSERT_EQ(r.status, 0) << r.err;
  Json doc = Json::parse(r.out);
  EXPECT_TRUE(doc.at("machine").at("python").is_string());
  const Json* cpu = find_experiment(doc, "cpu");
  ASSERT_NE(cpu, nullptr);
  for (const char* way : {"sequential", "threads", "thread pool", "process pool", "event loop"})
    EXPECT_TRUE(ran(find_run(*cpu, "Python", way))) << way;
#endif
}

// ---------------------------------------------------------------------------------------
// The HTML report, rendered by headless Chromium
// ---------------------------------------------------------------------------------------

std::string find_chromium() {
  for (const char* name : {"chromium", "chromium-browser", "google-chrome", "chrome"}) {
    Ran r = run({"sh", "-c", std::string("command -v ") + name});
    if (r.status == 0 && !r.out.empty()) return r.out.substr(0, r.out.find('\n'));
  }
  return {};
}

std::vector<std::string> chromium_args(const std::string& chromium, const TempDir& dir,
                                       const std::string& profile, int width, int height) {
  return {"timeout", "120", chromium, "--headless", "--no-sandbox", "--disable-gpu",
          "--disable-quic", "--no-first-run", "--disable-background-networking",
          "--disable-component-update", "--disable-sync", "--hide-scrollbars",
          "--user-data-dir=" + dir.file(profile),
          "--window-size=" + std::to_string(width) + "," + std::to_string(height)};
}

std::string html_unescape(std::string s) {
  const std::pair<const char*, const char*> entities[] = {
      {"&quot;", "\""}, {"&#39;", "'"}, {"&lt;", "<"}, {"&gt;", ">"}, {"&amp;", "&"}};
  for (const auto& [from, to] : entities) {
    for (std::size_t at; (at = s.find(from)) != std::string::npos;) s.replace(at, std::strlen(from), to);
  }
  return s;
}

std::string body_attribute(const std::string& dom, const std::string& name) {
  const std::string key = name + "=\"";
  auto at = dom.find(key);
  if (at == std::string::npos) return {};
  at += key.size();
  return html_unescape(dom.substr(at, dom.find('"', at) - at));
}

// Where each chart was laid out: the test adds this script to its own copy of the page
// (the shipped page has none) and reads the result back through --dump-dom.
constexpr const char* kLayoutScript = R"JS(<script>
window.addEventListener('load', function () {
  var boxes = [];
  document.querySelectorAll('svg.chart').forEach(function (svg) {
    var r = svg.getBoundingClientRect();
    boxes.push({name: svg.getAttribute('data-experiment') + '/' + svg.getAttribute('data-key'),
                x: Math.round(r.left + window.scrollX), y: Math.round(r.top + window.scrollY),
                w: Math.round(r.width), h: Math.round(r.height)});
  });
  document.body.setAttribute('data-chart-boxes', JSON.stringify(boxes));
  document.body.setAttribute('data-page-height', String(document.documentElement.scrollHeight));
});
</script>)JS";

TEST(LanesCliReport, ChromiumDrawsEveryChart) {
  const std::string chromium = find_chromium();
  if (chromium.empty()) GTEST_SKIP() << "chromium is not installed (scripts/install-deps.sh installs it)";
  TempDir dir;
  const std::string html = dir.file("report.html");
  auto args = lab_args();
  args.insert(args.end(), {"--no-python", "--report", html});
  Ran lab = lanes(args);
  ASSERT_EQ(lab.status, 0) << lab.err;
  const std::string page = read_file(html);
  ASSERT_NE(page.find("<svg class=\"chart\""), std::string::npos);
  EXPECT_EQ(page.find("http://"), page.find("http://www.w3.org/2000/svg")) << "self-contained";
  EXPECT_EQ(page.find("src="), std::string::npos) << "self-contained: no external resource";
  EXPECT_EQ(page.find("<script"), std::string::npos) << "no script in the shipped page";
  EXPECT_EQ(page.find("seed"), std::string::npos) << "the report speaks of the tutorial";
  // Without Python no chart has Python bars, so none has a legend naming it.
  EXPECT_EQ(page.find(">Python</span>"), std::string::npos) << "a Python legend without Python";
  // The scale experiment charts both start-up time and bytes per waiter, on log scales.
  for (const char* key : {"create_us", "bytes_each"})
    EXPECT_NE(page.find(std::string("data-experiment=\"scale\" data-key=\"") + key +
                        "\" data-scale=\"log\""),
              std::string::npos)
        << key;

  // The dashed 1x line of each speed-up chart stays off the value labels: wherever a
  // label (at most 6.5 px a character at 11 px) spans the line's x, no piece of the line
  // runs through the label's text height.
  for (std::size_t at = page.find("<svg class=\"chart\""); at != std::string::npos;
       at = page.find("<svg class=\"chart\"", at + 1)) {
    const std::string chart = page.substr(at, page.find("</svg>", at) - at);
    std::vector<std::array<double, 3>> pieces;  // x, y1, y2
    for (std::size_t l = chart.find("<line class=\"one-x\""); l != std::string::npos;
         l = chart.find("<line class=\"one-x\"", l + 1)) {
      double x = 0, y1 = 0, x2 = 0, y2 = 0;
      ASSERT_EQ(std::sscanf(chart.c_str() + l, "<line class=\"one-x\" x1=\"%lf\" y1=\"%lf\" x2=\"%lf\" y2=\"%lf\"",
                            &x, &y1, &x2, &y2), 4);
      pieces.push_back({x, y1, y2});
    }
    for (std::size_t t = chart.find("<text class=\"value\""); t != std::string::npos;
         t = chart.find("<text class=\"value\"", t + 1)) {
      double x = 0, y = 0;
      ASSERT_EQ(std::sscanf(chart.c_str() + t, "<text class=\"value\" x=\"%lf\" y=\"%lf\"", &x, &y), 2);
      const std::size_t open = chart.find('>', t) + 1;
      const std::string label = chart.substr(open, chart.find('<', open) - open);
      const double w = 6.5 * static_cast<double>(label.size());
      for (const auto& [lx, y1, y2] : pieces) {
        if (lx < x - 2 || lx > x + w + 2) continue;
        EXPECT_TRUE(y2 <= y - 10 || y1 >= y + 2)
            << "the 1x line at x=" << lx << " crosses the label '" << label << "' at y=" << y;
      }
    }
  }

  const std::string probe = dir.file("report-probe.html");
  {
    std::string copy = page;
    copy.insert(copy.rfind("</body>"), kLayoutScript);
    std::ofstream(probe) << copy;
  }
  // Where did each chart land? The page's own script records it; --dump-dom shows it.
  constexpr int kWidth = 1400;
  auto dump = chromium_args(chromium, dir, "profile-dom", kWidth, 900);
  dump.insert(dump.end(), {"--dump-dom", "file://" + probe});
  Ran dom = run(dump);
  ASSERT_EQ(dom.status, 0) << dom.err;
  const std::string boxes_text = body_attribute(dom.out, "data-chart-boxes");
  ASSERT_FALSE(boxes_text.empty()) << dom.out.substr(0, 2000);
  Json boxes = Json::parse(boxes_text);
  const int page_height = std::atoi(body_attribute(dom.out, "data-page-height").c_str());
  ASSERT_GT(page_height, 0);
  ASSERT_EQ(boxes.size(), 7u) << "one chart per experiment, two for scale";

  // Then a screenshot of the whole page, and bars (the C++ colour #2b6cb0) in every box.
  const std::string png = dir.file("report.png");
  auto shot = chromium_args(chromium, dir, "profile-png", kWidth, page_height + 40);
  shot.insert(shot.end(), {"--screenshot=" + png, "file://" + probe});
  Ran snap = run(shot);
  ASSERT_EQ(snap.status, 0) << snap.err;
  Image img;
  ASSERT_TRUE(decode_png(read_file(png), img)) << "not an 8-bit RGB(A) PNG";
  ASSERT_GE(img.width, kWidth / 2);
  for (const auto& box : boxes) {
    const std::string name = box.at("name").get<std::string>();
    const int x0 = static_cast<int>(box.at("x").get<double>()), y0 = static_cast<int>(box.at("y").get<double>());
    const int w = static_cast<int>(box.at("w").get<double>()), h = static_cast<int>(box.at("h").get<double>());
    ASSERT_GT(w, 0) << name;
    ASSERT_LE(y0 + h, img.height) << name << ": the chart is below the screenshot";
    long bar = 0, ink = 0;
    for (int y = y0; y < y0 + h; ++y) {
      for (int x = x0; x < std::min(x0 + w, img.width); ++x) {
        const std::uint8_t* p = img.at(x, y);
        if (std::abs(p[0] - 0x2b) < 24 && std::abs(p[1] - 0x6c) < 24 && std::abs(p[2] - 0xb0) < 24) ++bar;
        if (p[0] < 200 || p[1] < 200 || p[2] < 200) ++ink;
      }
    }
    EXPECT_GT(bar, 100) << name << ": no bar drawn in its chart";
    EXPECT_GT(ink, bar) << name << ": no labels drawn in its chart";
  }
  // And outside every chart, the page's top-left corner is the white background.
  const std::uint8_t* corner = img.at(2, 2);
  EXPECT_GT(corner[0] + corner[1] + corner[2], 3 * 240);
}

}  // namespace
