// Tests for lanes/codec.hpp: round trips of every supported kind of type, user structs,
// and refusal of malformed bytes.
#include "lanes/codec.hpp"

#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <deque>
#include <limits>
#include <list>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <unordered_map>
#include <unordered_set>
#include <variant>
#include <vector>

namespace {

enum class Color : std::uint8_t { red = 1, green = 2, blue = 200 };

struct Point {
  double x = 0;
  double y = 0;
  std::string label;
  template <class Ar>
  void serialize(Ar& ar) {
    ar(x, y, label);
  }
  bool operator==(const Point&) const = default;
};

struct Shape {
  std::vector<Point> points;
  std::optional<Color> fill;
  bool operator==(const Shape&) const = default;
};
template <class Ar>
void serialize(Ar& ar, Shape& s) {  // the free form, found by ADL
  ar(s.points, s.fill);
}

struct NotSerializable {
  int x;
};

static_assert(lanes::Serializable<int>);
static_assert(lanes::Serializable<std::map<std::string, std::vector<Point>>>);
static_assert(lanes::Serializable<Shape>);
static_assert(!lanes::Serializable<NotSerializable>);
static_assert(!lanes::Serializable<int*>);
static_assert(!lanes::Serializable<std::vector<NotSerializable>>);
static_assert(!lanes::Serializable<std::optional<std::tuple<int, NotSerializable>>>);

template <class T>
void expect_round_trip(const T& value) {
  const std::string bytes = lanes::encode(value);
  EXPECT_EQ(lanes::decode<T>(bytes), value);
}

TEST(Codec, Arithmetic) {
  expect_round_trip(0);
  expect_round_trip(-123456789);
  expect_round_trip(std::numeric_limits<std::int64_t>::min());
  expect_round_trip(std::numeric_limits<std::uint64_t>::max());
  expect_round_trip(3.25);
  expect_round_trip(-0.5f);
  expect_round_trip('x');
  expect_round_trip(true);
  expect_round_trip(false);
  EXPECT_EQ(lanes::encode(std::int32_t{7}).size(), 4u);
  EXPECT_EQ(lanes::encode(true).size(), 1u);
}

TEST(Codec, Enums) {
  expect_round_trip(Color::blue);
  expect_round_trip(std::vector<Color>{Color::red, Color::green});
}

TEST(Codec, Strings) {
  expect_round_trip(std::string());
  expect_round_trip(std::string("hello, workers"));
  expect_round_trip(std::string("\0with\0nuls", 10));
  expect_round_trip(std::string(100000, 'z'));
}

TEST(Codec, Sequences) {
  expect_round_trip(std::vector<int>{});
  expect_round_trip(std::vector<double>{1.5, -2.5, 1e300});
  expect_round_trip(std::vector<bool>{true, false, true});
  expect_round_trip(std::vector<std::string>{"a", "", "ccc"});
  expect_round_trip(std::vector<std::vector<int>>{{1}, {}, {2, 3}});
  expect_round_trip(std::deque<int>{4, 5, 6});
  expect_round_trip(std::list<std::string>{"x", "y"});
  expect_round_trip(std::array<int, 3>{7, 8, 9});
  expect_round_trip(std::array<std::string, 2>{"p", "q"});
}

TEST(Codec, Associative) {
  expect_round_trip(std::map<std::string, int>{{"one", 1}, {"two", 2}});
  expect_round_trip(std::unordered_map<int, std::string>{{1, "a"}, {2, "b"}});
  expect_round_trip(std::set<int>{3, 1, 2});
  expect_round_trip(std::unordered_set<std::string>{"k", "l"});
  expect_round_trip(std::multimap<int, int>{{1, 1}, {1, 2}});
}

TEST(Codec, SumAndProductTypes) {
  expect_round_trip(std::optional<int>{});
  expect_round_trip(std::optional<std::string>{"set"});
  expect_round_trip(std::variant<int, std::string, std::monostate>{std::string("v")});
  expect_round_trip(std::variant<int, std::string, std::monostate>{std::monostate{}});
  expect_round_trip(std::pair<int, std::string>{1, "one"});
  expect_round_trip(std::tuple<int, double, std::string, bool>{1, 2.0, "three", true});
  expect_round_trip(std::chrono::milliseconds(1500));
}

TEST(Codec, UserStructs) {
  expect_round_trip(Point{1, 2, "origin"});
  Shape s{{{0, 0, "a"}, {1, 1, "b"}}, Color::green};
  expect_round_trip(s);
  expect_round_trip(std::map<std::string, Shape>{{"sq", s}, {"empty", {}}});
}

TEST(Codec, LargeVectorIsOneBlock) {
  std::vector<double> big(1 << 20);
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<double>(i) * 0.5;
  const std::string bytes = lanes::encode(big);
  EXPECT_EQ(bytes.size(), 4 + big.size() * sizeof(double));
  EXPECT_EQ(lanes::decode<std::vector<double>>(bytes), big);
}

TEST(Codec, EveryTruncationIsRefused) {
  const std::tuple<std::string, std::vector<int>, std::map<std::string, std::optional<Point>>>
      value{"head", {1, 2, 3}, {{"k", Point{1, 2, "p"}}, {"n", std::nullopt}}};
  const std::string bytes = lanes::encode(value);
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    EXPECT_THROW(lanes::decode<std::remove_const_t<decltype(value)>>(std::string_view(bytes).substr(0, n)),
                 lanes::WireFormatError)
        << "prefix of " << n << " bytes";
  }
}

