// Reading and writing NumPy .npy files (format versions 1.0, 2.0 and 3.0).
// Supported: little-endian or byte-order-free dtypes of HostTensor, C order.
// Big-endian and Fortran-order arrays are rejected with a message saying how
// to convert them (np.ascontiguousarray(a.astype('<f4')) and friends).
// Stateless free functions; thread-safe.
#ifndef Q8SERVE_CLIENT_NPY_H_
#define Q8SERVE_CLIENT_NPY_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "client/host_tensor.h"

namespace q8::client {

// Parses a whole .npy file held in memory. `source` (usually the path) is
// only used in error messages.
absl::StatusOr<HostTensor> ParseNpy(absl::string_view bytes, absl::string_view source);

// Reads and parses the file at `path`.
absl::StatusOr<HostTensor> ReadNpyFile(const std::string& path);

// Serializes as .npy (version 1.0, or 2.0 when the header needs > 64 KiB).
// Fails only if `t` is inconsistent (see CheckHostTensor).
absl::StatusOr<std::string> SerializeNpy(const HostTensor& t);

// SerializeNpy + write to `path` (truncating).
absl::Status WriteNpyFile(const std::string& path, const HostTensor& t);

}  // namespace q8::client

#endif  // Q8SERVE_CLIENT_NPY_H_
