#include "client/rpc.h"

#include <chrono>
#include <iostream>

#include "absl/strings/str_cat.h"

namespace q8::client {

std::shared_ptr<grpc::Channel> MakeChannel(const std::string& target, bool own_connection) {
  grpc::ChannelArguments args;
  if (own_connection) args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  args.SetMaxReceiveMessageSize(-1);
  args.SetMaxSendMessageSize(-1);
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, kReconnectBackoffMs);
  return grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), args);
}

absl::Status ConnectChannel(grpc::Channel& channel, const std::string& target,
                            int64_t timeout_ms) {
  if (channel.WaitForConnected(std::chrono::system_clock::now() +
                               std::chrono::milliseconds(timeout_ms))) {
    return absl::OkStatus();
  }
  const char* state = "IDLE";
  switch (channel.GetState(false)) {
    case GRPC_CHANNEL_CONNECTING: state = "CONNECTING"; break;
    case GRPC_CHANNEL_READY: state = "READY"; break;
    case GRPC_CHANNEL_TRANSIENT_FAILURE: state = "TRANSIENT_FAILURE"; break;
    case GRPC_CHANNEL_SHUTDOWN: state = "SHUTDOWN"; break;
    default: break;
  }
  return absl::UnavailableError(absl::StrCat("cannot connect to ", target, " within ",
                                             timeout_ms, " ms (channel state ", state, ")"));
}

void SetTimeout(grpc::ClientContext& ctx, int64_t timeout_ms) {
  if (timeout_ms > 0) {
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(timeout_ms));
  }
}

absl::string_view StatusCodeName(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK:
      return "OK";
    case grpc::StatusCode::CANCELLED:
      return "CANCELLED";
    case grpc::StatusCode::UNKNOWN:
      return "UNKNOWN";
    case grpc::StatusCode::INVALID_ARGUMENT:
      return "INVALID_ARGUMENT";
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return "DEADLINE_EXCEEDED";
    case grpc::StatusCode::NOT_FOUND:
      return "NOT_FOUND";
    case grpc::StatusCode::ALREADY_EXISTS:
      return "ALREADY_EXISTS";
    case grpc::StatusCode::PERMISSION_DENIED:
      return "PERMISSION_DENIED";
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return "RESOURCE_EXHAUSTED";
    case grpc::StatusCode::FAILED_PRECONDITION:
      return "FAILED_PRECONDITION";
    case grpc::StatusCode::ABORTED:
      return "ABORTED";
    case grpc::StatusCode::OUT_OF_RANGE:
      return "OUT_OF_RANGE";
    case grpc::StatusCode::UNIMPLEMENTED:
      return "UNIMPLEMENTED";
    case grpc::StatusCode::INTERNAL:
      return "INTERNAL";
    case grpc::StatusCode::UNAVAILABLE:
      return "UNAVAILABLE";
    case grpc::StatusCode::DATA_LOSS:
      return "DATA_LOSS";
    case grpc::StatusCode::UNAUTHENTICATED:
      return "UNAUTHENTICATED";
    default:
      return "UNKNOWN_CODE";
  }
}

int ReportRpcError(absl::string_view rpc, const grpc::Status& status) {
  std::cerr << "q8c: " << rpc << " failed: " << StatusCodeName(status.error_code()) << ": "
            << status.error_message() << "\n";
  return kExitFailure;
}

}  // namespace q8::client
