// Which versions of each ONNX operator the engine implements.
//
// A model imports an opset number; each op then has the newest version of its definition
// whose since_version <= that number. Older definitions can mean different things (Reshape 1
// took its shape as an attribute; Add 6 had legacy `broadcast`/`axis` attributes), so a
// model is accepted only when each op's version is one the kernels implement. Ops whose old
// versions are only a subset of a newer one (MaxPool 1 lacks `ceil_mode`, whose default is
// the old behaviour) are accepted from their first version, so old float exports (the v1
// models of the signature layer) load.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"

namespace q8::engine {

struct OnnxOpVersions {
  const char* op_type;                 // ai.onnx domain
  std::vector<int> since_versions;     // every version ONNX defines, ascending (onnx 1.12)
  int oldest_implemented;              // the oldest of them the engine implements
};

// The table, one entry per ai.onnx op the engine has a kernel for (plus Constant).
const std::vector<OnnxOpVersions>& OnnxOpVersionTable();

// The table's entry for `op_type`, or nullptr.
const OnnxOpVersions* FindOnnxOpVersions(const std::string& op_type);

// The version of `op` that `opset` selects, or nullopt when the op did not exist yet.
std::optional<int> OnnxOpVersionInOpset(const OnnxOpVersions& op, int64_t opset);

// OK when the engine implements `op_type` as defined in `opset`; otherwise
// UNIMPLEMENTED saying which version the opset selects and which the engine has.
// Ops not in the table are left to the kernel registry (OK here).
absl::Status CheckOnnxOpVersion(const std::string& op_type, int64_t opset);

}  // namespace q8::engine
