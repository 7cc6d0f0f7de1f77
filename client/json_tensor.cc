#include "client/json_tensor.h"

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <type_traits>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace q8::client {
namespace {

using Kind = JsonValue::Kind;

std::string PathString(absl::string_view name, const std::vector<size_t>& idx) {
  std::string s(name);
  for (size_t i : idx) absl::StrAppend(&s, "[", i, "]");
  return s;
}

absl::string_view KindName(Kind k) {
  switch (k) {
    case Kind::kNull:
      return "null";
    case Kind::kBool:
      return "a boolean";
    case Kind::kNumber:
      return "a number";
    case Kind::kString:
      return "a string";
    case Kind::kArray:
      return "an array";
    case Kind::kObject:
      return "an object";
  }
  return "?";
}

template <typename T>
void Append(std::string& data, T v) {
  char buf[sizeof(T)];
  std::memcpy(buf, &v, sizeof(T));  // Host is little-endian (see codec).
  data.append(buf, sizeof(T));
}

// Leaf converters append one element. Their messages omit the element's
// location; Collect prefixes it, so paths are only built on error.
using LeafFn = absl::Status (*)(const JsonValue&, std::string&);

absl::Status NotScalar(const JsonValue& v) {
  return absl::InvalidArgumentError(
      absl::StrCat("expected a number or boolean, got ", KindName(v.kind)));
}

// Integer leaf -> T, exactly. Literal text is parsed as an integer first so
// int64 values beyond 2^53 survive; "3.0" and "1e2" are accepted if integral.
template <typename T>
absl::Status AppendInteger(const JsonValue& v, std::string& data) {
  if (v.kind == Kind::kBool) {
    Append<T>(data, v.boolean ? 1 : 0);
    return absl::OkStatus();
  }
  if (v.kind != Kind::kNumber) return NotScalar(v);
  using Wide = std::conditional_t<std::is_signed_v<T>, int64_t, uint64_t>;
  Wide w = 0;
  bool ok = absl::SimpleAtoi(v.text, &w);
  if (!ok) {
    const double d = v.number;
    if (!std::isfinite(d) || std::floor(d) != d) {
      return absl::InvalidArgumentError(absl::StrCat(v.text, " is not an integer"));
    }
    // Doubles at or beyond 2^63 (2^64 unsigned) do not fit the wide type.
    const double limit = std::is_signed_v<T> ? 9223372036854775808.0 : 18446744073709551616.0;
    ok = d < limit && (std::is_signed_v<T> ? d >= -limit : d >= 0);
    if (ok) w = static_cast<Wide>(d);
  }
  if (!ok || w < static_cast<Wide>(std::numeric_limits<T>::min()) ||
      w > static_cast<Wide>(std::numeric_limits<T>::max())) {
    return absl::OutOfRangeError(absl::StrCat(v.text, " is out of range"));
  }
  Append<T>(data, static_cast<T>(w));
  return absl::OkStatus();
}

absl::Status AppendBool(const JsonValue& v, std::string& data) {
  if (v.kind == Kind::kBool) {
    Append<uint8_t>(data, v.boolean ? 1 : 0);
  } else if (v.kind == Kind::kNumber && (v.number == 0 || v.number == 1)) {
    Append<uint8_t>(data, v.number == 1 ? 1 : 0);
  } else if (v.kind == Kind::kNumber) {
    return absl::InvalidArgumentError(
        absl::StrCat(v.text, " is not a boolean (use true, false, 0 or 1)"));
  } else {
    return NotScalar(v);
  }
  return absl::OkStatus();
}

// Float leaf; finite values beyond the type's range are errors rather than
// silently becoming infinity.
template <typename T>
absl::Status AppendFloat(const JsonValue& v, std::string& data) {
  if (v.kind != Kind::kNumber && v.kind != Kind::kBool) return NotScalar(v);
  const double d = v.kind == Kind::kBool ? (v.boolean ? 1.0 : 0.0) : v.number;
  constexpr double kMax = std::is_same_v<T, uint16_t>
                              ? 65504.0  // largest finite float16
                              : static_cast<double>(std::numeric_limits<T>::max());
  if (!(std::fabs(d) <= kMax)) {
    return absl::OutOfRangeError(absl::StrCat(v.text, " is out of range"));
  }
  if constexpr (std::is_same_v<T, uint16_t>) {
    Append<uint16_t>(data, FloatToHalf(static_cast<float>(d)));
  } else {
    Append<T>(data, static_cast<T>(d));
  }
  return absl::OkStatus();
}

LeafFn LeafFor(absl::string_view dtype) {
  if (dtype == "bool") return AppendBool;
  if (dtype == "int8") return AppendInteger<int8_t>;
  if (dtype == "uint8") return AppendInteger<uint8_t>;
  if (dtype == "int16") return AppendInteger<int16_t>;
  if (dtype == "uint16") return AppendInteger<uint16_t>;
  if (dtype == "int32") return AppendInteger<int32_t>;
  if (dtype == "uint32") return AppendInteger<uint32_t>;
  if (dtype == "int64") return AppendInteger<int64_t>;
  if (dtype == "uint64") return AppendInteger<uint64_t>;
  if (dtype == "float16") return AppendFloat<uint16_t>;
  if (dtype == "float32") return AppendFloat<float>;
  if (dtype == "float64") return AppendFloat<double>;
  return nullptr;
}

struct CollectContext {
  const std::vector<int64_t>& shape;
  absl::string_view name;
  absl::string_view dtype;
  LeafFn leaf;
  std::vector<size_t> idx;
  std::string& data;
};

// Walks the nested arrays checking every level against `shape` (taken from
// the first element at each depth) and appends the leaves in row-major order.
absl::Status Collect(const JsonValue& v, CollectContext& c) {
  const size_t depth = c.idx.size();
  const std::vector<int64_t>& shape = c.shape;
  if (depth == shape.size()) {
    if (v.kind == Kind::kArray) {
      return absl::InvalidArgumentError(
          absl::StrCat("ragged array: ", PathString(c.name, c.idx), " is an array but ",
                       PathString(c.name, std::vector<size_t>(depth, 0)),
                       " is a scalar (inferred shape ", ShapeString(shape), ")"));
    }
    absl::Status st = c.leaf(v, c.data);
    if (!st.ok()) {
      return absl::Status(st.code(), absl::StrCat(PathString(c.name, c.idx), ": ", st.message(),
                                                  " (dtype ", c.dtype, ")"));
    }
    return absl::OkStatus();
  }
  if (v.kind != Kind::kArray) {
    return absl::InvalidArgumentError(absl::StrCat(
        "ragged array: ", PathString(c.name, c.idx), " is ", KindName(v.kind), " but an array of ",
        shape[depth], " was expected (inferred shape ", ShapeString(shape), ")"));
  }
  if (static_cast<int64_t>(v.items.size()) != shape[depth]) {
    return absl::InvalidArgumentError(absl::StrCat(
        "ragged array: ", PathString(c.name, c.idx), " has ", v.items.size(), " elements but ",
        shape[depth], " were expected (inferred shape ", ShapeString(shape), ")"));
  }
  for (size_t i = 0; i < v.items.size(); ++i) {
    c.idx.push_back(i);
    absl::Status st = Collect(v.items[i], c);
    c.idx.pop_back();
    if (!st.ok()) return st;
  }
  return absl::OkStatus();
}

template <typename T>
T Load(const char* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}

}  // namespace

absl::StatusOr<HostTensor> JsonValueToTensor(const JsonValue& value, absl::string_view name,
                                             absl::string_view dtype) {
  HostTensor t;
  const JsonValue* first = &value;
  while (first->kind == Kind::kArray) {
    t.shape.push_back(static_cast<int64_t>(first->items.size()));
    if (first->items.empty()) break;
    first = &first->items[0];
  }
  if (!dtype.empty()) {
    t.dtype = std::string(dtype);
  } else {
    t.dtype = first->kind == Kind::kBool ? "bool" : "float32";
  }
  LeafFn leaf = LeafFor(t.dtype);
  if (leaf == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat(name, ": unsupported dtype '", t.dtype, "' (known: ", KnownDTypes(), ")"));
  }
  CollectContext c{t.shape, name, t.dtype, leaf, {}, t.data};
  absl::Status st = Collect(value, c);
  if (!st.ok()) return st;
  return t;
}

