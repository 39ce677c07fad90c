// Running one call frame in a worker (a process-pool worker or an MPI rank): see
// lanes/detail/process/call_runner.hpp.
#include "lanes/detail/process/call_runner.hpp"

#include <cstring>
#include <ctime>
#include <exception>

#include "lanes/detail/core/exception_text.hpp"
#include "lanes/detail/process/process_registry.hpp"
#include "lanes/detail/process/wire_types.hpp"

namespace lanes::detail {
namespace {

std::uint64_t monotonic_now_ns() noexcept {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000u +
         static_cast<std::uint64_t>(ts.tv_nsec);
}

}  // namespace

void write_error_frame(ByteBuffer& out, std::uint64_t id, ErrorKind kind, std::string_view type,
                       const std::string& message) {
  out.clear();
  const std::size_t start = begin_frame(out, FrameKind::error, id);
  WireWriter w(out);
  write_error(w, kind, type, message);
  end_frame(out, start);
}

void run_call_frame(const FrameHeader& h, std::string_view payload, ByteBuffer& out,
                    MissingFunctionText missing) {
  out.clear();
  WireReader in(payload);
  CallView call;
  try {
    call = parse_call(in);
  } catch (const WireFormatError& e) {
    write_error_frame(out, h.task_id, ErrorKind::bad_arguments, "lanes::WireFormatError", e.what());
    return;
  }
  const RemoteFunction* fn = find_remote(call.function);
  if (!fn || fn->signature != call.signature) {
    write_error_frame(out, h.task_id, fn ? ErrorKind::signature_mismatch : ErrorKind::unregistered,
                      "lanes::UnregisteredFunctionError", missing(call.function, fn != nullptr));
    return;
  }
  const std::size_t start = begin_frame(out, FrameKind::result, h.task_id);
  const std::size_t timing_at = out.size();
  out.extend(sizeof(std::uint64_t));
  WireWriter w(out);
  const std::uint64_t t0 = monotonic_now_ns();
  if (call.mode == CallMode::single) {
    bool args_ok = false;
    try {
      fn->invoke(in, w, args_ok, true);
    } catch (...) {
      auto [type, message] = exception_text(std::current_exception());
      write_error_frame(out, h.task_id, args_ok ? ErrorKind::exception : ErrorKind::bad_arguments, type,
             message);
      return;
    }
  } else {
    std::size_t n = 0;
    try {
      n = in.length(1, "batch");
    } catch (const WireFormatError& e) {
      write_error_frame(out, h.task_id, ErrorKind::bad_arguments, "lanes::WireFormatError", e.what());
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
        if (!args_ok) {  // the rest of the batch cannot be found: refuse all of it
          auto [type, message] = exception_text(std::current_exception());
          write_error_frame(out, h.task_id, ErrorKind::bad_arguments, type, message);
          return;
        }
        auto [type, message] = exception_text(std::current_exception());
        out.resize_within_capacity(mark);
        w.pod(std::uint8_t{0});
        w.length(type.size());
        w.raw(type.data(), type.size());
        w.length(message.size());
        w.raw(message.data(), message.size());
      }
    }
  }
  const std::uint64_t spent = monotonic_now_ns() - t0;
  std::memcpy(out.data() + timing_at, &spent, sizeof spent);
  try {
    end_frame(out, start);
  } catch (const WireFormatError& e) {
    write_error_frame(out, h.task_id, ErrorKind::exception, "lanes::WireFormatError", e.what());
  }
}

}  // namespace lanes::detail
