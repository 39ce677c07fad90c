// lanes/detail/process/wire_types.hpp — how each type is written on the wire (see codec.hpp).
//
// One WireCodec<T> specialisation per kind of type, each with encode, decode and
// min_size (the fewest bytes a value can take: the reader uses it to refuse a forged
// element count before allocating). A type with no specialisation is not supported,
// and wire_encode/wire_decode then stop the build with a static_assert that says how
// to opt in. Layout: host byte order (both ends are the same program on one machine);
// lengths and counts are 32-bit; bool is one byte, 0 or 1; optional is a flag byte;
// variant a 32-bit index; tuples, pairs, arrays and user structs their fields in order.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <deque>
#include <list>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <type_traits>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <variant>
#include <vector>

#include "lanes/detail/core/future_state.hpp"
#include "lanes/detail/process/wire_buffer.hpp"

namespace lanes::detail {

template <class T>
struct WireCodec {
  static constexpr bool supported = false;
};

template <class T>
inline constexpr bool wire_supported = WireCodec<std::remove_cv_t<T>>::supported;

template <class T>
inline constexpr std::size_t wire_min_size = WireCodec<std::remove_cv_t<T>>::min_size;

template <class T>
inline constexpr bool wire_always_false = false;

template <class T>
void wire_encode(WireWriter& w, const T& value) {
  if constexpr (wire_supported<T>) {
    WireCodec<std::remove_cv_t<T>>::encode(w, value);
  } else {
    static_assert(wire_always_false<T>,
                  "lanes: this type has no wire encoding, so it cannot be an argument or a "
                  "result of a process-pool task. Supported: arithmetic types, enums, "
                  "std::string, vector, deque, list, array, map, unordered_map, set, "
                  "unordered_set, optional, variant, pair, tuple, chrono::duration, and "
                  "structs with a member `template <class Ar> void serialize(Ar& ar) "
                  "{ ar(field1, field2); }` (or a free serialize(Ar&, T&) found by ADL). "
                  "The type is named in the 'required from' lines above.");
  }
}

template <class T>
void wire_decode(WireReader& r, T& value) {
  if constexpr (wire_supported<T>) {
    WireCodec<std::remove_cv_t<T>>::decode(r, value);
  } else {
    static_assert(wire_always_false<T>,
                  "lanes: this type has no wire encoding (see wire_encode's message); the "
                  "type is named in the 'required from' lines above.");
  }
}

// ---- scalars ------------------------------------------------------------------------

template <>
struct WireCodec<bool> {
  static constexpr bool supported = true;
  static constexpr std::size_t min_size = 1;
  static void encode(WireWriter& w, bool v) { w.pod(static_cast<std::uint8_t>(v)); }
  static void decode(WireReader& r, bool& v) {
    const auto b = r.pod<std::uint8_t>("bool");
    if (b > 1) r.fail("a bool byte is " + std::to_string(b) + ", not 0 or 1");
    v = b != 0;
  }
};

template <class T>
  requires(std::is_arithmetic_v<T> && !std::is_same_v<T, bool>)
struct WireCodec<T> {
  static constexpr bool supported = true;
  static constexpr std::size_t min_size = sizeof(T);
  static void encode(WireWriter& w, T v) { w.pod(v); }
  static void decode(WireReader& r, T& v) { v = r.pod<T>("number"); }
};

template <class T>
  requires std::is_enum_v<T>
struct WireCodec<T> {
  using U = std::underlying_type_t<T>;
  static constexpr bool supported = true;
  static constexpr std::size_t min_size = sizeof(U);
  static void encode(WireWriter& w, T v) { w.pod(static_cast<U>(v)); }
  static void decode(WireReader& r, T& v) { v = static_cast<T>(r.pod<U>("enum")); }
};

template <>
struct WireCodec<Unit> {  // the "value" of a void function
  static constexpr bool supported = true;
  static constexpr std::size_t min_size = 0;
  static void encode(WireWriter&, const Unit&) {}
  static void decode(WireReader&, Unit&) {}
};

template <>
struct WireCodec<std::monostate> {
  static constexpr bool supported = true;
  static constexpr std::size_t min_size = 0;
  static void encode(WireWriter&, const std::monostate&) {}
  static void decode(WireReader&, std::monostate&) {}
};

template <class Rep, class Period>
struct WireCodec<std::chrono::duration<Rep, Period>> {
  static constexpr bool supported = wire_supported<Rep>;
  static constexpr std::size_t min_size = sizeof(Rep);
  static void encode(WireWriter& w, const std::chrono::duration<Rep, Period>& d) {
    wire_encode(w, d.count());
  }
  static void decode(WireReader& r, std::chrono::duration<Rep, Period>& d) {
    Rep c{};
    wire_decode(r, c);
    d = std::chrono::duration<Rep, Period>(c);
  }
};

// ---- sequences ----------------------------------------------------------------------

/// Element types copied as one block (no per-element work on either side).
template <class T>
inline constexpr bool wire_bulk = std::is_arithmetic_v<T> && !std::is_same_v<T, bool>;

template <class C, class Alloc>
struct WireCodec<std::basic_string<C, std::char_traits<C>, Alloc>> {
  using S = std::basic_string<C, std::char_traits<C>, Alloc>;
  static constexpr bool supported = wire_bulk<C>;
  static constexpr std::size_t min_size = 4;
  static void encode(WireWriter& w, const S& s) {
    w.length(s.size());
    w.raw(s.data(), s.size() * sizeof(C));
  }
  static void decode(WireReader& r, S& s) {
    const std::size_t n = r.length(sizeof(C), "string");
    const char* p = r.take(n * sizeof(C), "string");
    if constexpr (sizeof(C) == 1) {
      s.assign(reinterpret_cast<const C*>(p), n);  // one copy, no zero-fill first
    } else {
      s.resize(n);
      if (n) std::memcpy(s.data(), p, n * sizeof(C));
    }
  }
};

template <class T, class Alloc>
struct WireCodec<std::vector<T, Alloc>> {
  static constexpr bool supported = wire_supported<T>;
  static constexpr std::size_t min_size = 4;
  static void encode(WireWriter& w, const std::vector<T, Alloc>& v) {
    w.length(v.size());
    if constexpr (wire_bulk<T>) {
      w.raw(v.data(), v.size() * sizeof(T));
    } else {
      for (const auto& x : v) wire_encode(w, static_cast<const T&>(x));
    }
  }
  static void decode(WireReader& r, std::vector<T, Alloc>& v) {
    const std::size_t n = r.length(wire_min_size<T>, "vector");
    v.clear();
    if constexpr (wire_bulk<T>) {
      v.resize(n);
      r.raw(v.data(), n * sizeof(T), "vector");
    } else if constexpr (std::is_same_v<T, bool>) {
      v.reserve(n);
      for (std::size_t i = 0; i < n; ++i) {
        bool b = false;
        wire_decode(r, b);
        v.push_back(b);
      }
    } else {
      v.resize(n);
      for (auto& x : v) wire_decode(r, x);
    }
  }
};

/// deque and list: element by element.
template <class C>
struct WireSequenceCodec {
  using T = typename C::value_type;
  static constexpr bool supported = wire_supported<T>;
  static constexpr std::size_t min_size = 4;
  static void encode(WireWriter& w, const C& c) {
    w.length(c.size());
    for (const auto& x : c) wire_encode(w, x);
  }
  static void decode(WireReader& r, C& c) {
    const std::size_t n = r.length(wire_min_size<T>, "sequence");
    c.clear();
    for (std::size_t i = 0; i < n; ++i) wire_decode(r, c.emplace_back());
  }
};
template <class T, class A>
struct WireCodec<std::deque<T, A>> : WireSequenceCodec<std::deque<T, A>> {};
template <class T, class A>
struct WireCodec<std::list<T, A>> : WireSequenceCodec<std::list<T, A>> {};

template <class T, std::size_t N>
struct WireCodec<std::array<T, N>> {
  static constexpr bool supported = wire_supported<T>;
  static constexpr std::size_t min_size = N * wire_min_size<T>;
  static void encode(WireWriter& w, const std::array<T, N>& a) {
    if constexpr (wire_bulk<T>) {
      w.raw(a.data(), N * sizeof(T));
    } else {
      for (const auto& x : a) wire_encode(w, x);
    }
  }
  static void decode(WireReader& r, std::array<T, N>& a) {
    if constexpr (wire_bulk<T>) {
      r.raw(a.data(), N * sizeof(T), "array");
    } else {
      for (auto& x : a) wire_decode(r, x);
    }
  }
};

// ---- associative containers ---------------------------------------------------------

/// map, unordered_map, set, unordered_set (and their multi- forms): a count, then
/// each key (and value). A repeated key in a unique container is refused.
template <class C>
struct WireAssocCodec {
  using K = typename C::key_type;
  static constexpr bool is_map = requires { typename C::mapped_type; };
  static constexpr bool supported = [] {
    if constexpr (is_map)
      return wire_supported<K> && wire_supported<typename C::mapped_type>;
    else
      return wire_supported<K>;
  }();
  static constexpr std::size_t min_size = 4;
  static void encode(WireWriter& w, const C& c) {
    w.length(c.size());
    for (const auto& e : c) {
      if constexpr (is_map) {
        wire_encode(w, e.first);
        wire_encode(w, e.second);
      } else {
        wire_encode(w, e);
      }
    }
  }
  static void decode(WireReader& r, C& c) {
    std::size_t per = wire_min_size<K>;
    if constexpr (is_map) per += wire_min_size<typename C::mapped_type>;
    const std::size_t n = r.length(per, "map or set");
    c.clear();
    if constexpr (requires { c.reserve(n); }) c.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
      K key{};
      wire_decode(r, key);
      const std::size_t before = c.size();
      // The encoder wrote ordered containers in order: the end is the right hint.
      if constexpr (is_map) {
        typename C::mapped_type value{};
        wire_decode(r, value);
        c.emplace_hint(c.end(), std::move(key), std::move(value));
      } else {
        c.emplace_hint(c.end(), std::move(key));
      }
      if (c.size() == before) r.fail("a key appears twice in a map or set");
    }
  }
};
template <class K, class V, class Cmp, class A>
struct WireCodec<std::map<K, V, Cmp, A>> : WireAssocCodec<std::map<K, V, Cmp, A>> {};
template <class K, class V, class Cmp, class A>
struct WireCodec<std::multimap<K, V, Cmp, A>> : WireAssocCodec<std::multimap<K, V, Cmp, A>> {};
template <class K, class V, class H, class E, class A>
struct WireCodec<std::unordered_map<K, V, H, E, A>>
    : WireAssocCodec<std::unordered_map<K, V, H, E, A>> {};
