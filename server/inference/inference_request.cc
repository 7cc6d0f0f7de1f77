#include "server/inference/inference_request.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace q8::server {

absl::Status InferenceRequest::AddInput(std::string name, engine::Tensor tensor) {
  if (inputs.contains(name)) {
    return absl::InvalidArgumentError(absl::StrCat("input '", name, "' is sent more than once"));
  }
  engine::TensorView view{tensor.dtype(), tensor.shape(), tensor.data()};
  storage.push_back(std::move(tensor));
  inputs.emplace(std::move(name), std::move(view));
  return absl::OkStatus();
}

}  // namespace q8::server
