// HostTensor: a dense tensor as q8c reads it from .npy/JSON and prints it.
// Plain value type (copyable, no invariants enforced by construction); use
// CheckHostTensor before trusting `data`. Thread-compatible.
#ifndef Q8SERVE_CLIENT_HOST_TENSOR_H_
#define Q8SERVE_CLIENT_HOST_TENSOR_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace q8::client {

struct HostTensor {
  // Numpy spelling: "bool", "int8", "uint8", "int16", "uint16", "int32",
  // "uint32", "int64", "uint64", "float16", "float32", "float64".
  std::string dtype;
  // Row-major dimensions; empty = scalar.
  std::vector<int64_t> shape;
  // Elements, row-major, little-endian; bool is one byte (0 or 1) per element.
  std::string data;
};

// Size in bytes of one element, or nullopt if `dtype` is not one listed above.
std::optional<size_t> DTypeSize(absl::string_view dtype);

// The dtypes DTypeSize knows, comma-separated, for error messages.
absl::string_view KnownDTypes();

// Product of dims; error on negative dims or int64 overflow.
absl::StatusOr<int64_t> NumElements(absl::Span<const int64_t> shape);

// OK iff dtype is known and data.size() == NumElements(shape) * DTypeSize.
// `what` names the tensor in the message.
absl::Status CheckHostTensor(const HostTensor& t, absl::string_view what);

// "[1, 28, 28]" for messages.
std::string ShapeString(absl::Span<const int64_t> shape);

// IEEE binary16 <-> binary32; FloatToHalf rounds to nearest even and
// saturates to infinity, as numpy's astype(np.float16) does.
uint16_t FloatToHalf(float f);
float HalfToFloat(uint16_t h);

}  // namespace q8::client

#endif  // Q8SERVE_CLIENT_HOST_TENSOR_H_
