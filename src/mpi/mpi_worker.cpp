// A worker rank: receive call frames from the root, run the registered function, send
// the answer frame back. Single-threaded. The frames are the process pool's
// (lanes/detail/process/wire_frame.hpp), carried as MPI messages instead of a socket.
//
// Waiting for work without burning a core: MPI has no blocking receive that sleeps
// (Open MPI's MPI_Recv polls shared memory at 100% CPU), so the loop probes with
// MPI_Improbe, spins for a short while after each message (a pipelined next call is
// usually already there), then sleeps between probes, the sleep doubling up to 1 ms.
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <memory>
#include <string>
#include <utility>

#include "lanes/detail/core/exception_text.hpp"
#include "lanes/detail/mpi/mpi_core.hpp"
#include "lanes/detail/process/process_registry.hpp"
#include "lanes/detail/process/wire_frame.hpp"
#include "lanes/detail/process/wire_types.hpp"
#include "mpi_backoff.hpp"

namespace lanes::detail {
namespace {

void error_frame(ByteBuffer& out, std::uint64_t id, ErrorKind kind, std::string_view type,
                 const std::string& message) {
  out.clear();
  const std::size_t start = begin_frame(out, FrameKind::error, id);
  WireWriter w(out);
  write_error(w, kind, type, message);
  end_frame(out, start);
}

/// Runs one call frame (single or batch) and writes its answer frame into `out`.
void run_call(const FrameHeader& h, std::string_view payload, ByteBuffer& out) {
  out.clear();
  WireReader in(payload);
  CallView call;
  try {
    call = parse_call(in);
  } catch (const WireFormatError& e) {
    error_frame(out, h.task_id, ErrorKind::bad_arguments, "lanes::WireFormatError", e.what());
    return;
  }
  const RemoteFunction* fn = find_remote(call.function);
  if (!fn || fn->signature != call.signature) {
    error_frame(out, h.task_id, fn ? ErrorKind::signature_mismatch : ErrorKind::unregistered,
                "lanes::UnregisteredFunctionError",
                "rank " + std::to_string(mpi_world_rank()) + " has " +
                    (fn ? "another signature for `" : "no function registered as `") +
                    std::string(call.function) +
                    "` (every rank must run the same build of the same program)");
    return;
  }
  const std::size_t start = begin_frame(out, FrameKind::result, h.task_id);
  const std::size_t timing_at = out.size();
  out.extend(sizeof(std::uint64_t));
  WireWriter w(out);
  const std::uint64_t t0 = monotonic_ns();
  if (call.mode == CallMode::single) {
    bool args_ok = false;
    try {
      fn->invoke(in, w, args_ok, true);
    } catch (...) {
      auto [type, message] = exception_text(std::current_exception());
      error_frame(out, h.task_id, args_ok ? ErrorKind::exception : ErrorKind::bad_arguments, type,
                  message);
      return;
    }
  } else {
    std::size_t n = 0;
    try {
      n = in.length(1, "batch");
    } catch (const WireFormatError& e) {
      error_frame(out, h.task_id, ErrorKind::bad_arguments, "lanes::WireFormatError", e.what());
      return;
    }
    w.pod(static_cast<std::uint32_t>(n));
    for (std::size_t i = 0; i < n; ++i) {
      const std::size_t mark = out.size();
      w.pod(std::uint8_t{1});
      bool args_ok = false;
      try {
        fn->invoke(in, w, args_ok, i + 1 == n);
      } catch (...) {
        auto [type, message] = exception_text(std::current_exception());
        if (!args_ok) {  // the rest of the batch cannot be located: refuse all of it
          error_frame(out, h.task_id, ErrorKind::bad_arguments, type, message);
          return;
        }
        out.resize_within_capacity(mark);  // this item's outcome: u8 0, type, message
        w.pod(std::uint8_t{0});
        wire_encode(w, type);
        wire_encode(w, message);
      }
    }
  }
  const std::uint64_t spent = monotonic_ns() - t0;
  std::memcpy(out.data() + timing_at, &spent, sizeof spent);
  try {
    end_frame(out, start);
  } catch (const WireFormatError& e) {
    error_frame(out, h.task_id, ErrorKind::exception, "lanes::WireFormatError", e.what());
  }
}

}  // namespace

int serve_mpi_calls(MPI_Comm comm, int root) {
  ByteBuffer in;
  ByteBuffer out;
  Backoff backoff;
  for (;;) {
    int flag = 0;
    MPI_Message message;
    MPI_Status status;
    check_mpi(MPI_Improbe(root, MPI_ANY_TAG, comm, &flag, &message, &status), "MPI_Improbe");
    if (!flag) {
      backoff.pause();
      continue;
    }
    backoff.reset();
    int count = 0;
    MPI_Get_count(&status, MPI_BYTE, &count);
    in.clear();
    in.extend(static_cast<std::size_t>(count));
    check_mpi(MPI_Mrecv(in.data(), count, MPI_BYTE, &message, &status), "MPI_Mrecv");
    if (status.MPI_TAG == kMPITagStop) return 0;
    if (status.MPI_TAG != kMPITagCall) {
      std::fprintf(stderr, "lanes MPI worker rank %d: a message with unknown tag %d\n",
                   mpi_world_rank(), status.MPI_TAG);
      return 3;
    }
    FrameHeader header;
    try {
      if (in.size() < kFrameHeaderSize)
        throw WireFormatError("a call message shorter than a frame header");
      header = parse_frame_header(in.data());
      if (header.kind != FrameKind::call) throw WireFormatError("a message that is not a call frame");
      // A large frame comes in several messages, in order: receive them in place.
      const std::size_t whole = kFrameHeaderSize + std::size_t{header.length};
      in.reserve(whole);  // at most 1 GiB (parse_frame_header checked the length)
      while (in.size() < whole) {
        check_mpi(MPI_Probe(root, kMPITagCall, comm, &status), "MPI_Probe");
        int more = 0;
        MPI_Get_count(&status, MPI_BYTE, &more);
        if (in.size() + static_cast<std::size_t>(more) > whole)
          throw WireFormatError("a call frame's pieces are longer than its header says");
        char* at = in.extend(static_cast<std::size_t>(more));
        check_mpi(MPI_Recv(at, more, MPI_BYTE, root, kMPITagCall, comm, MPI_STATUS_IGNORE), "MPI_Recv");
      }
      if (in.size() != whole) throw WireFormatError("a call message longer than its frame");
    } catch (const WireFormatError& e) {
      std::fprintf(stderr, "lanes MPI worker rank %d: %s\n", mpi_world_rank(), e.what());
      return 3;
    }
    run_call(header, in.view().substr(kFrameHeaderSize), out);
    std::fflush(nullptr);  // what the task printed goes out before its answer
    check_mpi(MPI_Send(out.data(), static_cast<int>(out.size()), MPI_BYTE, root, kMPITagAnswer, comm),
              "MPI_Send");
    if (in.capacity() > (1u << 20)) in.release_memory();
    if (out.capacity() > (1u << 20)) out.release_memory();
  }
}

}  // namespace lanes::detail
