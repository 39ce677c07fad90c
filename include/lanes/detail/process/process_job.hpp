// lanes/detail/process/process_job.hpp — one unit of work for the process pool's supervisor.
//
// A job is queued, sent to a worker inside a call frame, and completed exactly once
// by the supervisor thread: with the worker's answer, or with an error (crash,
// timeout, malformed frame). Two kinds: a submit() call (its own Future<T>) and one
// unit of a map() (a run of inputs; consecutive units of one map may share a frame).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "lanes/detail/core/future_state.hpp"
#include "lanes/detail/process/process_registry.hpp"
#include "lanes/detail/process/wire_buffer.hpp"
#include "lanes/detail/process/wire_types.hpp"
#include "lanes/errors.hpp"
#include "lanes/map_results.hpp"

namespace lanes::detail {

class ProcessPoolCore;

/// Wakes the pool's supervisor when a running job is cancelled (it kills the worker).
void notify_process_cancel(const std::weak_ptr<ProcessPoolCore>& core) noexcept;

/// The per-map statistics the supervisor uses to size the next chunk.
struct ProcessMapGroup {
  /// Mean nanoseconds one item takes in a worker (0 until a chunk has come back).
  double item_ns = 0;
  std::size_t fixed_units = 0;  // > 0: the caller chose the chunk size; never merge
};

class ProcessJob {
 public:
  const RemoteFunction* fn = nullptr;
  ByteBuffer args;              // single: the argument tuple; map unit: `items` tuples
  std::uint32_t items = 0;      // 0: a single call; else the inputs of a map unit
  std::shared_ptr<ProcessMapGroup> group;  // map units only: consecutive ones may merge
  std::chrono::nanoseconds timeout{0};  // 0: none
  /// Written by the supervisor only: how many times the job was queued again because
  /// the worker it was sent to died before taking it in (then it already started).
  std::uint8_t resends = 0;

  /// pending → running. False if the job was cancelled before it started: dropped.
  virtual bool start() noexcept = 0;
  /// Cancelled while running: the supervisor kills its worker (if all of the frame's
  /// jobs are).
  virtual bool abandoned() const noexcept = 0;
  /// Completes from the worker's answer (`result` is after the timing prefix). Throws
  /// WireFormatError if the bytes do not decode; the caller then fails the job.
  virtual void deliver(WireReader& result) = 0;
  /// Completes with an error (no effect if already done).
  virtual void fail(std::exception_ptr error) noexcept = 0;
  /// Cancels a job that has not started (shutdown with cancel_futures).
  virtual void cancel_pending() noexcept = 0;
  /// Releases the pool's reference.
  virtual void drop() noexcept = 0;

 protected:
  ~ProcessJob() = default;
};

/// What both kinds of job share: the Future's state is the job, and one cancellation
/// rule. Python cannot stop a running process-pool task; lanes can: a pending job is
/// cancelled at once (it never runs), a running one too, and the supervisor then kills
/// its worker (ProcessSupervisor::kill_abandoned_locked) and replaces it.
template <class T>
class ProcessJobState : public FutureState<T>, public ProcessJob {
 public:
  explicit ProcessJobState(std::weak_ptr<ProcessPoolCore> core) : core_(std::move(core)) {}

  bool cancel() noexcept override {
    if (FutureStateBase::cancel()) return true;  // it was pending
    if (this->status() != FutureStatus::running) return false;
    if (!this->complete(FutureStatus::cancelled, [] {})) return false;
    notify_process_cancel(core_);
    return true;
  }

  bool start() noexcept override { return this->set_running(); }
  bool abandoned() const noexcept override { return this->cancelled(); }
  void fail(std::exception_ptr error) noexcept override { this->set_exception(std::move(error)); }
  void cancel_pending() noexcept override { FutureStateBase::cancel(); }
  void drop() noexcept override { this->release(); }

 private:
  std::weak_ptr<ProcessPoolCore> core_;
};

/// A submit(): its state is the Future<T>'s state.
template <class T>
class ProcessCallJob final : public ProcessJobState<T> {
 public:
  explicit ProcessCallJob(std::weak_ptr<ProcessPoolCore> core)
      : ProcessJobState<T>(std::move(core)) {}

  void deliver(WireReader& result) override {
    StoredType<T> value{};
    if constexpr (!std::is_void_v<T>) wire_decode(result, value);
    result.expect_end("result");
    this->set_value(std::move(value));
  }
};

/// Decodes one item's outcome of a batch answer into `slot`; returns the error of a
/// failed item (or null). Throws WireFormatError on bad bytes.
template <class T>
std::exception_ptr decode_item(WireReader& r, std::optional<T>& slot, const char* function) {
  bool ok = false;
  wire_decode(r, ok);
  if (!ok) {
    std::string type, message;
    wire_decode(r, type);
    wire_decode(r, message);
    return std::make_exception_ptr(RemoteError(std::move(type), std::move(message), function));
  }
  wire_decode(r, slot.emplace());
  return nullptr;
}

/// One unit of a map(): inputs [begin, begin + items). Its Future<void> completes
/// when all of them have a result, or fails with the first error among them.
template <class T>
class ProcessMapUnitJob final : public ProcessJobState<void> {
 public:
  ProcessMapUnitJob(std::weak_ptr<ProcessPoolCore> core,
                    std::shared_ptr<MapOutputs<T>> outputs, std::size_t begin)
      : ProcessJobState<void>(std::move(core)), outputs_(std::move(outputs)), begin_(begin) {}

  void deliver(WireReader& result) override {
    std::exception_ptr first;
    for (std::size_t i = 0; i < items; ++i) {
      auto error = decode_item(result, outputs_->outputs[begin_ + i], fn->name);
      if (error && !first) first = std::move(error);
    }
    if (first)
      this->set_exception(std::move(first));
    else
      this->set_value();
  }

 private:
  std::shared_ptr<MapOutputs<T>> outputs_;
  std::size_t begin_;
};

}  // namespace lanes::detail
