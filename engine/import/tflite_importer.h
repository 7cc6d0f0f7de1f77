// TensorFlow Lite flatbuffer (.tflite) → ir::Graph, the same IR the ONNX importer makes.
//
// Quantized TFLite tensors become QDQ form (int8 value ─DequantizeLinear─► float op ─►
// QuantizeLinear ─► int8 value), which the engine's passes fold into its int8 oneDNN
// kernels; layouts: TFLite activations are NHWC, the engine's convolutions and pools NCHW,
// so the importer keeps an NCHW twin of each 4-D activation between such ops and inserts
// Transposes only where a layout-sensitive op (reshape, fully connected, graph outputs)
// needs the TFLite order. SignatureDefs become an embedded q8serve signature declaration
// (Graph::metadata["q8serve.signatures"]).
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "engine/ir/graph.h"

namespace q8::engine {

// Reads, verifies (flatbuffers Verifier) and imports a .tflite file. Errors name the file
// and, where it applies, the operator index, op name and tensor: INVALID_ARGUMENT for a
// truncated or inconsistent file, UNIMPLEMENTED for ops (including custom ops) or types
// the engine does not run, listing the supported ones. Stateless; thread-safe.
absl::StatusOr<ir::Graph> ImportTfliteFile(const std::string& path);

// The same on bytes already in memory; `path` is used only in messages.
absl::StatusOr<ir::Graph> ImportTfliteBytes(const std::string& bytes, const std::string& path);

}  // namespace q8::engine