template <class K, class Cmp, class A>
struct WireCodec<std::set<K, Cmp, A>> : WireAssocCodec<std::set<K, Cmp, A>> {};
template <class K, class Cmp, class A>
struct WireCodec<std::multiset<K, Cmp, A>> : WireAssocCodec<std::multiset<K, Cmp, A>> {};
template <class K, class H, class E, class A>
struct WireCodec<std::unordered_set<K, H, E, A>> : WireAssocCodec<std::unordered_set<K, H, E, A>> {
};

// ---- sum and product types ----------------------------------------------------------

template <class T>
struct WireCodec<std::optional<T>> {
  static constexpr bool supported = wire_supported<T>;
  static constexpr std::size_t min_size = 1;
  static void encode(WireWriter& w, const std::optional<T>& o) {
    w.pod(static_cast<std::uint8_t>(o.has_value()));
    if (o) wire_encode(w, *o);
  }
  static void decode(WireReader& r, std::optional<T>& o) {
    bool present = false;
    WireCodec<bool>::decode(r, present);
    if (!present) {
      o.reset();
      return;
    }
    wire_decode(r, o.emplace());
  }
};

template <class... Ts>
struct WireCodec<std::variant<Ts...>> {
  static constexpr bool supported = (wire_supported<Ts> && ...);
  static constexpr std::size_t min_size = 4;
  static void encode(WireWriter& w, const std::variant<Ts...>& v) {
    if (v.valueless_by_exception())
      throw WireFormatError("wire encode: a std::variant is valueless (an exception interrupted "
                            "its last assignment) and cannot be sent");
    w.pod(static_cast<std::uint32_t>(v.index()));
    std::visit([&](const auto& x) { wire_encode(w, x); }, v);
  }
  static void decode(WireReader& r, std::variant<Ts...>& v) {
    const auto index = r.pod<std::uint32_t>("variant index");
    if (index >= sizeof...(Ts))
      r.fail("variant index " + std::to_string(index) + " but the variant has only " +
             std::to_string(sizeof...(Ts)) + " alternatives");
    decode_at(r, v, index, std::index_sequence_for<Ts...>{});
  }

