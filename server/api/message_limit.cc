#include "server/api/message_limit.h"

#include <algorithm>
#include <limits>

#include "absl/strings/str_cat.h"

namespace q8::server {

absl::Status CheckMessageSize(const google::protobuf::Message& message, int64_t limit,
                              absl::string_view what) {
  const size_t size = message.ByteSizeLong();
  if (static_cast<int64_t>(size) <= limit) return absl::OkStatus();
  return absl::ResourceExhaustedError(absl::StrCat(
      what, " is ", size, " bytes, over this server's limit of ", limit,
      " bytes (--max-message-bytes); send fewer rows per call or start the server with a "
      "larger --max-message-bytes"));
}

int GrpcHardMessageLimit(int64_t limit) {
  return static_cast<int>(std::min<int64_t>(2 * limit, std::numeric_limits<int32_t>::max()));
}

}  // namespace q8::server
