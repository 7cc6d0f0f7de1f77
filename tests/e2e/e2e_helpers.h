// Helpers shared by the end-to-end tests: bounded RPC contexts, tensor bytes, the
// digits example batch, and request builders for both wire APIs.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "client/npy.h"
#include "grpcpp/grpcpp.h"
#include "kserve/grpc_service.grpc.pb.h"
#include "tensorflow_serving/apis/prediction_service.grpc.pb.h"
#include "tests/common/test_env.h"
#include "tests/e2e/server_process.h"

namespace q8::e2e {

using namespace std::chrono_literals;

constexpr auto kReadyTimeout = 20s;
constexpr auto kRpcTimeout = 10s;
constexpr auto kExitTimeout = 10s;

inline std::string ServerBinary() { return q8::testing::EnvOr("Q8SERVE_BIN", ""); }
inline std::string Repository() { return q8::testing::SourceDir() + "/deploy/models"; }
inline std::string Examples() { return q8::testing::SourceDir() + "/deploy/examples/digits"; }

inline std::unique_ptr<grpc::ClientContext> Context() {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(std::chrono::system_clock::now() + kRpcTimeout);
  return context;
}

inline std::vector<float> AsFloats(const std::string& bytes) {
  std::vector<float> out(bytes.size() / sizeof(float));
  std::memcpy(out.data(), bytes.data(), out.size() * sizeof(float));
  return out;
}

inline std::vector<int> Argmax(const std::vector<float>& logits, int classes) {
  std::vector<int> out;
  for (size_t row = 0; row + classes <= logits.size(); row += classes) {
    out.push_back(
        static_cast<int>(std::max_element(logits.begin() + row, logits.begin() + row + classes) -
                         (logits.begin() + row)));
  }
  return out;
}

// Starts the q8serve under test on `repository`, on 127.0.0.1 with ports it picks, and
// waits (bounded) until it is ready. The channel to it, or null with the reason in *why.
inline std::shared_ptr<grpc::Channel> StartLoopbackServer(ServerProcess& server,
                                                          const std::string& repository,
                                                          std::string* why) {
  if (ServerBinary().empty()) {
    *why = "Q8SERVE_BIN is not set (run through ctest)";
    return nullptr;
  }
  if (!server.Start(ServerBinary(), {"--model-repository=" + repository, "--grpc-port=0",
                                     "--metrics-port=0", "--host=127.0.0.1"}) ||
      !server.WaitReady(kReadyTimeout)) {
    *why = server.error() + "\n" + server.log();
    return nullptr;
  }
  return grpc::CreateChannel(server.grpc_address(), grpc::InsecureChannelCredentials());
}

// deploy/examples/digits/batch4.npy: float32 [4,64], raw little-endian bytes.
inline std::string Batch4Bytes() {
  absl::StatusOr<client::HostTensor> t =
      client::ReadNpyFile(q8::testing::RequireFile(Examples() + "/batch4.npy"));
  EXPECT_TRUE(t.ok()) << t.status();
  if (!t.ok()) return "";
  EXPECT_EQ(t->dtype, "float32");
  EXPECT_EQ(t->shape, (std::vector<int64_t>{4, 64}));
  return t->data;
}

// The digits labels of batch4.npy (deploy/examples/digits/batch4_labels.json).
inline std::vector<int> Batch4Labels() { return {6, 2, 5, 1}; }

inline tensorflow::serving::PredictRequest TfRequest(const std::string& bytes, int64_t rows,
                                                     int64_t cols = 64) {
  tensorflow::serving::PredictRequest request;
  request.mutable_model_spec()->set_name("digits");
  tensorflow::TensorProto& images = (*request.mutable_inputs())["images"];
  images.set_dtype(tensorflow::DT_FLOAT);
  images.mutable_tensor_shape()->add_dim()->set_size(rows);
  images.mutable_tensor_shape()->add_dim()->set_size(cols);
  images.set_tensor_content(bytes);
  return request;
}

inline inference::ModelInferRequest KServeRequest(const std::string& bytes, int64_t rows,
                                                  int64_t cols = 64) {
  inference::ModelInferRequest request;
  request.set_model_name("digits");
  auto* input = request.add_inputs();
  input->set_name("images");
  input->set_datatype("FP32");
  input->add_shape(rows);
  input->add_shape(cols);
  request.add_raw_input_contents(bytes);
  return request;
}

}  // namespace q8::e2e
