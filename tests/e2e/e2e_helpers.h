// Helpers shared by the end-to-end tests: bounded RPC contexts, tensor bytes, the
// digits example batch, and request builders for both wire APIs.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

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

// Starts the q8serve under test on 127.0.0.1 with ports it picks, `args` added to
// --model-repository=`repository`, and waits (bounded) until it is ready. The channel to
// it, or null with the reason in *why.
inline std::shared_ptr<grpc::Channel> StartServerWith(ServerProcess& server,
                                                      const std::string& repository,
                                                      const std::vector<std::string>& args,
                                                      std::string* why) {
  if (ServerBinary().empty()) {
    *why = "Q8SERVE_BIN is not set (run through ctest)";
    return nullptr;
  }
  std::vector<std::string> all = {"--model-repository=" + repository, "--grpc-port=0",
                                  "--metrics-port=0", "--host=127.0.0.1"};
  all.insert(all.end(), args.begin(), args.end());
  if (!server.Start(ServerBinary(), all) || !server.WaitReady(kReadyTimeout)) {
    *why = server.error() + "\n" + server.log();
    return nullptr;
  }
  return grpc::CreateChannel(server.grpc_address(), grpc::InsecureChannelCredentials());
}

// A channel of its own (its own connection): gRPC shares one connection between channels
// with equal arguments unless each keeps a local subchannel pool.
inline std::shared_ptr<grpc::Channel> OwnChannel(const std::string& address) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  args.SetMaxReceiveMessageSize(-1);
  args.SetMaxSendMessageSize(-1);
  return grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args);
}

// OwnChannel, connected before it is returned (null if not within 10 s): for tests about
// what the server does with calls, not about connecting. gRPC 1.51 reports about 1 in 100
// of many simultaneous first connects to a listening loopback server as failed (client/rpc.h,
// ConnectChannel), and calls on such a channel fail at once until its backoff passes.
inline std::shared_ptr<grpc::Channel> ConnectedChannel(const std::string& address) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetMaxReceiveMessageSize(-1);
  args.SetMaxSendMessageSize(-1);
  auto channel = grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args);
  if (!channel->WaitForConnected(std::chrono::system_clock::now() + std::chrono::seconds(10))) {
    return nullptr;
  }
  return channel;
}

// Waits (bounded) until `done()` holds; false if `timeout` passed first.
template <typename Done>
bool WaitFor(Done done, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

// Sum of the samples of `metric` (exactly that name) whose label set contains every one
// of `labels` (e.g. status="OK"), from Prometheus text exposition; -1 if none matches.
inline double SumMetric(const std::string& text, const std::string& metric,
                        const std::vector<std::string>& labels) {
  double sum = 0;
  bool found = false;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    const bool bare = line.rfind(metric + " ", 0) == 0;
    if (!bare && line.rfind(metric + "{", 0) != 0) continue;
    if (!std::all_of(labels.begin(), labels.end(),
                     [&](const std::string& l) { return line.find(l) != std::string::npos; })) {
      continue;
    }
    sum += std::stod(line.substr(line.rfind(' ') + 1));
    found = true;
  }
  return found ? sum : -1;
}

// A temporary model repository, removed with its object.
class TempRepository {
 public:
  TempRepository() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "q8serve_e2e_repo_XXXXXX").string();
    path_ = mkdtemp(pattern.data()) != nullptr ? pattern : "";
  }
  ~TempRepository() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  TempRepository(const TempRepository&) = delete;
  TempRepository& operator=(const TempRepository&) = delete;

  const std::string& path() const { return path_; }
  // Copies `file` to <repository>/<model>/<version>/model.onnx.
  void AddModel(const std::string& model, int version, const std::string& file) const {
    const std::filesystem::path dir =
        std::filesystem::path(path_) / model / std::to_string(version);
    std::filesystem::create_directories(dir);
    std::filesystem::copy_file(q8::testing::RequireFile(file), dir / "model.onnx");
  }
  // Writes <repository>/<model>/config.pbtxt.
  void AddConfig(const std::string& model, const std::string& text) const {
    const std::filesystem::path dir = std::filesystem::path(path_) / model;
    std::filesystem::create_directories(dir);
    std::ofstream(dir / "config.pbtxt") << text;
  }

 private:
  std::string path_;
};

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
