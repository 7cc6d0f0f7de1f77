#include "server/repository/servable.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace q8::server {

const Signature* Servable::FindSignature(absl::string_view signature_name) const {
  if (signature_name.empty()) signature_name = default_signature;
  auto it = signatures.find(signature_name);
  return it == signatures.end() ? nullptr : &it->second;
}

std::string Servable::SignatureNames() const {
  std::vector<absl::string_view> names;
  for (const auto& [name, sig] : signatures) names.push_back(name);
  return absl::StrCat("{", absl::StrJoin(names, ", "), "}");
}

}  // namespace q8::server
