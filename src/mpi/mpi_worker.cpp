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

#include "lanes/detail/mpi/mpi_core.hpp"
#include "lanes/detail/process/call_runner.hpp"
#include "lanes/detail/process/process_registry.hpp"
#include "lanes/detail/process/wire_frame.hpp"
#include "lanes/detail/process/wire_types.hpp"
#include "mpi_backoff.hpp"

namespace lanes::detail {
namespace {

/// Every rank runs the same program: a missing function means another build on some host.
std::string missing_on_rank(std::string_view function, bool other_signature) {
  return "rank " + std::to_string(mpi_world_rank()) + " has " +
         (other_signature ? "another signature for `" : "no function registered as `") +
         std::string(function) + "` (every rank must run the same build of the same program)";
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
    run_call_frame(header, in.view().substr(kFrameHeaderSize), out, missing_on_rank);
    std::fflush(nullptr);  // what the task printed goes out before its answer
    check_mpi(MPI_Send(out.data(), static_cast<int>(out.size()), MPI_BYTE, root, kMPITagAnswer, comm),
              "MPI_Send");
    if (in.capacity() > (1u << 20)) in.release_memory();
    if (out.capacity() > (1u << 20)) out.release_memory();
  }
}

}  // namespace lanes::detail
