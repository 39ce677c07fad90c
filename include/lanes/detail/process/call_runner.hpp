// lanes/detail/process/call_runner.hpp — what a worker does with one call frame: find the
// registered function, run it on each argument tuple, and write the answer frame. Shared
// by the process pool's worker (src/process/worker_loop.cpp) and an MPI rank
// (src/mpi/mpi_worker.cpp): only how frames travel differs between them.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "lanes/detail/process/wire_frame.hpp"

namespace lanes::detail {

/// The words of the error when this process has no function registered under the
/// call's name (`other_signature` false) or has one with another signature (true).
using MissingFunctionText = std::string (*)(std::string_view function, bool other_signature);

/// Writes into `out` the error frame `id` with `kind`, `type` and `message`. Throws
/// WireFormatError only if the message itself is over the frame limit.
void write_error_frame(ByteBuffer& out, std::uint64_t id, ErrorKind kind, std::string_view type,
                       const std::string& message);

/// Runs the call `payload` of `header` (single or batch) and writes its answer frame into
/// `out`: the result (with the nanoseconds spent calling), or an error frame — a malformed
/// payload, a missing function (`missing` gives the words), an exception thrown by the
/// function (a batch keeps the outcome of each item). Throws nothing a call raises;
/// only std::bad_alloc can escape.
void run_call_frame(const FrameHeader& header, std::string_view payload, ByteBuffer& out,
                    MissingFunctionText missing);

}  // namespace lanes::detail