absl::StatusOr<NamedTensors> JsonToTensors(absl::string_view json,
                                           const std::map<std::string, std::string>& dtypes) {
  absl::StatusOr<JsonValue> doc = ParseJson(json);
  if (!doc.ok()) return doc.status();
  const JsonValue* root = &*doc;
  if (root->kind == Kind::kObject && root->members.size() == 1 &&
      root->members[0].first == "inputs" && root->members[0].second.kind == Kind::kObject) {
    root = &root->members[0].second;
  }
  if (root->kind != Kind::kObject) {
    return absl::InvalidArgumentError(
        "JSON input must be an object of input name -> array, e.g. "
        "{\"images\": [[0.1, 0.2]]}");
  }
  NamedTensors out;
  for (const auto& [name, value] : root->members) {
    for (const auto& seen : out) {
      if (seen.first == name) {
        return absl::InvalidArgumentError(absl::StrCat("JSON input '", name, "' appears twice"));
      }
    }
    auto it = dtypes.find(name);
    absl::StatusOr<HostTensor> t =
        JsonValueToTensor(value, name, it == dtypes.end() ? absl::string_view() : it->second);
    if (!t.ok()) return t.status();
    out.emplace_back(name, *std::move(t));
  }
  return out;
}

absl::Status WriteTensorJson(const HostTensor& t, JsonWriter& w) {
  absl::Status st = CheckHostTensor(t, "output");
  if (!st.ok()) return st;
  w.BeginObject().Key("dtype").String(t.dtype).Key("shape").BeginArray();
  for (int64_t d : t.shape) w.Int(d);
  w.EndArray().Key("data").BeginArray();
  const size_t size = *DTypeSize(t.dtype);
  const std::string& dt = t.dtype;
  for (size_t off = 0; off < t.data.size(); off += size) {
    const char* p = t.data.data() + off;
    if (dt == "bool")
      w.Bool(*p != 0);
    else if (dt == "int8")
      w.Int(Load<int8_t>(p));
    else if (dt == "uint8")
      w.Int(Load<uint8_t>(p));
    else if (dt == "int16")
      w.Int(Load<int16_t>(p));
    else if (dt == "uint16")
      w.Int(Load<uint16_t>(p));
    else if (dt == "int32")
      w.Int(Load<int32_t>(p));
    else if (dt == "uint32")
      w.Int(Load<uint32_t>(p));
    else if (dt == "int64")
      w.Int(Load<int64_t>(p));
    else if (dt == "uint64")
      w.Uint(Load<uint64_t>(p));
    else if (dt == "float16")
      w.Float(HalfToFloat(Load<uint16_t>(p)));
    else if (dt == "float32")
      w.Float(Load<float>(p));
    else if (dt == "float64")
      w.Double(Load<double>(p));
  }
  w.EndArray().EndObject();
  return absl::OkStatus();
}

}  // namespace q8::client