 private:
  template <std::size_t... I>
  static void decode_at(WireReader& r, std::variant<Ts...>& v, std::size_t index,
                        std::index_sequence<I...>) {
    (void)((index == I ? (wire_decode(r, v.template emplace<I>()), true) : false) || ...);
  }
};

template <class A, class B>
struct WireCodec<std::pair<A, B>> {
  static constexpr bool supported = wire_supported<A> && wire_supported<B>;
  static constexpr std::size_t min_size = wire_min_size<A> + wire_min_size<B>;
  static void encode(WireWriter& w, const std::pair<A, B>& p) {
    wire_encode(w, p.first);
    wire_encode(w, p.second);
  }
  static void decode(WireReader& r, std::pair<A, B>& p) {
    wire_decode(r, p.first);
    wire_decode(r, p.second);
  }
};

template <class... Ts>
struct WireCodec<std::tuple<Ts...>> {
  static constexpr bool supported = (wire_supported<Ts> && ...);
  static constexpr std::size_t min_size = (std::size_t{0} + ... + wire_min_size<Ts>);
  static void encode(WireWriter& w, const std::tuple<Ts...>& t) {
    std::apply([&](const auto&... x) { (wire_encode(w, x), ...); }, t);
  }
  static void decode(WireReader& r, std::tuple<Ts...>& t) {
    std::apply([&](auto&... x) { (wire_decode(r, x), ...); }, t);
  }
};

// ---- user structs: one serialize function ---------------------------------------------

template <class T>
concept HasMemberSerialize = requires(T& t, WireWriter& w, WireReader& r) {
  t.serialize(w);
  t.serialize(r);
};
template <class T>
concept HasFreeSerialize = requires(T& t, WireWriter& w, WireReader& r) {
  serialize(w, t);
  serialize(r, t);
};

template <class T>
  requires(std::is_class_v<T> && (HasMemberSerialize<T> || HasFreeSerialize<T>))
struct WireCodec<T> {
  static constexpr bool supported = true;
  static constexpr std::size_t min_size = 0;  // unknown: the fields decide
  static void encode(WireWriter& w, const T& v) {
    // serialize() is one function for both directions, so it is not const; the
    // writer only reads the fields.
    T& t = const_cast<T&>(v);
    if constexpr (HasMemberSerialize<T>)
      t.serialize(w);
    else
      serialize(w, t);
  }
  static void decode(WireReader& r, T& v) {
    if constexpr (HasMemberSerialize<T>)
      v.serialize(r);
    else
      serialize(r, v);
  }
};

}  // namespace lanes::detail
