// Helpers shared by the wire codecs: checking a client-sent shape before any memory is
// allocated for it. Stateless and thread-safe.
#pragma once

#include <cstdint>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "engine/engine.h"

namespace q8::server {

// Largest tensor a request may decode to. A broadcast typed value (TF) or a hostile
// shape could otherwise ask for any amount of memory from a few bytes on the wire.
inline constexpr int64_t kMaxDecodedTensorBytes = int64_t{1} << 31;  // 2 GiB

// Element count of a request tensor's shape. INVALID_ARGUMENT naming `input` when a
// dim is negative or the tensor would exceed kMaxDecodedTensorBytes.
absl::StatusOr<int64_t> CheckedNumElements(absl::string_view input, engine::DType dtype,
                                           absl::Span<const int64_t> shape);

}  // namespace q8::server
