// tools/lanes/json.hpp — the little JSON the CLI needs: a writer for `--json`, and a
// parser so that the tests (and nothing else) can read that output back.
//
// Not a general JSON library: numbers are doubles, objects keep their keys in order,
// and the parser refuses anything malformed with a JsonError saying where.
#pragma once

#include <cstddef>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace lanes_cli {

/// Malformed JSON text, or a lookup of a member/element that is not there.
class JsonError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// A parsed JSON value.
class Json {
 public:
  using Array = std::vector<Json>;
  using Object = std::vector<std::pair<std::string, Json>>;

  Json() = default;  // null
  Json(bool b) : v_(b) {}
  Json(double d) : v_(d) {}
  Json(std::string s) : v_(std::move(s)) {}
  Json(Array a) : v_(std::move(a)) {}
  Json(Object o) : v_(std::move(o)) {}

  /// Parses a whole document. Throws JsonError naming the offset of the first error.
  static Json parse(std::string_view text);

  bool is_null() const { return std::holds_alternative<std::monostate>(v_); }
  bool is_bool() const { return std::holds_alternative<bool>(v_); }
  bool is_number() const { return std::holds_alternative<double>(v_); }
  bool is_string() const { return std::holds_alternative<std::string>(v_); }
  bool is_array() const { return std::holds_alternative<Array>(v_); }
  bool is_object() const { return std::holds_alternative<Object>(v_); }

  /// Typed access; each throws JsonError if the value has another type.
  bool as_bool() const;
  double as_number() const;
  const std::string& as_string() const;
  const Array& as_array() const;
  const Object& as_object() const;

  /// The member `key` of an object; throws JsonError if absent or not an object.
  const Json& operator[](std::string_view key) const;
  /// True if this is an object with member `key`.
  bool contains(std::string_view key) const;

 private:
  std::variant<std::monostate, bool, double, std::string, Array, Object> v_;
};

/// Builds JSON text incrementally with correct commas and escaping. Misuse (a value
/// where a key is due, closing what was not opened) throws std::logic_error.
class JsonWriter {
 public:
  explicit JsonWriter(bool pretty = true) : pretty_(pretty) {}

  JsonWriter& begin_object();
  JsonWriter& end_object();
  JsonWriter& begin_array();
  JsonWriter& end_array();
  /// The key of the next member; only inside an object.
  JsonWriter& key(std::string_view k);
  JsonWriter& value(std::string_view s);
  JsonWriter& value(const char* s) { return value(std::string_view(s)); }
  JsonWriter& value(const std::string& s) { return value(std::string_view(s)); }
  /// Non-finite numbers become null (JSON has no NaN or infinity).
  JsonWriter& value(double d);
  JsonWriter& value(long long i);
  JsonWriter& value(int i) { return value(static_cast<long long>(i)); }
  JsonWriter& value(long i) { return value(static_cast<long long>(i)); }
  JsonWriter& value(bool b);
  JsonWriter& null();
  /// key(k) then value(v).
  template <class T>
  JsonWriter& member(std::string_view k, const T& v) {
    key(k);
    return value(v);
  }

  /// The text so far; complete once every object and array is closed.
  const std::string& str() const { return out_; }

  /// `s` quoted and escaped as a JSON string.
  static std::string quote(std::string_view s);

 private:
  void before_value();
  void newline();
  struct Level {
    bool object;
    bool empty = true;
    bool key_pending = false;
  };
  std::string out_;
  std::vector<Level> stack_;
  bool pretty_;
};

}  // namespace lanes_cli
