// The root's progress thread, its receiving half: answers from the worker ranks become
// completed futures (in whatever order they arrive); timeouts, a broken pool, the stop.
#include <cstring>
#include <string>

#include "lanes/errors.hpp"
#include "mpi_backoff.hpp"
#include "mpi_dispatcher.hpp"

namespace lanes::detail {
namespace {
constexpr std::size_t kEagerReceive = 1 << 16;  // larger answers: MPI_Imrecv, polled
}  // namespace

bool MPIDispatcher::poll_answers() {
  bool active = false;
  for (;;) {
    int flag = 0;
    MPI_Message message;
    MPI_Status status;
    check_mpi(MPI_Improbe(MPI_ANY_SOURCE, kMPITagAnswer, config_.comm, &flag, &message, &status),
              "MPI_Improbe");
    if (!flag) break;
    active = true;
    int count = 0;
    MPI_Get_count(&status, MPI_BYTE, &count);
    Receive r;
    r.source = status.MPI_SOURCE;
    r.bytes.extend(static_cast<std::size_t>(count));
    if (static_cast<std::size_t>(count) <= kEagerReceive) {
      check_mpi(MPI_Mrecv(r.bytes.data(), count, MPI_BYTE, &message, MPI_STATUS_IGNORE), "MPI_Mrecv");
      take_answer(r.bytes, r.source);
    } else {
      check_mpi(MPI_Imrecv(r.bytes.data(), count, MPI_BYTE, &message, &r.request), "MPI_Imrecv");
      receives_.push_back(std::move(r));
    }
  }
  for (std::size_t i = 0; i < receives_.size();) {
    int done = 0;
    check_mpi(MPI_Test(&receives_[i].request, &done, MPI_STATUS_IGNORE), "MPI_Test");
    if (!done) {
      ++i;
      continue;
    }
    active = true;
    Receive r = std::move(receives_[i]);
    receives_.erase(receives_.begin() + static_cast<std::ptrdiff_t>(i));
    take_answer(r.bytes, r.source);
  }
  // Small sends complete by themselves; a large one is tested until it has.
  for (std::size_t i = 0; i < large_sends_.size();) {
    auto it = frames_.find(large_sends_[i]);
    int done = 1;
    if (it != frames_.end()) {
      auto& sends = it->second->sends;
      check_mpi(MPI_Testall(static_cast<int>(sends.size()), sends.data(), &done, MPI_STATUSES_IGNORE),
                "MPI_Testall");
    }
    if (done) {
      large_sends_[i] = large_sends_.back();
      large_sends_.pop_back();
    } else {
      ++i;
    }
  }
  return active;
}

void MPIDispatcher::take_answer(const ByteBuffer& bytes, int source) {
  if (bytes.size() < kFrameHeaderSize)
    throw WireFormatError("rank " + std::to_string(source) + " sent an answer shorter than a frame header");
  const FrameHeader h = parse_frame_header(bytes.data());
  auto it = frames_.find(h.task_id);
  if (h.kind == FrameKind::call || it == frames_.end() ||
      workers_[it->second->worker].rank != source || h.length != bytes.size() - kFrameHeaderSize)
    throw WireFormatError("rank " + std::to_string(source) + " sent an unexpected frame (kind " +
                          std::to_string(static_cast<int>(h.kind)) + ", task " +
                          std::to_string(h.task_id) + ")");
  std::unique_ptr<MPIFrame> frame = std::move(it->second);
  frames_.erase(it);
  // The worker received the whole call, so its send is complete (or completes now).
  check_mpi(MPI_Waitall(static_cast<int>(frame->sends.size()), frame->sends.data(),
                        MPI_STATUSES_IGNORE),
            "MPI_Waitall");
  MPIWorkerRank& w = workers_[frame->worker];
  --w.in_flight;
  if (frame->deadline_ns && !frame->expired) --timed_frames_;
  const std::string_view payload = bytes.view().substr(kFrameHeaderSize);
  if (frame->jobs.empty()) {  // the initializer's answer
    if (h.kind == FrameKind::result) {
      w.ready = true;
      return;
    }
    std::string why = "a malformed error frame";
    try {
      WireReader r(payload);
      const ErrorView e = parse_error(r);
      why = e.type_name + ": " + e.message;
    } catch (const WireFormatError&) {
    }
    break_pool("the initializer `" + std::string(config_.initializer->name) + "` failed on rank " +
               std::to_string(source) + ": " + why);
    return;
  }
  complete_frame(*frame, h, payload);
}

void MPIDispatcher::complete_frame(MPIFrame& frame, const FrameHeader& h,
                                   std::string_view payload) noexcept {
  auto& jobs = frame.jobs;
  std::size_t done = 0;
  try {
    if (frame.expired) {
      done = jobs.size();  // failed with TimeoutError already; the late answer is dropped
    } else if (h.kind == FrameKind::result) {
      std::uint64_t spent = 0;
      if (payload.size() < sizeof spent) throw WireFormatError("a result frame without its timing prefix");
      std::memcpy(&spent, payload.data(), sizeof spent);
      WireReader r(payload.substr(sizeof spent));
      std::uint32_t items = 0;
      for (ProcessJob* j : jobs) items += j->items;
      if (items == 0) {
        jobs[0]->deliver(r);
        done = 1;
      } else {
        if (auto& group = jobs.front()->group) {
          const double per_item = static_cast<double>(spent) / items;
          group->item_ns = group->item_ns > 0 ? 0.5 * group->item_ns + 0.5 * per_item : per_item;
        }
        if (r.length(1, "batch result") != items)
          r.fail("a batch answer with another number of results than inputs");
        for (; done < jobs.size(); ++done) jobs[done]->deliver(r);
        r.expect_end("batch result");
      }
    } else {
      WireReader r(payload);
      ErrorView e = parse_error(r);
      std::exception_ptr error;
      if (e.kind == ErrorKind::exception)
        error = std::make_exception_ptr(
            RemoteError(std::move(e.type_name), std::move(e.message), jobs[0]->fn->name));
      else if (e.kind == ErrorKind::bad_arguments)
        error = std::make_exception_ptr(WireFormatError(e.message));
      else
        error = std::make_exception_ptr(UnregisteredFunctionError(e.message));
      for (; done < jobs.size(); ++done) jobs[done]->fail(error);
    }
  } catch (...) {
    const std::exception_ptr error = std::current_exception();
    for (; done < jobs.size(); ++done) jobs[done]->fail(error);
  }
  for (ProcessJob* j : jobs) j->drop();
  jobs.clear();
}

bool MPIDispatcher::check_deadlines() {
  const std::uint64_t now = monotonic_ns();
  bool any = false;
  for (auto& [id, frame] : frames_) {
    if (!frame->deadline_ns || frame->expired || now < frame->deadline_ns) continue;
    frame->expired = true;
    --timed_frames_;
    any = true;
    const auto error = std::make_exception_ptr(TimeoutError(
        "MPIPoolExecutor: `" + std::string(frame->jobs.front()->fn->name) +
        "` ran past its timeout on rank " + std::to_string(workers_[frame->worker].rank) +
        " (an MPI rank cannot be interrupted: it finishes the call, its result is dropped)"));
    for (ProcessJob* j : frame->jobs) j->fail(error);
  }
  return any;
}

void MPIDispatcher::break_pool(const std::string& reason) {
  std::vector<ProcessJob*> queued;
  {
    Lock lock(mutex_);
    if (broken_.empty()) broken_ = "MPIPoolExecutor is broken: " + reason;
    queued.assign(queue_.begin(), queue_.end());
    queue_.clear();
    queued_.store(false, std::memory_order_relaxed);
  }
  const auto error = std::make_exception_ptr(BrokenExecutor(broken_));
  for (ProcessJob* job : queued) {
    job->fail(error);
    job->drop();
  }
}

void MPIDispatcher::fail_all_frames(std::exception_ptr error) noexcept {
  for (auto& [id, frame] : frames_) {
    for (ProcessJob* j : frame->jobs) {
      j->fail(error);
      j->drop();
    }
    frame->jobs.clear();
  }
}

void MPIDispatcher::stop_workers() noexcept {
  for (const auto& w : workers_) MPI_Send(nullptr, 0, MPI_BYTE, w.rank, kMPITagStop, config_.comm);
  for (int r : config_.spare_ranks) MPI_Send(nullptr, 0, MPI_BYTE, r, kMPITagStop, config_.comm);
  MPI_Comm comm = config_.comm;
  MPI_Comm_free(&comm);
}

}  // namespace lanes::detail
