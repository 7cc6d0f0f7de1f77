#include "client/graph_listing.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "client/tensor_text.h"
#include "client/text_table.h"

namespace q8::client {
namespace {

std::string Header(const q8serve::v1::GetGraphResponse& g) {
  std::vector<std::string> where;
  if (!g.format().empty()) where.push_back(g.format());
  if (!g.path().empty()) where.push_back(g.path());
  std::string out = absl::StrCat("model ", g.model_name(), " version ", g.version());
  if (!where.empty()) absl::StrAppend(&out, " (", absl::StrJoin(where, ", "), ")");
  absl::StrAppend(&out, ": showing ", g.tensors_size(), " of ", g.total_tensors(), " tensors, ",
                  g.nodes_size(), " of ", g.total_nodes(), " nodes\n");
  return out;
}

std::string Role(const q8serve::v1::GraphTensor& t) {
  std::vector<absl::string_view> marks;
  if (t.is_input()) marks.push_back("IN");
  if (t.is_output()) marks.push_back("OUT");
  return absl::StrJoin(marks, " ");
}

std::string Tensors(const q8serve::v1::GetGraphResponse& g) {
  if (g.tensors().empty()) return "TENSORS: none match\n";
  TextTable table({"NAME", "DTYPE", "SHAPE", "QUANT", "PRODUCER", ""});
  for (const q8serve::v1::GraphTensor& t : g.tensors()) {
    table.AddRow({t.name(), t.dtype().empty() ? "?" : t.dtype(),
                  t.has_shape() ? FormatShape(t.shape()) : "?",
                  t.has_quant() ? FormatQuant(t.quant()) : "-", OrDash(t.producer_op()), Role(t)});
  }
  return absl::StrCat("TENSORS\n", table.Render("  "));
}

std::string Nodes(const q8serve::v1::GetGraphResponse& g) {
  if (g.nodes().empty()) return "NODES: none match\n";
  TextTable table({"OP", "NAME", "INPUTS → OUTPUTS"});
  // ONNX spells an omitted optional input as ""; "-" keeps its position.
  auto names = [](const google::protobuf::RepeatedPtrField<std::string>& list) {
    std::vector<std::string> out;
    for (const std::string& s : list) out.push_back(OrDash(s));
    return absl::StrJoin(out, ", ");
  };
  for (const q8serve::v1::GraphNode& n : g.nodes()) {
    table.AddRow({n.op_type(), OrDash(n.name()),
                  absl::StrCat(names(n.inputs()), " → ", names(n.outputs()))});
  }
  return absl::StrCat("NODES\n", table.Render("  "));
}

}  // namespace

std::string RenderGraph(const q8serve::v1::GetGraphResponse& graph) {
  return absl::StrCat(Header(graph), "\n", Tensors(graph), "\n", Nodes(graph));
}

}  // namespace q8::client
