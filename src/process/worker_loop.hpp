// Internal to the process pool (src/process/ only): the loop a worker process runs.
#pragma once

namespace lanes::detail {

struct WorkerSharedState;

/// Serves calls until the pool closes the request ring (or the socket, or dies);
/// returns the exit status for the worker. Calls come through `shared.requests` (or,
/// when a record says so, whole through the socket `fd`); answers go back through
/// `shared.answers` (or the socket when larger than a ring slot), with a write to the
/// eventfd `doorbell` if the supervisor sleeps. Before it runs a call it records the
/// call's frame id in `shared.taken_frame`. Called by the start-up hook (executor.cpp)
/// in a fresh exec of the program, never returns to main(). Throws nothing: a failing
/// call is answered with an error frame.
int run_process_worker(int fd, WorkerSharedState& shared, int doorbell);

}  // namespace lanes::detail