TEST(Codec, TrailingBytesAreRefused) {
  const std::string bytes = lanes::encode(42) + "x";
  EXPECT_THROW(lanes::decode<int>(bytes), lanes::WireFormatError);
}

TEST(Codec, BadBoolIsRefused) {
  EXPECT_THROW(lanes::decode<bool>(std::string(1, '\x02')), lanes::WireFormatError);
}

TEST(Codec, BadVariantIndexIsRefused) {
  using V = std::variant<int, std::string>;
  std::string bytes = lanes::encode(V{5});
  const std::uint32_t bad = 2;
  std::memcpy(bytes.data(), &bad, sizeof bad);
  try {
    lanes::decode<V>(bytes);
    FAIL() << "a variant index past the last alternative was accepted";
  } catch (const lanes::WireFormatError& e) {
    EXPECT_NE(std::string(e.what()).find("variant index 2"), std::string::npos) << e.what();
  }
}

TEST(Codec, RepeatedMapKeyIsRefused) {
  // Two entries with the key 1, written by hand.
  std::string bytes = lanes::encode(std::uint32_t{2});
  bytes += lanes::encode(1) + lanes::encode(10) + lanes::encode(1) + lanes::encode(11);
  EXPECT_THROW((lanes::decode<std::map<int, int>>(bytes)), lanes::WireFormatError);
  EXPECT_EQ((lanes::decode<std::multimap<int, int>>(bytes).size()), 2u);
}

TEST(Codec, ForgedLengthDoesNotAllocate) {
  // A count of 2^32-1 followed by 3 bytes: refused before any allocation.
  std::string bytes = lanes::encode(std::numeric_limits<std::uint32_t>::max()) + "abc";
  try {
    lanes::decode<std::vector<std::uint64_t>>(bytes);
    FAIL() << "a count larger than the data was accepted";
  } catch (const lanes::WireFormatError& e) {
    EXPECT_NE(std::string(e.what()).find("does not fit"), std::string::npos) << e.what();
  }
  EXPECT_THROW(lanes::decode<std::string>(bytes), lanes::WireFormatError);
  EXPECT_THROW((lanes::decode<std::vector<std::vector<int>>>(bytes)), lanes::WireFormatError);
}

TEST(Codec, ErrorNamesTheOffset) {
  const std::string bytes = lanes::encode(std::pair<int, std::string>{1, "abcdef"});
  try {
    lanes::decode<std::pair<int, std::string>>(std::string_view(bytes).substr(0, 10));
    FAIL() << "a truncated string was accepted";
  } catch (const lanes::WireFormatError& e) {
    EXPECT_NE(std::string(e.what()).find("at byte 8"), std::string::npos) << e.what();
  }
}

}  // namespace
