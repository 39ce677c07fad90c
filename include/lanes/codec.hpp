// lanes/codec.hpp — the wire codec: how arguments and results of process-pool tasks
// travel between processes (what pickle is to Python's multiprocessing).
//
// Supported out of the box: arithmetic types, enums, std::string, vector, deque, list,
// array, map, unordered_map, set, unordered_set (and multi- forms), optional, variant,
// pair, tuple, monostate and chrono::duration, nested freely. A struct opts in with one
// function used for both directions:
//
//     struct Point {
//       double x, y;
//       std::string label;
//       template <class Ar> void serialize(Ar& ar) { ar(x, y, label); }
//     };
//
// (or a free `template <class Ar> void serialize(Ar& ar, Point& p)` next to the type,
// found by ADL). Decoding needs the type to be default-constructible. A type with no
// encoding is a compile-time error whose message says how to opt in.
//
// The format is binary, in host byte order: it is meant for processes of one program on
// one machine, not for storage. Every length is checked before anything is read or
// allocated, so malformed bytes give WireFormatError, never a crash.
#pragma once

#include <string>
#include <string_view>
#include <type_traits>

#include "lanes/detail/process/wire_buffer.hpp"
#include "lanes/detail/process/wire_types.hpp"
#include "lanes/errors.hpp"

namespace lanes {

/// True if T can be sent to and from a process-pool worker.
template <class T>
concept Serializable = detail::wire_supported<std::remove_cvref_t<T>>;

/// The wire bytes of `value`. Throws WireFormatError if a string or container holds
/// more than 2^32-1 elements (or a variant is valueless), std::bad_alloc if out of memory.
template <class T>
std::string encode(const T& value) {
  detail::ByteBuffer buffer;
  detail::WireWriter writer(buffer);
  detail::wire_encode(writer, value);
  return std::string(buffer.view());
}

/// The value that encode() turned into `bytes`. Throws WireFormatError if the bytes
/// are truncated, malformed (bad bool, variant index, repeated map key, impossible
/// length) or followed by extra bytes.
template <class T>
T decode(std::string_view bytes) {
  static_assert(std::is_default_constructible_v<T>,
                "lanes::decode<T>: T must be default-constructible to be decoded");
  detail::WireReader reader(bytes);
  T value{};
  detail::wire_decode(reader, value);
  reader.expect_end("value");
  return value;
}

}  // namespace lanes
