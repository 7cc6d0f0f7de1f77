#include "server/signature/reference_alignment.h"

#include <filesystem>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace q8::server {
namespace {

// Heavy-op family of an op type; "" for everything else (Q/DQ, activations, shape ops,
// bias adds — which the quantized forms add or fuse, so they cannot be compared).
std::string HeavyOpFamily(const std::string& op) {
  static const std::map<std::string, std::string> kFamilies = {
      {"Gemm", "MatMul"},          {"MatMul", "MatMul"},        {"QLinearMatMul", "MatMul"},
      {"MatMulInteger", "MatMul"}, {"Conv", "Conv"},            {"QLinearConv", "Conv"},
      {"ConvInteger", "Conv"},     {"ConvTranspose", "ConvTranspose"},
  };
  auto it = kFamilies.find(op);
  return it == kFamilies.end() ? "" : it->second;
}

std::vector<std::string> HeavyOps(const engine::ModelInfo& info) {
  std::vector<std::string> ops;
  for (const auto& n : info.nodes) {
    std::string family = HeavyOpFamily(n.op_type);
    if (!family.empty()) ops.push_back(family);
  }
  return ops;
}

bool IsQuantizedType(engine::DType t) {
  return t == engine::DType::kUint8 || t == engine::DType::kInt8;
}

std::string Describe(const engine::TensorInfo& t) {
  return absl::StrCat("'", t.name, "' ", engine::DTypeName(t.dtype), " ",
                      engine::ShapeToString(t.shape));
}

absl::Status Align(const std::vector<engine::TensorInfo>& ref,
                   const std::vector<engine::TensorInfo>& quant, const char* role,
                   std::map<std::string, int>& out) {
  if (ref.size() != quant.size()) {
    return absl::FailedPreconditionError(absl::StrCat("the reference has ", ref.size(), " ", role,
                                                      "s, the model ", quant.size()));
  }
  for (size_t i = 0; i < ref.size(); ++i) {
    const engine::TensorInfo& r = ref[i];
    const engine::TensorInfo& q = quant[i];
    const bool dtype_ok =
        r.dtype == q.dtype ||
        (r.dtype == engine::DType::kFloat32 && IsQuantizedType(q.dtype) && q.quant.has_value());
    if (!dtype_ok || !DimsCompatible(r.shape, q.shape)) {
      return absl::FailedPreconditionError(absl::StrCat(role, " #", i, " differs: reference ",
                                                        Describe(r), ", model ", Describe(q)));
    }
    out[r.name] = static_cast<int>(i);
  }
  return absl::OkStatus();
}

}  // namespace

bool DimsCompatible(const engine::Shape& want, const engine::Shape& have) {
  if (want.size() != have.size()) return false;
  for (size_t d = 0; d < want.size(); ++d) {
    if (want[d] >= 0 && have[d] >= 0 && want[d] != have[d]) return false;
  }
  return true;
}

absl::StatusOr<ReferenceAlignment> AlignWithReference(const engine::ModelInfo& reference,
                                                      const engine::ModelInfo& quantized) {
  ReferenceAlignment a;
  a.file = std::filesystem::path(reference.path).filename().string();
  auto fail = [&](const absl::Status& why) {
    return absl::FailedPreconditionError(absl::StrCat(
        "reference model ", reference.path, " does not align with ", quantized.path, ": ",
        why.message()));
  };
  const std::vector<std::string> ref_ops = HeavyOps(reference), quant_ops = HeavyOps(quantized);
  if (ref_ops != quant_ops) {
    size_t i = 0;
    while (i < ref_ops.size() && i < quant_ops.size() && ref_ops[i] == quant_ops[i]) ++i;
    return fail(absl::InvalidArgumentError(absl::StrCat(
        "heavy op #", i, " is ", i < ref_ops.size() ? ref_ops[i] : "missing", " in the reference and ",
        i < quant_ops.size() ? quant_ops[i] : "missing", " in the model (sequences [",
        absl::StrJoin(ref_ops, ","), "] vs [", absl::StrJoin(quant_ops, ","), "])")));
  }
  if (auto s = Align(reference.inputs, quantized.inputs, "input", a.inputs); !s.ok()) return fail(s);
  if (auto s = Align(reference.outputs, quantized.outputs, "output", a.outputs); !s.ok()) return fail(s);
  a.evidence = absl::StrCat(ref_ops.size(), " heavy ops in the same order [",
                            absl::StrJoin(ref_ops, ","), "]");
  return a;
}

}  // namespace q8::server
