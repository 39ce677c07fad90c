// Frames on a worker's socket: header checks, call and error payloads, reassembly.
#include "lanes/detail/process/wire_frame.hpp"

#include <cstring>
#include <string>

#include "lanes/detail/process/wire_types.hpp"

namespace lanes::detail {
namespace {

[[noreturn]] void bad_header(const std::string& what) {
  throw WireFormatError("malformed frame header: " + what +
                        " (the stream is not lanes' worker protocol, or it lost bytes)");
}

constexpr std::size_t kReadChunk = 64 * 1024;
constexpr std::size_t kMaxReserve = 1u << 20;

}  // namespace

FrameHeader parse_frame_header(const char* bytes) {
  if (bytes[0] != 'L' || bytes[1] != 'N') {
    bad_header("bad magic bytes 0x" + std::to_string(static_cast<unsigned char>(bytes[0])) +
               ",0x" + std::to_string(static_cast<unsigned char>(bytes[1])) +
               " where 'L','N' was expected");
  }
  if (static_cast<std::uint8_t>(bytes[2]) != kWireVersion) {
    bad_header("wire version " + std::to_string(static_cast<unsigned char>(bytes[2])) +
               ", this program speaks version " + std::to_string(kWireVersion));
  }
  FrameHeader h;
  const auto kind = static_cast<std::uint8_t>(bytes[3]);
  if (kind < static_cast<std::uint8_t>(FrameKind::call) ||
      kind > static_cast<std::uint8_t>(FrameKind::error)) {
    bad_header("unknown frame kind " + std::to_string(kind));
  }
  h.kind = static_cast<FrameKind>(kind);
  std::memcpy(&h.length, bytes + 4, sizeof h.length);
  std::memcpy(&h.task_id, bytes + 8, sizeof h.task_id);
  if (h.length > kMaxFramePayload) {
    bad_header("payload length " + std::to_string(h.length) + " exceeds the limit of " +
               std::to_string(kMaxFramePayload) + " bytes");
  }
  return h;
}

std::size_t begin_frame(ByteBuffer& out, FrameKind kind, std::uint64_t task_id) {
  const std::size_t start = out.size();
  char* h = out.extend(kFrameHeaderSize);
  h[0] = 'L';
  h[1] = 'N';
  h[2] = static_cast<char>(kWireVersion);
  h[3] = static_cast<char>(kind);
  std::memset(h + 4, 0, 4);
  std::memcpy(h + 8, &task_id, sizeof task_id);
  return start;
}

void end_frame(ByteBuffer& out, std::size_t start) {
  const std::size_t payload = out.size() - start - kFrameHeaderSize;
  if (payload > kMaxFramePayload) {
    throw WireFormatError("a task's encoded arguments or result take " + std::to_string(payload) +
                          " bytes, more than the frame limit of " +
                          std::to_string(kMaxFramePayload) +
                          ": pass a file name or shared memory instead of the data");
  }
  const auto length = static_cast<std::uint32_t>(payload);
  std::memcpy(out.data() + start + 4, &length, sizeof length);
}

CallView parse_call(WireReader& payload) {
  CallView call;
  const auto mode = payload.pod<std::uint8_t>("call mode");
  if (mode > static_cast<std::uint8_t>(CallMode::batch))
    payload.fail("unknown call mode " + std::to_string(mode));
  call.mode = static_cast<CallMode>(mode);
  const std::size_t n = payload.length(1, "function name");
  if (n == 0) payload.fail("empty function name");
  call.function = std::string_view(payload.take(n, "function name"), n);
  call.signature = payload.pod<std::uint64_t>("signature hash");
  return call;
}

void write_call_prefix(WireWriter& out, CallMode mode, std::string_view function,
                       std::uint64_t signature) {
  out.pod(static_cast<std::uint8_t>(mode));
  out.length(function.size());
  out.raw(function.data(), function.size());
  out.pod(signature);
}

ErrorView parse_error(WireReader& payload) {
  ErrorView e;
  const auto kind = payload.pod<std::uint8_t>("error kind");
  if (kind > static_cast<std::uint8_t>(ErrorKind::bad_arguments))
    payload.fail("unknown error kind " + std::to_string(kind));
  e.kind = static_cast<ErrorKind>(kind);
  wire_decode(payload, e.type_name);
  wire_decode(payload, e.message);
  payload.expect_end("error");
  return e;
}

void write_error(WireWriter& out, ErrorKind kind, std::string_view type_name,
                 std::string_view message) {
  out.pod(static_cast<std::uint8_t>(kind));
  out.length(type_name.size());
  out.raw(type_name.data(), type_name.size());
  out.length(message.size());
  out.raw(message.data(), message.size());
}

std::pair<char*, std::size_t> FrameReceiver::prepare() {
  if (consumed_ > 0) {
    buffer_.consume_front(consumed_);
    consumed_ = 0;
  }
  std::size_t want = kReadChunk;
  if (buffer_.size() >= kFrameHeaderSize) {
    // A header is here: make room for (up to 1 MiB more of) the frame, so a large
    // payload is read in big pieces, while a forged length cannot reserve a gigabyte.
    const FrameHeader h = parse_frame_header(buffer_.data());
    const std::size_t total = kFrameHeaderSize + h.length;
    if (total > buffer_.size())
      want = std::max(want, std::min<std::size_t>(total - buffer_.size(), kMaxReserve));
  }
  buffer_.reserve(buffer_.size() + want);
  return {buffer_.data() + buffer_.size(), buffer_.capacity() - buffer_.size()};
}

bool FrameReceiver::next(FrameHeader& header, std::string_view& payload) {
  const std::size_t have = buffer_.size() - consumed_;
  if (have < kFrameHeaderSize) return false;
  const char* at = buffer_.data() + consumed_;
  header = parse_frame_header(at);
  if (have - kFrameHeaderSize < header.length) return false;
  payload = std::string_view(at + kFrameHeaderSize, header.length);
  consumed_ += kFrameHeaderSize + header.length;
  return true;
}

void FrameReceiver::shrink() noexcept {
  if (buffer_.size() == consumed_ && buffer_.capacity() > 4 * kReadChunk) {
    buffer_.release_memory();
    consumed_ = 0;
  }
}

}  // namespace lanes::detail
