// Model repository operations against the real q8serve binary on 127.0.0.1:
//  - new versions swapped in by the ReloadRepository RPC, three times, while client
//    threads send Predict back to back: no request fails, and every request sent after a
//    reload answered is served by the new version (renamed int8 forms borrowing the
//    names of the float version below them, which then stops serving);
//  - a broken version keeps the old one serving and is reported FAILED, with the reason,
//    by GetModelStatus, KServe ModelReady (trailing metadata) and /metrics;
//  - --repository-poll-secs picks a new version up without any RPC, and q8c status and
//    q8c reload show it.
// Every wait is bounded; a deadline is a give-up point, never the thing measured.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <mutex>
#include <thread>

#include "absl/strings/str_cat.h"
#include "q8serve/v1/q8serve.grpc.pb.h"
#include "tests/common/run_tool.h"
#include "tests/e2e/e2e_helpers.h"
#include "tests/e2e/server_process.h"

namespace q8::e2e {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
namespace fs = std::filesystem;

// A temporary repository, removed at the end.
class TempRepository {
 public:
  TempRepository() {
    std::string pattern = (fs::temp_directory_path() / "q8serve-reload-e2e-XXXXXX").string();
    path_ = mkdtemp(pattern.data()) != nullptr ? pattern : "";
    EXPECT_FALSE(path_.empty());
  }
  ~TempRepository() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

  // Copies `model` in as <model_name>/<version>/model.onnx the safe way: under a hidden
  // name first, then one rename, so no scan sees a half-written file.
  void AddVersion(const std::string& model_name, int version, const std::string& model) const {
    const fs::path hidden = fs::path(path_) / model_name / (".incoming-" + std::to_string(version));
    fs::create_directories(hidden);
    fs::copy_file(q8::testing::RequireFile(model), hidden / "model.onnx");
    fs::rename(hidden, fs::path(path_) / model_name / std::to_string(version));
  }
  void Write(const std::string& relative, const std::string& text) const {
    fs::create_directories((fs::path(path_) / relative).parent_path());
    std::ofstream(fs::path(path_) / relative) << text;
  }

