// A small JSON reader and writer, enough for q8c's tensor inputs and its
// printed responses (Debian 12 images here have no nlohmann-json).
// Reader: RFC 8259 values; numbers keep their literal text so int64 inputs
// are not rounded through double. Writer: compact one-line output.
// Both are thread-compatible (no shared state).
#ifndef Q8SERVE_CLIENT_JSON_H_
#define Q8SERVE_CLIENT_JSON_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace q8::client {

struct JsonValue {
  enum class Kind { kNull, kBool, kNumber, kString, kArray, kObject };
  Kind kind = Kind::kNull;
  bool boolean = false;
  double number = 0;             // kNumber, parsed as double.
  std::string text;              // kString: the decoded string; kNumber: literal text.
  std::vector<JsonValue> items;  // kArray
  std::vector<std::pair<std::string, JsonValue>> members;  // kObject, in order
};

// Parses one JSON document (surrounding whitespace allowed). Errors give the
// line and column. Nesting deeper than 256 levels is rejected.
absl::StatusOr<JsonValue> ParseJson(absl::string_view text);

// Builds compact JSON; commas are inserted automatically. Misuse (e.g. a
// value where a key is expected) is a programming error, not checked.
class JsonWriter {
 public:
  JsonWriter& BeginObject();
  JsonWriter& EndObject();
  JsonWriter& BeginArray();
  JsonWriter& EndArray();
  JsonWriter& Key(absl::string_view key);
  JsonWriter& String(absl::string_view s);
  JsonWriter& Int(int64_t v);
  JsonWriter& Uint(uint64_t v);
  // Shortest text that round-trips. NaN and infinities are written as the
  // bare tokens NaN / Infinity / -Infinity (what Python's json accepts),
  // since model outputs can contain them and dropping them would hide bugs.
  JsonWriter& Double(double v);
  JsonWriter& Float(float v);
  JsonWriter& Bool(bool v);
  JsonWriter& Null();
  // Inserts already-serialized JSON as one value.
  JsonWriter& Raw(absl::string_view json);

  const std::string& str() const { return out_; }

 private:
  void BeforeValue();

  std::string out_;
  // One entry per open container: true until its first element is written.
  std::vector<bool> first_;
  bool after_key_ = false;
};

}  // namespace q8::client

#endif  // Q8SERVE_CLIENT_JSON_H_
