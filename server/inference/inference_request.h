// The request and response types both wire APIs are decoded into: tensors named by
// their signature's logical names, independent of TF Serving or KServe messages.
//
// Not thread-safe (plain values owned by one handler).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "engine/engine.h"
#include "server/metrics/metrics.h"

namespace q8::server {

struct InferenceRequest {
  std::string model_name;
  std::optional<int64_t> version;  // nullopt = latest serving version
  std::string signature_name;      // "" = serving_default
  Api api = Api::kTfServing;       // the wire API, for metrics

  // When the client stops waiting (its gRPC deadline). A request still queued then is
  // answered DEADLINE_EXCEEDED without running. InfiniteFuture: no deadline.
  absl::Time deadline = absl::InfiniteFuture();

  // Logical input name → tensor. Views point either into `storage` or into buffers the
  // caller keeps alive until the request is answered.
  std::map<std::string, engine::TensorView, std::less<>> inputs;
  // Owned decoded buffers. engine::Tensor keeps its data on the heap, so views stay
  // valid when this vector grows.
  std::vector<engine::Tensor> storage;

  // Logical output names to return, in this order; empty = every output of the
  // signature in signature order.
  std::vector<std::string> output_names;

  // Takes ownership of `tensor` and binds it to input `name`. INVALID_ARGUMENT if the
  // name was already bound (KServe lets a request list an input twice).
  absl::Status AddInput(std::string name, engine::Tensor tensor);
};

struct NamedTensor {
  std::string name;  // logical output name
  engine::Tensor tensor;
};

struct InferenceResponse {
  std::string model_name;
  int64_t version = 0;               // the version that answered
  std::string signature_name;        // the signature that answered
  std::vector<NamedTensor> outputs;  // requested order (or signature order)
};

}  // namespace q8::server
