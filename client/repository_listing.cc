#include "client/repository_listing.h"

#include <google/protobuf/util/json_util.h>

#include "absl/strings/str_cat.h"
#include "client/text_table.h"

namespace q8::client {
namespace {

template <typename Models>
std::string RenderModels(const Models& models) {
  std::string out;
  for (const q8serve::v1::ModelStatus& model : models) {
    absl::StrAppend(&out, model.model_name(), "  (version policy: ", model.version_policy(), ")\n");
    if (!model.error().empty()) absl::StrAppend(&out, "  ERROR: ", model.error(), "\n");
    TextTable table({"VERSION", "STATE", "REASON", "PATH"});
    for (const q8serve::v1::ModelVersionStatus& v : model.versions()) {
      table.AddRow({absl::StrCat(v.version()), v.state(), OrDash(v.reason()), v.path()});
    }
    if (model.versions().empty()) {
      absl::StrAppend(&out, "  (no version directories)\n");
    } else {
      absl::StrAppend(&out, table.Render("  "));
    }
  }
  if (models.empty()) out = "(no models)\n";
  return out;
}

std::string ToJson(const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  options.always_print_primitive_fields = true;
  std::string out;
  if (!google::protobuf::util::MessageToJsonString(message, &out, options).ok()) return "{}";
  return out;
}

}  // namespace

std::string RenderModelStatus(const q8serve::v1::GetModelStatusResponse& status) {
  return RenderModels(status.models());
}

std::string RenderReload(const q8serve::v1::ReloadRepositoryResponse& reload) {
  std::string out;
  if (reload.changes().empty()) {
    out = "CHANGES: none\n";
  } else {
    TextTable table({"MODEL", "VERSION", "CHANGE", "REASON"});
    for (const q8serve::v1::VersionChange& c : reload.changes()) {
      table.AddRow({c.model_name(), c.version() > 0 ? absl::StrCat(c.version()) : "config",
                    c.change(), OrDash(c.reason())});
    }
    out = absl::StrCat("CHANGES\n", table.Render("  "));
  }
  absl::StrAppend(&out, "\n", RenderModels(reload.models()));
  return out;
}

std::string ModelStatusToJson(const q8serve::v1::GetModelStatusResponse& status) {
  return ToJson(status);
}

std::string ReloadToJson(const q8serve::v1::ReloadRepositoryResponse& reload) {
  return ToJson(reload);
}

bool ReloadHadFailures(const q8serve::v1::ReloadRepositoryResponse& reload) {
  for (const q8serve::v1::VersionChange& c : reload.changes()) {
    if (c.change() == "failed") return true;
  }
  return false;
}

}  // namespace q8::client
