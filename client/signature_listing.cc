#include "client/signature_listing.h"

#include "absl/strings/str_cat.h"
#include "client/tensor_text.h"
#include "client/text_table.h"

namespace q8::client {
namespace {

std::string Bindings(absl::string_view title,
                     const google::protobuf::RepeatedPtrField<q8serve::v1::TensorBinding>& list,
                     bool is_input) {
  if (list.empty()) return absl::StrCat(title, ": none\n");
  // The unnamed second column holds the arrow, so "name → tensor" reads as
  // one phrase while both names stay in aligned columns.
  TextTable table({"NAME", "", "TENSOR", "DTYPE", "SHAPE", "CONVERSION", "RULE", "SOURCE"});
  for (const q8serve::v1::TensorBinding& b : list) {
    table.AddRow({b.logical_name(), "→", OrDash(b.tensor_name()), OrDash(b.dtype()),
                  FormatShape(b.shape()), FormatConversion(b, is_input), OrDash(b.rule()),
                  OrDash(b.source())});
    if (!b.explanation().empty()) table.AddNote(b.explanation());
  }
  return absl::StrCat(title, "\n", table.Render("  "));
}

}  // namespace

std::string FormatConversion(const q8serve::v1::TensorBinding& binding, bool is_input) {
  if (binding.conversion().empty()) {
    return binding.has_quant() ? absl::StrCat("none, ", FormatQuant(binding.quant())) : "none";
  }
  const std::string tensor_dtype = binding.tensor_dtype().empty() ? "?" : binding.tensor_dtype();
  const std::string client_dtype = binding.dtype().empty() ? "?" : binding.dtype();
  std::string out = absl::StrCat(binding.conversion(), " ", is_input ? client_dtype : tensor_dtype,
                                 "→", is_input ? tensor_dtype : client_dtype);
  if (binding.has_quant()) absl::StrAppend(&out, " ", FormatQuantParams(binding.quant()));
  return out;
}

std::string RenderSignature(const q8serve::v1::GetSignatureResponse& signature) {
  return absl::StrCat("model ", signature.model_name(), " version ", signature.version(),
                      " signature ", signature.signature_name(), "\n\n",
                      Bindings("INPUTS", signature.inputs(), /*is_input=*/true), "\n",
                      Bindings("OUTPUTS", signature.outputs(), /*is_input=*/false));
}

}  // namespace q8::client
