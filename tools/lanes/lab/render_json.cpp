// tools/lanes/lab/render_json.cpp — `lanes lab --json`: the whole report, for machines.
//
// Shape (stable: scripts and the tests read it; "schema" says which version):
//   { "schema", "tool", "machine": {...}, "sizes": {...},
//     "experiments": [ { "name", "title", "workload", "seconds", "notes": [..],
//                        "columns": [ {"key","header"} ],
//                        "charts": [ {"key","title","log_scale"} ],
//                        "runs": [ { "lang", "way", "note", "skipped"?, "values": {...} } ] } ],
//     "claims": [ { "id", "source", "claim", "experiment", "verdict", "figure", "why" } ],
//     "errors": [..], "seconds" }
#include "json_out.hpp"
#include "lab/report.hpp"

namespace lanes_cli::lab {

std::string render_json(const LabReport& report) {
  JsonDoc doc = json_document("lanes lab");
  const Machine& m = report.machine;
  JsonDoc& machine = doc["machine"];
  machine["cores"] = m.cores;
  machine["cpu"] = m.cpu_model;
  machine["kernel"] = m.kernel;
  machine["python"] = m.python.empty() ? JsonDoc(nullptr) : JsonDoc(m.python);
  machine["build"] = m.build;
  machine["others_busy_cores_before"] = json_number(m.others_busy_cores);
  machine["others_busy_cores_during"] = json_number(m.others_busy_during);

  const Sizes& s = report.sizes;
  JsonDoc& sizes = doc["sizes"];
  sizes["quick"] = s.quick;
  sizes["fib"] = s.fib_n;
  sizes["task_ms"] = json_number(s.task_ms);
  sizes["cpu_tasks"] = s.cpu_tasks;
  sizes["repeat"] = s.repeat;
  sizes["io_waits"] = s.io_waits;
  sizes["wait_ms"] = s.wait_ms;
  sizes["lock_threads"] = s.lock_threads;
  sizes["increments"] = s.increments;
  sizes["waiters"] = s.waiters;
  sizes["processes"] = s.processes;
  sizes["threads_per_process"] = s.threads_per_process;
  sizes["python"] = s.python;

  JsonDoc& experiments = doc["experiments"] = JsonDoc::array();
  for (const auto& e : report.experiments) {
    JsonDoc x;
    x["name"] = e.name;
    x["title"] = e.title;
    x["workload"] = e.workload;
    x["seconds"] = json_number(e.seconds);
    x["notes"] = e.notes;
    x["columns"] = JsonDoc::array();
    for (const auto& c : e.columns) x["columns"].push_back({{"key", c.key}, {"header", c.header}});
    x["charts"] = JsonDoc::array();
    for (const auto& c : e.charts)
      x["charts"].push_back({{"key", c.key}, {"title", c.title}, {"log_scale", c.log_scale}});
    x["runs"] = JsonDoc::array();
    for (const auto& r : e.runs) {
      JsonDoc run;
      run["lang"] = r.lang;
      run["way"] = r.way;
      run["note"] = r.note;
      if (!r.ran()) run["skipped"] = r.skipped;
      run["values"] = JsonDoc::object();
      for (const auto& [k, v] : r.values) run["values"][k] = json_number(v);
      x["runs"].push_back(std::move(run));
    }
    experiments.push_back(std::move(x));
  }

  JsonDoc& claims = doc["claims"] = JsonDoc::array();
  for (const auto& c : report.claims) {
    claims.push_back({{"id", c.id},
                      {"source", c.source},
                      {"claim", c.claim},
                      {"experiment", c.experiment},
                      {"verdict", verdict_name(c.verdict)},
                      {"figure", c.figure},
                      {"why", c.why}});
  }
  doc["errors"] = report.errors;
  doc["seconds"] = json_number(report.seconds);
  return dump_json(doc);
}

}  // namespace lanes_cli::lab
