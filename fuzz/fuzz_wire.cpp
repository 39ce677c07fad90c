// libFuzzer target for lanes' wire decoder: frame headers, the reassembly of a byte
// stream into frames, call/result/error payloads and the value codec. Every input must
// either decode or throw WireFormatError; a decoded value must survive re-encoding.
#include "fuzz_wire.hpp"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include "lanes/codec.hpp"
#include "lanes/detail/process/wire_frame.hpp"

namespace lanes_fuzz {
namespace {

using lanes::detail::FrameHeader;
using lanes::detail::FrameKind;
using lanes::detail::WireReader;

void check_round_trip(const Value& v) {
  // Encoding is a function of the value: encode(decode(encode(v))) == encode(v).
  const std::string once = lanes::encode(v);
  const std::string twice = lanes::encode(lanes::decode<Value>(once));
  if (once != twice) std::abort();
}

void decode_value(std::string_view bytes) {
  try {
    check_round_trip(lanes::decode<Value>(bytes));
  } catch (const lanes::WireFormatError&) {
  }
}

void decode_payload(const FrameHeader& h, std::string_view payload) {
  try {
    WireReader r(payload);
    switch (h.kind) {
      case FrameKind::call: {
        const auto call = lanes::detail::parse_call(r);
        if (call.mode == lanes::detail::CallMode::single) {
          Value v;
          lanes::detail::wire_decode(r, v);
          r.expect_end("arguments");
        } else {
          const std::size_t n = r.length(1, "batch");
          for (std::size_t i = 0; i < n; ++i) {
            Value v;
            lanes::detail::wire_decode(r, v);
          }
        }
        break;
      }
      case FrameKind::result: {
        r.pod<std::uint64_t>("timing");
        Value v;
        lanes::detail::wire_decode(r, v);
        break;
      }
      case FrameKind::error:
        lanes::detail::parse_error(r);
        break;
    }
  } catch (const lanes::WireFormatError&) {
  }
}

}  // namespace

int one_input(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  decode_value(bytes);
  // The same bytes as a stream of frames, arriving in pieces of a size the first byte
  // picks (so that reassembly across reads is exercised too).
  const std::size_t piece = size ? 1 + (data[0] % 64) : 1;
  lanes::detail::FrameReceiver rx;
  std::size_t at = 0;
  try {
    while (at < size) {
      auto [room, cap] = rx.prepare();
      const std::size_t n = std::min<std::size_t>({piece, cap, size - at});
      std::memcpy(room, data + at, n);
      rx.commit(n);
      at += n;
      FrameHeader h;
      std::string_view payload;
      while (rx.next(h, payload)) decode_payload(h, payload);
    }
  } catch (const lanes::WireFormatError&) {
  }
  return 0;
}

}  // namespace lanes_fuzz

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  return lanes_fuzz::one_input(data, size);
}
