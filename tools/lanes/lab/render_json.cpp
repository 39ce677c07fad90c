// tools/lanes/lab/render_json.cpp — `lanes lab --json`: the whole report, for machines.
//
// Shape (stable: scripts and the tests read it):
//   { "tool", "machine": {...}, "sizes": {...},
//     "experiments": [ { "name", "title", "workload", "seconds", "notes": [..],
//                        "columns": [ {"key","header"} ],
//                        "runs": [ { "lang", "way", "note", "skipped"?, "values": {...} } ] } ],
//     "claims": [ { "id", "seeds", "claim", "experiment", "verdict", "figure", "why" } ],
//     "errors": [..], "seconds" }
#include "json.hpp"
#include "lab/report.hpp"

namespace lanes_cli::lab {

std::string render_json(const LabReport& report) {
  JsonWriter w;
  w.begin_object();
  w.member("tool", "lanes lab");
  w.key("machine").begin_object();
  w.member("cores", report.machine.cores);
  w.member("cpu", report.machine.cpu_model);
  w.member("kernel", report.machine.kernel);
  w.key("python");
  if (report.machine.python.empty()) {
    w.null();
  } else {
    w.value(report.machine.python);
  }
  w.member("build", report.machine.build);
  w.member("load_before", report.machine.load_before);
  w.end_object();

  const Sizes& s = report.sizes;
  w.key("sizes").begin_object();
  w.member("quick", s.quick);
  w.member("fib", s.fib_n);
  w.member("task_ms", s.task_ms);
  w.member("cpu_tasks", s.cpu_tasks);
  w.member("repeat", s.repeat);
  w.member("io_waits", s.io_waits);
  w.member("wait_ms", s.wait_ms);
  w.member("lock_threads", s.lock_threads);
  w.member("increments", static_cast<long long>(s.increments));
  w.key("waiters").begin_array();
  for (long n : s.waiters) w.value(static_cast<long long>(n));
  w.end_array();
  w.member("processes", s.processes);
  w.member("threads_per_process", s.threads_per_process);
  w.member("python", s.python);
  w.end_object();

  w.key("experiments").begin_array();
  for (const auto& e : report.experiments) {
    w.begin_object();
    w.member("name", e.name);
    w.member("title", e.title);
    w.member("workload", e.workload);
    w.member("seconds", e.seconds);
    w.key("notes").begin_array();
    for (const auto& n : e.notes) w.value(n);
    w.end_array();
    w.key("columns").begin_array();
    for (const auto& c : e.columns) {
      w.begin_object().member("key", c.key).member("header", c.header).end_object();
    }
    w.end_array();
    w.key("chart").begin_object().member("key", e.chart.key).member("title", e.chart.title).end_object();
    w.key("runs").begin_array();
    for (const auto& r : e.runs) {
      w.begin_object();
      w.member("lang", r.lang);
      w.member("way", r.way);
      w.member("note", r.note);
      if (!r.ran()) w.member("skipped", r.skipped);
      w.key("values").begin_object();
      for (const auto& [k, v] : r.values) w.member(k, v);
      w.end_object();
      w.end_object();
    }
    w.end_array();
    w.end_object();
  }
  w.end_array();

  w.key("claims").begin_array();
  for (const auto& c : report.claims) {
    w.begin_object();
    w.member("id", c.id);
    w.member("seeds", c.seeds);
    w.member("claim", c.claim);
    w.member("experiment", c.experiment);
    w.member("verdict", verdict_name(c.verdict));
    w.member("figure", c.figure);
    w.member("why", c.why);
    w.end_object();
  }
  w.end_array();
  w.key("errors").begin_array();
  for (const auto& e : report.errors) w.value(e);
  w.end_array();
  w.member("seconds", report.seconds);
  w.end_object();
  return w.str() + "\n";
}

}  // namespace lanes_cli::lab
