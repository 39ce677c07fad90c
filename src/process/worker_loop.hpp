// Internal to the process pool (src/process/ only): the loop a worker process runs.
#pragma once

namespace lanes::detail {

struct WorkerSharedState;

/// Serves calls on `fd` until EOF; returns the exit status for the worker. Before it
/// runs a call it records the call's frame id in `shared` (if not null). Called by
/// the start-up hook (executor.cpp) in a fresh exec of the program, never returns to
/// main(). Throws nothing: a failing call is answered with an error frame.
int run_process_worker(int fd, WorkerSharedState* shared);

}  // namespace lanes::detail
