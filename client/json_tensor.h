// JSON <-> HostTensor for q8c.
//
// Input: an object mapping input names to nested arrays (or scalars), e.g.
//   {"images": [[0.1, 0.2], [0.3, 0.4]], "mask": [true, false]}
// Shapes are inferred from the nesting and must be rectangular. Numbers
// become float32 and booleans bool unless a dtype is given per name. The
// TF Serving REST "columnar" wrapper {"inputs": {...}} is accepted too.
//
// Output: {"dtype": "float32", "shape": [1, 2], "data": [0.5, 1.5]} with data
// flattened in row-major order (the shape says how to fold it).
// Stateless; thread-safe.
#ifndef Q8SERVE_CLIENT_JSON_TENSOR_H_
#define Q8SERVE_CLIENT_JSON_TENSOR_H_

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "client/host_tensor.h"
#include "client/json.h"

namespace q8::client {

using NamedTensors = std::vector<std::pair<std::string, HostTensor>>;

// Converts one JSON value to a tensor. `dtype` empty = infer (float32 for
// numbers, bool for booleans). Integer dtypes reject fractional and
// out-of-range values; errors name the element, e.g. "images[1][0]".
absl::StatusOr<HostTensor> JsonValueToTensor(const JsonValue& value, absl::string_view name,
                                             absl::string_view dtype);

// Parses a JSON document of named inputs (see above), in document order.
// `dtypes` maps input name -> numpy dtype; names not present keep the default.
absl::StatusOr<NamedTensors> JsonToTensors(absl::string_view json,
                                           const std::map<std::string, std::string>& dtypes);

// Writes {"dtype":..,"shape":[..],"data":[..]} for `t` into `w`.
absl::Status WriteTensorJson(const HostTensor& t, JsonWriter& w);

}  // namespace q8::client

#endif  // Q8SERVE_CLIENT_JSON_TENSOR_H_
