// One q8serve.v1 call for a q8c command: send the request with the
// command's deadline, report an RPC error, print the response as text or,
// with --json, as JSON. `q8c signature` and `q8c graph` differ only in
// their request and their two printers.
#ifndef Q8SERVE_CLIENT_Q8SERVE_CALL_H_
#define Q8SERVE_CLIENT_Q8SERVE_CALL_H_

#include <iostream>
#include <string>

#include "absl/strings/string_view.h"
#include "client/args.h"
#include "client/call_args.h"
#include "client/rpc.h"
#include "q8serve/v1/q8serve.grpc.pb.h"

namespace q8::client {

template <typename Response>
struct ResponsePrinters {
  std::string (*json)(const Response&);    // One line, without the newline.
  std::string (*render)(const Response&);  // Newline-terminated lines.
};

// `method` is the blocking stub method, e.g. &Q8Serve::Stub::GetGraph;
// `rpc_name` names it in error messages. Returns the process exit code.
template <typename Request, typename Response>
int CallQ8Serve(const Args& args, const ModelCallArgs& call, absl::string_view rpc_name,
                grpc::Status (q8serve::v1::Q8Serve::Stub::*method)(grpc::ClientContext*,
                                                                   const Request&, Response*),
                const Request& request, ResponsePrinters<Response> printers) {
  auto stub = q8serve::v1::Q8Serve::NewStub(MakeChannel(call.target));
  grpc::ClientContext ctx;
  SetTimeout(ctx, call.timeout_ms);
  Response response;
  grpc::Status status = ((*stub).*method)(&ctx, request, &response);
  if (!status.ok()) return ReportRpcError(rpc_name, status);
  if (args.Has("json")) {
    std::cout << printers.json(response) << "\n";
  } else {
    std::cout << printers.render(response);
  }
  return kExitOk;
}

}  // namespace q8::client

#endif  // Q8SERVE_CLIENT_Q8SERVE_CALL_H_
