// tools/lanes/lab/exp_io.cpp — the io experiment: K waits of L ms on real I/O (an HTTP
// request to an in-process loopback server that answers after L ms, then a file write,
// fsync and read), every way the seeds name, and in Python beside it.
#include <fmt/format.h>

#include "lab/experiment.hpp"
#include "lab/progress.hpp"

namespace lanes_cli::lab {

ExperimentResult run_io(Context& ctx) {
  const Sizes& s = ctx.sizes;
  ExperimentResult result;
  result.name = "io";
  result.title = "I/O-bound work: waiting on the network and the disk";
  result.workload = fmt::format("{} waits: HTTP GET answered after {} ms + file write, fsync, read",
                                s.io_waits, s.wait_ms);
  result.columns = timing_columns();
  result.chart = {"speedup", "speed-up against sequential (higher is better)", Format::ratio};
  ctx.progress.plan(1);
  for (const char* way : {"sequential", "threads", "thread pool", "process pool", "event loop",
                          "threads + emulated GIL"}) {
    Run r;
    r.way = way;
    r.skipped = "needs lanes/net.hpp (the loopback HTTP server; not in this build yet)";
    result.runs.push_back(r);
  }
  return result;
}

}  // namespace lanes_cli::lab
