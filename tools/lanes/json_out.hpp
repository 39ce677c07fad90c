// tools/lanes/json_out.hpp — how the CLI writes its `--json` documents: nlohmann-json
// with keys kept in insertion order, a "schema" version first, and text that is always
// valid UTF-8 (a byte that is not, e.g. from a command's argument, becomes U+FFFD).
#pragma once

#include <cmath>
#include <string>

#include <nlohmann/json.hpp>

namespace lanes_cli {

using JsonDoc = nlohmann::ordered_json;

/// Version of the shape of `lanes lab --json` and `lanes advise --json`. Raised when a
/// key is removed or changes meaning (adding a key does not change it).
inline constexpr int kJsonSchema = 2;

/// A new document for `tool` ("lanes lab", "lanes advise"): {"schema": N, "tool": ...}.
inline JsonDoc json_document(const char* tool) {
  JsonDoc d = JsonDoc::object();
  d["schema"] = kJsonSchema;
  d["tool"] = tool;
  return d;
}

/// A number for JSON: NaN and infinities (which JSON cannot hold) become null.
inline JsonDoc json_number(double v) {
  if (!std::isfinite(v)) return nullptr;
  return v;
}

/// The document as indented text with a final newline; invalid UTF-8 is replaced, never
/// thrown on.
inline std::string dump_json(const JsonDoc& doc) {
  return doc.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
}

}  // namespace lanes_cli
