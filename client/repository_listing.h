// Text of the model-repository RPCs for `q8c status` and `q8c reload`: one block per
// model (its version policy, any config error, a table of versions with state and
// reason), and for a reload, the table of what changed. --json prints the responses
// with protobuf's JSON mapping instead (field names as in the proto).
#ifndef Q8SERVE_CLIENT_REPOSITORY_LISTING_H_
#define Q8SERVE_CLIENT_REPOSITORY_LISTING_H_

#include <string>

#include "q8serve/v1/q8serve.pb.h"

namespace q8::client {

std::string RenderModelStatus(const q8serve::v1::GetModelStatusResponse& status);
std::string RenderReload(const q8serve::v1::ReloadRepositoryResponse& reload);

// One line of JSON, proto field names.
std::string ModelStatusToJson(const q8serve::v1::GetModelStatusResponse& status);
std::string ReloadToJson(const q8serve::v1::ReloadRepositoryResponse& reload);

// True when the reload reported a failed change (`q8c reload` then exits 1).
bool ReloadHadFailures(const q8serve::v1::ReloadRepositoryResponse& reload);

}  // namespace q8::client

#endif  // Q8SERVE_CLIENT_REPOSITORY_LISTING_H_