 private:
  std::string path_;
};

std::string FloatDigits() { return Examples() + "/model_float.onnx"; }
std::string RenamedInt8Digits() {
  return q8::testing::SourceDir() + "/tests/fixtures/signature/digits_uint8_io.onnx";
}

std::shared_ptr<grpc::Channel> Start(ServerProcess& server, const std::string& repository,
                                     std::vector<std::string> extra = {}) {
  std::vector<std::string> args = {"--model-repository=" + repository, "--grpc-port=0",
                                   "--metrics-port=0", "--host=127.0.0.1"};
  args.insert(args.end(), extra.begin(), extra.end());
  EXPECT_FALSE(ServerBinary().empty()) << "Q8SERVE_BIN is not set (run through ctest)";
  if (ServerBinary().empty() || !server.Start(ServerBinary(), args) ||
      !server.WaitReady(kReadyTimeout)) {
    ADD_FAILURE() << server.error() << "\n" << server.log();
    return nullptr;
  }
  return grpc::CreateChannel(server.grpc_address(), grpc::InsecureChannelCredentials());
}

// Waits (bounded) until `done()` holds; false if `timeout` passed first.
template <typename Done>
bool WaitFor(Done done, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

q8serve::v1::GetModelStatusResponse ModelStatus(const std::shared_ptr<grpc::Channel>& channel) {
  q8serve::v1::GetModelStatusRequest request;
  request.set_model_name("digits");
  q8serve::v1::GetModelStatusResponse response;
  grpc::Status status =
      q8serve::v1::Q8Serve::NewStub(channel)->GetModelStatus(Context().get(), request, &response);
  EXPECT_TRUE(status.ok()) << status.error_message();
  return response;
}

std::string VersionState(const q8serve::v1::GetModelStatusResponse& status, int64_t version) {
  for (const auto& model : status.models()) {
    for (const auto& v : model.versions()) {
      if (v.version() == version) return v.state();
    }
  }
  return "";
}

TEST(ReloadE2eTest, VersionSwapsUnderLoadFailNoRequest) {
  TempRepository repo;
  repo.AddVersion("digits", 1, FloatDigits());
  ServerProcess server;
  std::shared_ptr<grpc::Channel> channel = Start(server, repo.path());
  ASSERT_NE(channel, nullptr);

  const std::string batch = Batch4Bytes();
  constexpr int kClients = 4;
  constexpr int kLastVersion = 4;
  std::atomic<bool> stop{false};
  // The version every request sent from now on must get: raised once a reload answered.
  std::atomic<int64_t> min_version{1};
  std::atomic<int> ok{0}, failed{0}, wrong_labels{0}, stale{0};
  std::array<std::atomic<int>, kLastVersion + 1> by_version{};
  std::string first_error;
  std::mutex error_mu;
  std::vector<std::thread> clients;
  for (int i = 0; i < kClients; ++i) {
    clients.emplace_back([&] {
      // One channel per client: each has its own connection, as separate clients would.
      auto stub = tensorflow::serving::PredictionService::NewStub(
          grpc::CreateChannel(server.grpc_address(), grpc::InsecureChannelCredentials()));
      const tensorflow::serving::PredictRequest request = TfRequest(batch, 4);
      while (!stop.load()) {
        const int64_t at_least = min_version.load();
        tensorflow::serving::PredictResponse response;
        grpc::Status status = stub->Predict(Context().get(), request, &response);
        if (!status.ok()) {
          ++failed;
          std::lock_guard<std::mutex> lock(error_mu);
          if (first_error.empty()) first_error = status.error_message();
          continue;
        }
        ++ok;
        const int64_t version = response.model_spec().version().value();
        if (version >= 1 && version <= kLastVersion) ++by_version[version];
        if (version < at_least) ++stale;
        if (Argmax(AsFloats(response.outputs().at("logits").tensor_content()), 10) !=
            Batch4Labels()) {
          ++wrong_labels;
        }
      }
    });
  }
  auto wait_for_requests = [&](int more) {
    const int target = ok.load() + more;
    EXPECT_TRUE(WaitFor([&] { return ok.load() >= target || failed.load() > 0; }, kRpcTimeout));
  };
  wait_for_requests(50);  // load is on before the first swap

  // Three swaps while the clients run: the renamed int8 form, the float form, int8 again.
  auto stub = q8serve::v1::Q8Serve::NewStub(channel);
  for (int64_t v = 2; v <= kLastVersion; ++v) {
    repo.AddVersion("digits", static_cast<int>(v),
                    v % 2 == 0 ? RenamedInt8Digits() : FloatDigits());
    q8serve::v1::ReloadRepositoryResponse reload;
    grpc::Status status = stub->ReloadRepository(Context().get(), {}, &reload);
    min_version = v;
    ASSERT_TRUE(status.ok()) << status.error_message();
    ASSERT_EQ(reload.changes_size(), 2) << reload.DebugString();
    EXPECT_EQ(reload.changes(0).version(), v);
    EXPECT_EQ(reload.changes(0).change(), "loaded");
    EXPECT_EQ(reload.changes(1).version(), v - 1);
    EXPECT_EQ(reload.changes(1).change(), "unloaded");
    wait_for_requests(50);  // the load stays on after each swap
  }
  stop = true;
  for (std::thread& t : clients) t.join();

  std::cout << "swaps under load: " << ok.load() << " ok, " << failed.load() << " failed; by "
            << "version 1..4: " << by_version[1] << ", " << by_version[2] << ", " << by_version[3]
            << ", " << by_version[4] << "\n";
  EXPECT_EQ(failed.load(), 0) << first_error;
  for (int v = 1; v <= kLastVersion; ++v) EXPECT_GT(by_version[v].load(), 0) << "version " << v;
  EXPECT_EQ(stale.load(), 0) << "a request sent after a reload answered ran on an older version";
  EXPECT_EQ(wrong_labels.load(), 0) << "every version classifies the batch correctly";

  // The old versions left the map; once their last requests ended they were freed (logged).
  EXPECT_EQ(VersionState(ModelStatus(channel), 1), "unloaded");
  EXPECT_TRUE(WaitFor(
      [&] {
        const std::string log = server.log();
        for (int v = 1; v < kLastVersion; ++v) {
          if (log.find(absl::StrCat("model digits version ", v, ": unloaded")) ==
              std::string::npos) {
            return false;
          }
        }
        return true;
      },
      kRpcTimeout))
      << server.log();
  // v4 (renamed int8) took its names from v3, which no longer serves now.
  q8serve::v1::GetSignatureRequest sig_request;
  sig_request.set_model_name("digits");
  q8serve::v1::GetSignatureResponse sig;
  ASSERT_TRUE(stub->GetSignature(Context().get(), sig_request, &sig).ok());
  EXPECT_EQ(sig.version(), 4);
  EXPECT_EQ(sig.inputs(0).source(), "version 3");
  EXPECT_EQ(sig.inputs(0).tensor_name(), "images_QuantizeLinear_Output");
  stub.reset();
  channel.reset();  // an open channel would hold the graceful drain until its grace ends
  EXPECT_EQ(server.Stop(SIGTERM, kExitTimeout), std::optional<int>(0)) << server.log();
}

std::string TrailingValue(const grpc::ClientContext& context, const std::string& key) {
  const auto& metadata = context.GetServerTrailingMetadata();
  auto it = metadata.find(key);
  return it == metadata.end() ? "" : std::string(it->second.data(), it->second.size());
}

TEST(ReloadE2eTest, ABrokenVersionKeepsTheOldOneServingAndIsReportedFailed) {
  TempRepository repo;
  repo.AddVersion("digits", 1, FloatDigits());
  ServerProcess server;
  std::shared_ptr<grpc::Channel> channel = Start(server, repo.path());
  ASSERT_NE(channel, nullptr);

  repo.Write("digits/2/model.onnx", "this is not an ONNX model");
  q8serve::v1::ReloadRepositoryResponse reload;
  ASSERT_TRUE(
      q8serve::v1::Q8Serve::NewStub(channel)->ReloadRepository(Context().get(), {}, &reload).ok());
  ASSERT_EQ(reload.changes_size(), 1) << reload.DebugString();
  EXPECT_EQ(reload.changes(0).change(), "failed");
  EXPECT_THAT(reload.changes(0).reason(), HasSubstr("digits/2/model.onnx"));

  // Predict still answers, from version 1.
  tensorflow::serving::PredictResponse response;
  ASSERT_TRUE(tensorflow::serving::PredictionService::NewStub(channel)
                  ->Predict(Context().get(), TfRequest(Batch4Bytes(), 4), &response)
                  .ok());
  EXPECT_EQ(response.model_spec().version().value(), 1);

  // Our status RPC: FAILED with the reason.
  q8serve::v1::GetModelStatusResponse status = ModelStatus(channel);
  ASSERT_EQ(status.models_size(), 1);
  ASSERT_EQ(status.models(0).versions_size(), 2);
  EXPECT_EQ(status.models(0).versions(0).state(), "available");
  EXPECT_EQ(status.models(0).versions(1).state(), "failed");
  EXPECT_THAT(status.models(0).versions(1).reason(), HasSubstr("digits/2/model.onnx"));

  // KServe: the model is ready, version 2 is not, and says why.
  auto kserve = inference::GRPCInferenceService::NewStub(channel);
  inference::ModelReadyRequest ready_request;
  ready_request.set_name("digits");
  inference::ModelReadyResponse ready;
  ASSERT_TRUE(kserve->ModelReady(Context().get(), ready_request, &ready).ok());
  EXPECT_TRUE(ready.ready());
  ready_request.set_version("2");
  auto context = Context();
  ASSERT_TRUE(kserve->ModelReady(context.get(), ready_request, &ready).ok());
  EXPECT_FALSE(ready.ready());
  EXPECT_EQ(TrailingValue(*context, "q8serve-version-state"), "failed");
  EXPECT_THAT(TrailingValue(*context, "q8serve-version-reason-bin"), HasSubstr("model.onnx"));

  const std::string metrics = HttpGet(server.metrics_port(), "/metrics");
  EXPECT_THAT(metrics, AllOf(HasSubstr("q8serve_model_load_failures_total{model=\"digits\","
                                       "version=\"2\"} 1"),
                             HasSubstr("q8serve_model_state{model=\"digits\",state=\"failed\","
                                       "version=\"2\"} 1"),
                             HasSubstr("q8serve_model_state{model=\"digits\",state=\"available\","
                                       "version=\"1\"} 1")));
  // And the log: an error naming the model, version, file and reason.
  EXPECT_THAT(server.log(),
              AllOf(HasSubstr("[error] model digits version 2: failed to load"),
                    HasSubstr("digits/2/model.onnx")));
  context.reset();  // it holds the channel too
  kserve.reset();
  channel.reset();  // an open channel would hold the graceful drain until its grace ends
  EXPECT_EQ(server.Stop(SIGTERM, kExitTimeout), std::optional<int>(0)) << server.log();
}

std::string RunQ8c(const std::string& args, int* code) {
  return q8::testing::RunTool("Q8C_BIN", args, q8::testing::Stderr::kMerged, code);
}

TEST(ReloadE2eTest, ThePollPicksUpANewVersionAndQ8cShowsIt) {
  TempRepository repo;
  repo.AddVersion("digits", 1, FloatDigits());
  ServerProcess server;
  std::shared_ptr<grpc::Channel> channel = Start(server, repo.path(), {"--repository-poll-secs=1"});
  ASSERT_NE(channel, nullptr);

  repo.AddVersion("digits", 2, FloatDigits());
  // Bounded: the poll runs every second; 20 s is the give-up point.
  EXPECT_TRUE(WaitFor([&] { return VersionState(ModelStatus(channel), 2) == "available"; },
                      std::chrono::seconds(20)))
      << server.log();
  EXPECT_EQ(VersionState(ModelStatus(channel), 1), "unloaded");

  const std::string target = "--target=" + server.grpc_address() + " --timeout-ms=10000";
  int code = -1;
  const std::string status = RunQ8c("status --model=digits " + target, &code);
  EXPECT_EQ(code, 0) << status;
  EXPECT_THAT(status,
              AllOf(HasSubstr("digits  (version policy: latest 1)"), HasSubstr("available"),
                    HasSubstr("unloaded"), HasSubstr("outside the version policy (latest 1)")));

  // A config that keeps every version: q8c reload applies it at once.
  repo.Write("digits/config.pbtxt", "version_policy { all {} }\n");
  const std::string reload = RunQ8c("reload " + target, &code);
  // The poll may have applied it first; either way both versions end up serving.
  EXPECT_EQ(code, 0) << reload;
  EXPECT_THAT(reload, HasSubstr("(version policy: all)"));
  EXPECT_TRUE(WaitFor([&] { return VersionState(ModelStatus(channel), 1) == "available"; },
                      std::chrono::seconds(20)));
  channel.reset();  // an open channel would hold the graceful drain until its grace ends
  EXPECT_EQ(server.Stop(SIGTERM, kExitTimeout), std::optional<int>(0)) << server.log();
}

}  // namespace
}  // namespace q8::e2e
