#include "server/repository/serving_map.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace q8::server {

const ModelEntry* ServingMap::FindModel(absl::string_view model) const {
  auto it = models.find(model);
  return it == models.end() ? nullptr : &it->second;
}

bool ServingMap::AnyServing() const {
  for (const auto& [name, entry] : models) {
    if (!entry.serving.empty()) return true;
  }
  return false;
}

std::string ServingMap::ServingModelNames() const {
  std::vector<absl::string_view> names;
  for (const auto& [name, entry] : models) {
    if (!entry.serving.empty()) names.push_back(name);
  }
  return absl::StrCat("{", absl::StrJoin(names, ", "), "}");
}

absl::StatusOr<std::shared_ptr<const Servable>> ServingMap::Find(
    absl::string_view model, std::optional<int64_t> version) const {
  const ModelEntry* entry = FindModel(model);
  if (entry == nullptr || entry->serving.empty()) {
    std::string why;
    if (entry != nullptr) why = " (no version of it loaded)";
    return absl::NotFoundError(absl::StrCat("Model '", model, "' is not being served", why,
                                            ". Available models: ", ServingModelNames()));
  }
  if (!version.has_value()) return entry->serving.rbegin()->second;
  auto it = entry->serving.find(*version);
  if (it != entry->serving.end()) return it->second;

  std::vector<int64_t> versions;
  for (const auto& [v, servable] : entry->serving) versions.push_back(v);
  std::string why;
  auto status = entry->versions.find(*version);
  if (status != entry->versions.end() && !status->second.error.ok()) {
    why = status->second.state == VersionState::kFailed
              ? absl::StrCat(" (it failed to load: ", status->second.error.message(), ")")
              : absl::StrCat(" (", status->second.error.message(), ")");
  }
  return absl::NotFoundError(absl::StrCat("Model '", model, "' version ", *version,
                                          " is not being served", why, ". Available versions: {",
                                          absl::StrJoin(versions, ", "), "}"));
}

}  // namespace q8::server
