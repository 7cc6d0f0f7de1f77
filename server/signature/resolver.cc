#include "server/signature/resolver.h"

#include <filesystem>
#include <optional>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "server/signature/name_normalizer.h"

namespace q8::server {
namespace {

enum class Role { kInput, kOutput };
const char* RoleName(Role r) { return r == Role::kInput ? "input" : "output"; }

bool IsBoundaryOp(const std::string& op) {
  return op == "QuantizeLinear" || op == "DequantizeLinear" || op == "Identity" || op == "Cast";
}

// A candidate that fits the declaration, with the conversion that makes it fit.
std::optional<Conversion> Fit(const DeclaredTensor& d, const engine::TensorInfo& g, Role role) {
  if (d.shape && !DimsCompatible(*d.shape, g.shape)) return std::nullopt;
  if (!d.dtype || *d.dtype == g.dtype) return Conversion::kNone;
  const bool quantized = g.dtype == engine::DType::kUint8 || g.dtype == engine::DType::kInt8;
  if (*d.dtype == engine::DType::kFloat32 && quantized && g.quant.has_value()) {
    return role == Role::kInput ? Conversion::kQuantize : Conversion::kDequantize;
  }
  return std::nullopt;
}

std::string DescribeTensor(const engine::TensorInfo& t) {
  std::string s = absl::StrCat("'", t.name, "' ", engine::DTypeName(t.dtype), " ",
                               engine::ShapeToString(t.shape));
  if (t.quant && !t.quant->scales.empty()) {
    absl::StrAppend(&s, " quant(", engine::DTypeName(t.quant->storage),
                    t.quant->axis ? absl::StrCat(" per-axis ", *t.quant->axis)
                                  : absl::StrCat(" scale=", t.quant->scales[0], " zero_point=",
                                                 t.quant->zero_points.empty() ? 0 : t.quant->zero_points[0]),
                    ")");
  }
  return s;
}

std::string DescribeDeclared(const DeclaredTensor& d) {
  std::string s;
  if (d.dtype) absl::StrAppend(&s, " ", engine::DTypeName(*d.dtype));
  if (d.shape) absl::StrAppend(&s, " ", engine::ShapeToString(*d.shape));
  return s;
}

// One link of the chain of boundary nodes next to a graph input or output.
struct ChainLink {
  std::string node, op;
  std::string tensor;  // the tensor on the far side of the node ("" past the last boundary node)
};

// Graph output: walks back through boundary producers, ending with the first other
// producer (the node a rename left feeding the output). Graph input: walks forward
// through sole boundary consumers, ending with the first other consumer.
std::vector<ChainLink> BoundaryChain(const engine::ModelInfo& info, Role role,
                                     const std::string& start) {
  std::vector<ChainLink> chain;
  std::string current = start;
  for (size_t guard = 0; guard <= info.nodes.size(); ++guard) {
    const engine::NodeInfo* next = nullptr;
    if (role == Role::kOutput) {
      for (const auto& n : info.nodes) {
        for (const auto& out : n.outputs) {
          if (out == current) next = &n;
        }
      }
    } else {
      int consumers = 0;
      for (const auto& n : info.nodes) {
        for (const auto& in : n.inputs) {
          if (in == current) {
            next = &n;
            ++consumers;
            break;
          }
        }
      }
      if (consumers != 1) next = nullptr;
    }
    if (next == nullptr) break;
    const bool boundary = IsBoundaryOp(next->op_type);
    std::string far;
    if (boundary) far = role == Role::kOutput ? next->inputs.at(0) : next->outputs.at(0);
    chain.push_back({next->name, next->op_type, far});
    if (!boundary || far.empty()) break;
    current = far;
  }
  return chain;
}

struct Context {
  const DeclaredTensor& declared;
  Role role;
  const engine::ModelInfo& info;
  const std::vector<engine::TensorInfo>& graph;
  const std::vector<std::string>& bound_to;  // logical name per graph tensor, "" = free
  const ReferenceAlignment* reference;
  NormalizedName logical;
  std::string file;
};

struct Candidate {
  int index = -1;
  std::string why;
};

// Free graph tensors of the role that fit the declaration and satisfy `pred`.
template <typename Pred>
std::vector<Candidate> Collect(const Context& c, Pred pred) {
  std::vector<Candidate> out;
  for (size_t i = 0; i < c.graph.size(); ++i) {
    if (!c.bound_to[i].empty() || !Fit(c.declared, c.graph[i], c.role)) continue;
    std::string why;
    if (pred(c.graph[i], why)) out.push_back({static_cast<int>(i), std::move(why)});
  }
  return out;
}

std::vector<Candidate> ExactRule(const Context& c) {
  return Collect(c, [&](const engine::TensorInfo& g, std::string& why) {
    why = absl::StrCat("graph ", RoleName(c.role), " '", g.name, "' has exactly this name");
    return g.name == c.declared.logical_name;
  });
}

// The importer's record of the float name a renamed tensor stands for (TensorInfo::
// original_name, e.g. a GraphDef Dequantize "logits_eightbit_dequantize:0" for "logits:0"),
// equal to the declared name as is or after normalization ("logits" ~ "logits:0").
std::vector<Candidate> OriginalNameRule(const Context& c) {
  return Collect(c, [&](const engine::TensorInfo& g, std::string& why) {
    if (g.original_name.empty()) return false;
    why = absl::StrCat("graph ", RoleName(c.role), " '", g.name, "' stands for '",
                       g.original_name, "' (recorded by the importer)");
    return g.original_name == c.declared.logical_name ||
           NormalizeTensorName(g.original_name).name == c.logical.name;
  });
}

std::string StrippedText(const NormalizedName& n) {
  return n.stripped.empty() ? "nothing stripped"
                            : absl::StrCat("stripped ", absl::StrJoin(n.stripped, ", "));
}

std::vector<Candidate> NormalizedRule(const Context& c) {
  return Collect(c, [&](const engine::TensorInfo& g, std::string& why) {
    NormalizedName n = NormalizeTensorName(g.name);
    why = absl::StrCat("graph ", RoleName(c.role), " '", g.name, "' normalizes to '", n.name,
                       "' (", StrippedText(n), "), as does '", c.declared.logical_name, "'");
    return n.name == c.logical.name;
  });
}

std::vector<Candidate> BoundaryWalkRule(const Context& c) {
  return Collect(c, [&](const engine::TensorInfo& g, std::string& why) {
    std::vector<std::string> path{absl::StrCat("'", g.name, "'")};
    for (const ChainLink& link : BoundaryChain(c.info, c.role, g.name)) {
      path.push_back(absl::StrCat(link.op, " node '", link.node, "'"));
      for (const std::string* name : {&link.node, &link.tensor}) {
        if (!name->empty() && NormalizeTensorName(*name).name == c.logical.name) {
          why = absl::StrCat("graph ", RoleName(c.role), " ", absl::StrJoin(path, c.role == Role::kOutput ? " ← " : " → "),
                             name == &link.tensor ? absl::StrCat(", tensor '", link.tensor, "'") : "",
                             ": '", *name, "' normalizes to '", c.logical.name, "'");
          return true;
        }
      }
      if (!link.tensor.empty()) path.push_back(absl::StrCat("'", link.tensor, "'"));
    }
    return false;
  });
}

std::vector<Candidate> ReferenceRule(const Context& c) {
  if (c.reference == nullptr) return {};
  const auto& map = c.role == Role::kInput ? c.reference->inputs : c.reference->outputs;
  auto it = map.find(c.declared.logical_name);
  if (it == map.end()) return {};
  return Collect(c, [&](const engine::TensorInfo& g, std::string& why) {
    why = absl::StrCat("reference ", c.reference->file, " ", RoleName(c.role), " '", it->first,
                       "' aligns with graph ", RoleName(c.role), " #", it->second, " '", g.name,
                       "' (", c.reference->evidence, ")");
    return &g == &c.graph[it->second];
  });
}

std::vector<Candidate> UniqueRoleRule(const Context& c) {
  return Collect(c, [&](const engine::TensorInfo& g, std::string& why) {
    why = absl::StrCat("the only unbound graph ", RoleName(c.role), " that fits",
                       DescribeDeclared(c.declared).empty() ? "" : absl::StrCat(" (",
                       absl::StripLeadingAsciiWhitespace(DescribeDeclared(c.declared)), ")"),
                       ": '", g.name, "'");
    return true;
  });
}

struct Rule {
  const char* name;
  std::vector<Candidate> (*fn)(const Context&);
};
constexpr Rule kRules[] = {
    {"exact", ExactRule},
    {"original_name", OriginalNameRule},
    {"normalized", NormalizedRule},
    {"boundary_walk", BoundaryWalkRule},
    {"reference_model", ReferenceRule},
    {"unique_role", UniqueRoleRule},
};

std::string GraphListing(const Context& c) {
  std::vector<std::string> rows;
  for (size_t i = 0; i < c.graph.size(); ++i) {
    std::string row = DescribeTensor(c.graph[i]);
    if (!c.bound_to[i].empty()) absl::StrAppend(&row, " (bound to '", c.bound_to[i], "')");
    rows.push_back(std::move(row));
  }
  return absl::StrCat("graph ", RoleName(c.role), "s: ", absl::StrJoin(rows, "; "));
}

std::string HowToMap(const Context& c) {
  return absl::StrCat(" Map it explicitly in <model>/", kSignatureFileName, ", e.g. ",
                      RoleName(c.role), "s { name: \"", c.declared.logical_name,
                      "\" tensor: \"<graph tensor>\" }.");
}

struct Binding {
  int index = -1;
  std::string rule, why;
};

absl::StatusOr<Binding> Explicit(const Context& c, const std::string& where) {
  const std::string& want = c.declared.tensor;
  for (size_t i = 0; i < c.graph.size(); ++i) {
    bool hit = c.graph[i].name == want;
    std::string via;
    if (!hit) {  // a tensor next to a graph input/output through boundary nodes
      for (const ChainLink& link : BoundaryChain(c.info, c.role, c.graph[i].name)) {
        if (link.tensor == want) {
          hit = true;
          via = absl::StrCat(", reached through ", link.op, " node '", link.node, "'");
        }
      }
    }
    if (!hit) continue;
    if (!c.bound_to[i].empty()) {
      return absl::FailedPreconditionError(absl::StrCat(where, ": tensor '", want,
                                                        "' is already bound to '",
                                                        c.bound_to[i], "'"));
    }
    if (!Fit(c.declared, c.graph[i], c.role)) {
      return absl::FailedPreconditionError(absl::StrCat(
          where, ": declared", DescribeDeclared(c.declared), " but tensor ",
          DescribeTensor(c.graph[i]), " cannot serve it (a float32 client dtype needs a uint8/int8 "
          "tensor with quantization parameters, or the same dtype)"));
    }
    return Binding{static_cast<int>(i), "explicit",
                   absl::StrCat("declared tensor '", want, "' is graph ", RoleName(c.role), " '",
                                c.graph[i].name, "'", via)};
  }
  return absl::FailedPreconditionError(absl::StrCat(
      where, ": tensor '", want, "' is not a graph ", RoleName(c.role), " of ", c.file,
      " (nor next to one through Quantize/Dequantize/Identity nodes). ", GraphListing(c), "."));
}

absl::StatusOr<Binding> Resolve(const Context& c, const std::string& where) {
  if (!c.declared.tensor.empty()) return Explicit(c, where);
  std::vector<std::string> tried;
  for (const Rule& rule : kRules) {
    std::vector<Candidate> found = rule.fn(c);
    if (found.size() == 1) return Binding{found[0].index, rule.name, found[0].why};
    if (found.size() > 1) {
      std::vector<std::string> names;
      for (const Candidate& cand : found) names.push_back(DescribeTensor(c.graph[cand.index]));
      return absl::FailedPreconditionError(absl::StrCat(
          where, ": ambiguous under rule '", rule.name, "': ", found.size(), " candidates: ",
          absl::StrJoin(names, "; "), ".", HowToMap(c)));
    }
    tried.push_back(rule.name);
  }
  return absl::FailedPreconditionError(absl::StrCat(
      where, ": no rule matched (tried ", absl::StrJoin(tried, ", "), "; the name normalizes to '",
      c.logical.name, "'", c.reference ? "" : "; no reference model", "). ", GraphListing(c), ".",
      HowToMap(c)));
}

absl::Status BindRole(const std::vector<DeclaredTensor>& declared, Role role,
                      const std::string& sig_name, const std::string& source,
                      const engine::ModelInfo& info, const ReferenceAlignment* reference,
                      std::vector<SignatureTensor>& out) {
  const auto& graph = role == Role::kInput ? info.inputs : info.outputs;
  const std::string file = std::filesystem::path(info.path).filename().string();
  std::vector<std::string> bound_to(graph.size());
  for (const DeclaredTensor& d : declared) {
    const std::string where =
        absl::StrCat(info.path, ": signature '", sig_name, "' (from ", source, "): ",
                     RoleName(role), " '", d.logical_name, "'", DescribeDeclared(d));
    Context c{d, role, info, graph, bound_to, reference, NormalizeTensorName(d.logical_name), file};
    absl::StatusOr<Binding> b = Resolve(c, where);
    if (!b.ok()) return b.status();
    // A reference alignment is structural evidence: another rule disagreeing with it is
    // a conflict to report, not to settle by rule order.
    if (reference != nullptr && b->rule != "reference_model") {
      const auto& map = role == Role::kInput ? reference->inputs : reference->outputs;
      auto it = map.find(d.logical_name);
      if (it != map.end() && it->second != b->index) {
        return absl::FailedPreconditionError(absl::StrCat(
            where, ": rule '", b->rule, "' binds it to '", graph[b->index].name, "' but reference ",
            reference->file, " aligns it with '", graph[it->second].name, "'.", HowToMap(c)));
      }
    }
    SignatureTensor t;
    t.logical_name = d.logical_name;
    t.engine_index = b->index;
    t.info = graph[b->index];
    t.conversion = *Fit(d, t.info, role);
    t.dtype = d.dtype.value_or(t.info.dtype);
    t.shape = d.shape.value_or(t.info.shape);
    t.rule = b->rule;
    t.explanation = b->why + GeneratedNameNote(t.info);
    if (t.conversion != Conversion::kNone) {
      absl::StrAppend(&t.explanation, "; clients use ", engine::DTypeName(t.dtype), ", q8serve ",
                      role == Role::kInput ? "quantizes to " : "dequantizes from ",
                      engine::DTypeName(t.info.dtype), " with the graph's own parameters");
    }
    t.source = source;
    bound_to[b->index] = d.logical_name;
    out.push_back(std::move(t));
  }
  if (role == Role::kInput) {
    for (size_t i = 0; i < graph.size(); ++i) {
      if (bound_to[i].empty()) {
        return absl::FailedPreconditionError(absl::StrCat(
            info.path, ": signature '", sig_name, "' (from ", source, ") leaves graph input ",
            DescribeTensor(graph[i]), " unbound, but the model needs every input. Declare it in <model>/",
            kSignatureFileName, ", e.g. inputs { name: \"<logical name>\" tensor: \"", graph[i].name, "\" }."));
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<Signature> ResolveSignature(const DeclaredSignature& declared,
                                           const std::string& source,
                                           const engine::ModelInfo& info,
                                           const ReferenceAlignment* reference) {
  Signature sig;
  sig.name = declared.name;
  if (auto s = BindRole(declared.inputs, Role::kInput, declared.name, source, info, reference,
                        sig.inputs);
      !s.ok()) {
    return s;
  }
  if (auto s = BindRole(declared.outputs, Role::kOutput, declared.name, source, info, reference,
                        sig.outputs);
      !s.ok()) {
    return s;
  }
  return sig;
}

}  // namespace q8::server
