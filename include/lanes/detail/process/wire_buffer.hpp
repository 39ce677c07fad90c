// lanes/detail/process/wire_buffer.hpp — the byte buffer, writer and bounds-checked reader under
// lanes' wire codec (codec.hpp) and its frames (wire_frame.hpp).
//
// The writer appends to a growable buffer that is never zero-filled (a 64 MiB argument
// is written once, not twice). The reader checks every length against the bytes that
// are left before it reads or allocates, so a malformed or hostile frame yields a
// WireFormatError naming the offset, never an overrun or a giant allocation.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <new>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "lanes/errors.hpp"

namespace lanes::detail {

/// A growable run of bytes (malloc'd, uninitialised past size()). Move-only.
class ByteBuffer {
 public:
  ByteBuffer() noexcept = default;
  ByteBuffer(const ByteBuffer&) = delete;
  ByteBuffer& operator=(const ByteBuffer&) = delete;
  ByteBuffer(ByteBuffer&& o) noexcept
      : data_(std::exchange(o.data_, nullptr)), size_(std::exchange(o.size_, 0)),
        cap_(std::exchange(o.cap_, 0)) {}
  ByteBuffer& operator=(ByteBuffer&& o) noexcept {
    if (this != &o) {
      std::free(data_);
      data_ = std::exchange(o.data_, nullptr);
      size_ = std::exchange(o.size_, 0);
      cap_ = std::exchange(o.cap_, 0);
    }
    return *this;
  }
  ~ByteBuffer() { std::free(data_); }

  char* data() noexcept { return data_; }
  const char* data() const noexcept { return data_; }
  std::size_t size() const noexcept { return size_; }
  std::size_t capacity() const noexcept { return cap_; }
  bool empty() const noexcept { return size_ == 0; }
  std::string_view view() const noexcept { return {data_, size_}; }

  /// Makes room for `n` more bytes and returns where they go; size() grows by n.
  /// Throws std::bad_alloc.
  char* extend(std::size_t n) {
    if (cap_ - size_ < n) grow(n);
    char* at = data_ + size_;
    size_ += n;
    return at;
  }
  void append(const void* p, std::size_t n) {
    if (n) std::memcpy(extend(n), p, n);
  }
  /// Capacity for at least `n` bytes in total. Throws std::bad_alloc.
  void reserve(std::size_t n) {
    if (n > cap_) grow(n - size_);
  }
  /// Sets the size (≤ capacity(); bytes past the old size stay uninitialised).
  void resize_within_capacity(std::size_t n) noexcept { size_ = n; }
  void clear() noexcept { size_ = 0; }
  /// Frees the memory too (a recycled 64 MiB buffer should not linger).
  void release_memory() noexcept {
    std::free(std::exchange(data_, nullptr));
    size_ = cap_ = 0;
  }
  /// Drops the first n bytes (the part already sent or parsed).
  void consume_front(std::size_t n) noexcept {
    if (n >= size_) {
      size_ = 0;
      return;
    }
    std::memmove(data_, data_ + n, size_ - n);
    size_ -= n;
  }

 private:
  void grow(std::size_t more) {
    std::size_t want = cap_ ? cap_ * 2 : 256;
    if (want - size_ < more) want = size_ + more;
    void* p = std::realloc(data_, want);
    if (!p) throw std::bad_alloc();
    data_ = static_cast<char*>(p);
    cap_ = want;
  }

  char* data_ = nullptr;
  std::size_t size_ = 0;
  std::size_t cap_ = 0;
};

class WireWriter;
class WireReader;

template <class T>
void wire_encode(WireWriter& w, const T& value);
template <class T>
void wire_decode(WireReader& r, T& value);

/// Appends encoded values to a ByteBuffer. Also the archive handed to a user type's
/// serialize(): `ar(a, b, c)` writes the fields in order.
class WireWriter {
 public:
  static constexpr bool is_reading = false;

  explicit WireWriter(ByteBuffer& out) noexcept : out_(&out) {}

  void raw(const void* p, std::size_t n) { out_->append(p, n); }
  template <class T>
  void pod(const T& v) {
    static_assert(std::is_trivially_copyable_v<T>);
    std::memcpy(out_->extend(sizeof(T)), &v, sizeof(T));
  }
  /// A count or byte length: 32 bits on the wire. Throws WireFormatError above 2^32-1.
  void length(std::size_t n) {
    if (n > std::numeric_limits<std::uint32_t>::max())
      throw WireFormatError("wire encode: a string or container of " + std::to_string(n) +
                            " elements is longer than the wire format's limit of 2^32-1");
    pod(static_cast<std::uint32_t>(n));
  }
  ByteBuffer& buffer() noexcept { return *out_; }

  /// Writes each argument in turn (the archive call in serialize()).
  template <class... Ts>
  void operator()(const Ts&... values) {
    (wire_encode(*this, values), ...);
  }

 private:
  ByteBuffer* out_;
};

/// Reads encoded values from a span of bytes, checking every size first. Every
/// failure throws WireFormatError saying what was wrong and where.
class WireReader {
 public:
  static constexpr bool is_reading = true;

  WireReader(const char* data, std::size_t size) noexcept
      : begin_(data), at_(data), end_(data + size) {}
  explicit WireReader(std::string_view bytes) noexcept
      : WireReader(bytes.data(), bytes.size()) {}

  std::size_t left() const noexcept { return static_cast<std::size_t>(end_ - at_); }
  std::size_t offset() const noexcept { return static_cast<std::size_t>(at_ - begin_); }
  const char* position() const noexcept { return at_; }

  /// The next n bytes, consumed. Throws WireFormatError if fewer are left.
  const char* take(std::size_t n, const char* what) {
    if (n > left()) fail_short(n, what);
    const char* p = at_;
    at_ += n;
    return p;
  }
  void raw(void* dst, std::size_t n, const char* what) {
    if (n) std::memcpy(dst, take(n, what), n);
  }
  template <class T>
  T pod(const char* what) {
    static_assert(std::is_trivially_copyable_v<T>);
    T v;
    std::memcpy(&v, take(sizeof(T), what), sizeof(T));
    return v;
  }
  /// A count of elements each at least `min_bytes` long on the wire (at least one
  /// byte is assumed): refused if the bytes left cannot hold that many, so a forged
  /// count never allocates more than the frame could describe.
  std::size_t length(std::size_t min_bytes, const char* what) {
    const auto n = pod<std::uint32_t>(what);
    const std::size_t unit = min_bytes ? min_bytes : 1;
    if (n > left() / unit) {
      fail("a " + std::string(what) + " of " + std::to_string(n) + " elements (at least " +
           std::to_string(unit) + " bytes each) does not fit in the " + std::to_string(left()) +
           " bytes left");
    }
    return n;
  }
  /// Throws WireFormatError unless every byte was read.
  void expect_end(const char* what) const {
    if (left() != 0)
      fail(std::to_string(left()) + " unexpected bytes after the " + std::string(what));
  }

  /// Reads each argument in turn (the archive call in serialize()).
  template <class... Ts>
  void operator()(Ts&... values) {
    (wire_decode(*this, values), ...);
  }

  [[noreturn]] void fail(const std::string& what) const {
    throw WireFormatError("malformed wire data at byte " + std::to_string(offset()) + ": " +
                          what);
  }

 private:
  [[noreturn]] void fail_short(std::size_t n, const char* what) const {
    fail(std::string(what) + " needs " + std::to_string(n) + " bytes but only " +
         std::to_string(left()) + " are left (truncated data)");
  }

  const char* begin_;
  const char* at_;
  const char* end_;
};

}  // namespace lanes::detail
