// lanes/detail/process/wire_frame.hpp — the frames on a process-pool worker's socket.
//
// Every message is a 16-byte header and a payload:
//   bytes 0-1  'L' 'N'   magic        byte 2  version (1)      byte 3  kind
//   bytes 4-7  payload length (u32, at most kMaxFramePayload)
//   bytes 8-15 task id (u64; the worker echoes the id of the call it answers)
// Payloads by kind (values in the codec's format, codec.hpp):
//   call    u8 mode, string function name, u64 signature hash, then
//           mode single: the argument tuple
//           mode batch:  u32 n, then n argument tuples (one per map item)
//   result  u64 nanoseconds the worker spent calling, then
//           for a single call: the value
//           for a batch:       u32 n, then per item u8 ok and the value, or u8 0 and
//                              two strings (exception type, what())
//   error   u8 ErrorKind, string type name, string message (a single call's exception,
//           or a call the worker refused: unknown function, other signature, bad bytes)
// Decoding checks all of it; anything else is a WireFormatError naming what was wrong.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "lanes/detail/process/wire_buffer.hpp"

namespace lanes::detail {

inline constexpr std::size_t kFrameHeaderSize = 16;
/// The largest payload a frame may carry (1 GiB): a 64 MiB argument fits many times,
/// a forged length cannot make the reader allocate gigabytes.
inline constexpr std::uint32_t kMaxFramePayload = 1u << 30;
inline constexpr std::uint8_t kWireVersion = 1;

enum class FrameKind : std::uint8_t { call = 1, result = 2, error = 3 };
enum class CallMode : std::uint8_t { single = 0, batch = 1 };
enum class ErrorKind : std::uint8_t {
  exception = 0,           // the function threw
  unregistered = 1,        // the worker has no function of that name
  signature_mismatch = 2,  // same name, other parameter or result types
  bad_arguments = 3,       // the argument bytes did not decode
};

struct FrameHeader {
  FrameKind kind{};
  std::uint32_t length = 0;
  std::uint64_t task_id = 0;
};

/// Parses and checks a header (exactly kFrameHeaderSize bytes). Throws WireFormatError.
FrameHeader parse_frame_header(const char* bytes);

/// Starts a frame at the end of `out`; returns where it starts, for end_frame.
std::size_t begin_frame(ByteBuffer& out, FrameKind kind, std::uint64_t task_id);
/// Writes the payload length of the frame begun at `start`. Throws WireFormatError if
/// the payload is larger than kMaxFramePayload.
void end_frame(ByteBuffer& out, std::size_t start);

/// The fixed part of a call payload.
struct CallView {
  CallMode mode{};
  std::string_view function;
  std::uint64_t signature = 0;
};
/// Reads mode, name and signature; `payload` is left at the arguments. Throws WireFormatError.
CallView parse_call(WireReader& payload);
/// Writes mode, name and signature of a call payload.
void write_call_prefix(WireWriter& out, CallMode mode, std::string_view function,
                       std::uint64_t signature);

/// An error payload, decoded.
struct ErrorView {
  ErrorKind kind{};
  std::string type_name;
  std::string message;
};
/// Throws WireFormatError.
ErrorView parse_error(WireReader& payload);
void write_error(WireWriter& out, ErrorKind kind, std::string_view type_name,
                 std::string_view message);

/// Reassembles frames from a byte stream read in arbitrary pieces. A frame's bytes
/// stay valid until the next prepare().
class FrameReceiver {
 public:
  /// Room for the next read (at least 64 KiB, or the rest of a large frame whose
  /// header has arrived, so its payload lands in place). Drops consumed frames first.
  std::pair<char*, std::size_t> prepare();
  /// `n` bytes were read into the room prepare() gave.
  void commit(std::size_t n) noexcept { buffer_.resize_within_capacity(buffer_.size() + n); }
  /// The next complete frame, if one has arrived. Throws WireFormatError on a bad header.
  bool next(FrameHeader& header, std::string_view& payload);
  /// True if part of a frame has arrived but not all of it.
  bool partial() const noexcept { return buffer_.size() > consumed_; }
  /// Frees a large buffer once it holds nothing (after a 64 MiB frame).
  void shrink() noexcept;

 private:
  ByteBuffer buffer_;
  std::size_t consumed_ = 0;
};

}  // namespace lanes::detail
