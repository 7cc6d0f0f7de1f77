// The model repository over time, on the real digits model: version policies, reloads
// that add, fail, change and remove versions, the unload of a version only after its
// last holder lets go, serialised concurrent reloads, and the periodic rescan.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <thread>

#include "absl/synchronization/notification.h"
#include "prometheus/text_serializer.h"
#include "server/api/q8serve_service.h"
#include "server/inference/predict_core.h"
#include "server/repository/model_repository.h"
#include "tests/server/digits_fixture.h"

namespace q8::server {
namespace {

using ::testing::AllOf;
using testing::DigitsModel;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::TempDir;

std::string MetricsText(Metrics& metrics) {
  return prometheus::TextSerializer().Serialize(metrics.registry().Collect());
}

std::unique_ptr<ModelRepository> Open(const TempDir& dir, Metrics* metrics = nullptr,
                                      std::chrono::milliseconds poll = {}) {
  absl::StatusOr<std::unique_ptr<ModelRepository>> repo =
      ModelRepository::Create({.root = dir.path(), .load = {}, .poll_interval = poll}, metrics);
  EXPECT_TRUE(repo.ok()) << repo.status();
  return repo.ok() ? *std::move(repo) : nullptr;
}

std::vector<int64_t> Serving(const ModelRepository& repo, const std::string& model) {
  std::vector<int64_t> out;
  const ModelEntry* entry = repo.Snapshot()->FindModel(model);
  if (entry != nullptr) {
    for (const auto& [v, servable] : entry->serving) out.push_back(v);
  }
  return out;
}

const VersionStatus& Status(const ModelRepository& repo, const std::string& model, int64_t v) {
  static const VersionStatus kMissing;
  const ModelEntry* entry = repo.Snapshot()->FindModel(model);
  if (entry == nullptr || !entry->versions.count(v)) return kMissing;
  return entry->versions.at(v);  // the map outlives this call: the repository keeps it
}

std::vector<std::string> Changes(const ReloadReport& report) {
  std::vector<std::string> out;
  for (const VersionChange& c : report.changes) {
    out.push_back(absl::StrCat(c.model, "/", c.version, " ", ChangeKindName(c.kind)));
  }
  return out;
}

// Copies a version in the way operators should: under a hidden name, then renamed, so a
// concurrent scan never sees half a file.
void AddVersion(const TempDir& dir, const std::string& model, int64_t v,
                const std::string& source) {
  const std::string hidden = absl::StrCat(model, "/.incoming-", v);
  dir.Copy(source, hidden + "/model.onnx");
  std::filesystem::rename(std::filesystem::path(dir.path()) / hidden,
                          std::filesystem::path(dir.path()) / model / std::to_string(v));
}

TEST(RepositoryReloadTest, DefaultPolicyServesOnlyTheLatestVersion) {
  TempDir dir;
  dir.Copy(DigitsModel(), "digits/1/model.onnx");
  dir.Copy(DigitsModel(), "digits/2/model.onnx");
  Metrics metrics;
  auto repo = Open(dir, &metrics);
  ASSERT_NE(repo, nullptr);
  EXPECT_THAT(Serving(*repo, "digits"), ElementsAre(2));
  const VersionStatus& v1 = Status(*repo, "digits", 1);
  EXPECT_EQ(v1.state, VersionState::kUnloaded);
  EXPECT_THAT(v1.error.message(), HasSubstr("outside the version policy (latest 1)"));
  absl::StatusOr<std::shared_ptr<const Servable>> old = repo->Snapshot()->Find("digits", 1);
  EXPECT_THAT(old.status().message(), HasSubstr("outside the version policy (latest 1)"));
  EXPECT_THAT(
      MetricsText(metrics),
      HasSubstr("q8serve_model_state{model=\"digits\",state=\"unloaded\",version=\"1\"} 1"));
}

TEST(RepositoryReloadTest, PolicyLatestNSpecificAndAll) {
  struct Case {
    const char* policy;
    std::vector<int64_t> serving;
  };
  for (const Case& c : std::vector<Case>{{"latest { num_versions: 2 }", {2, 3}},
                                         {"specific { versions: [1, 3] }", {1, 3}},
                                         {"all {}", {1, 2, 3}}}) {
    TempDir dir;
    for (int v : {1, 2, 3}) dir.Copy(DigitsModel(), absl::StrCat("digits/", v, "/model.onnx"));
    dir.Write("digits/config.pbtxt", absl::StrCat("version_policy { ", c.policy, " }"));
    auto repo = Open(dir);
    ASSERT_NE(repo, nullptr);
    EXPECT_EQ(Serving(*repo, "digits"), c.serving) << c.policy;
    EXPECT_TRUE(repo->Snapshot()->Find("digits", std::nullopt).ok());
  }
}

TEST(RepositoryReloadTest, LatestFallsBackToAnOlderVersionWhenTheNewestFails) {
  TempDir dir;
  dir.Copy(DigitsModel(), "digits/1/model.onnx");
  dir.Write("digits/2/model.onnx", "not a model");
  auto repo = Open(dir);
  ASSERT_NE(repo, nullptr);
  EXPECT_THAT(Serving(*repo, "digits"), ElementsAre(1));
  EXPECT_EQ(Status(*repo, "digits", 2).state, VersionState::kFailed);
}

TEST(RepositoryReloadTest, ModelFileAndConfigFromConfigPbtxt) {
  TempDir dir;
  dir.Copy(DigitsModel(), "digits/1/digits-int8.onnx");
  dir.Write("digits/config.pbtxt",
            "model_file: \"digits-int8.onnx\"\n"
            "signature_file: \"names.pbtxt\"\n");
  dir.Write("digits/names.pbtxt",
            "signatures { name: \"classify\" inputs { name: \"pixels\" tensor: \"images\" } "
            "outputs { name: \"scores\" tensor: \"logits\" } }");
  auto repo = Open(dir);
  ASSERT_NE(repo, nullptr);
  absl::StatusOr<std::shared_ptr<const Servable>> servable =
      repo->Snapshot()->Find("digits", std::nullopt);
  ASSERT_TRUE(servable.ok()) << servable.status();
  EXPECT_EQ((*servable)->path, dir.path() + "/digits/1/digits-int8.onnx");
  EXPECT_EQ((*servable)->config.model_file(), "digits-int8.onnx");
  EXPECT_EQ((*servable)->default_signature, "classify");
  EXPECT_EQ((*servable)->FindSignature("")->FindInput("pixels")->source, "names.pbtxt");
}

TEST(RepositoryReloadTest, NewVersionSwapsInAndTheOldUnloadsAfterItsLastHolder) {
  TempDir dir;
  dir.Copy(DigitsModel(), "digits/1/model.onnx");
  Metrics metrics;
  auto repo = Open(dir, &metrics);
  ASSERT_NE(repo, nullptr);
  // A request in flight on version 1 holds its servable.
  absl::StatusOr<std::shared_ptr<const Servable>> held = repo->Snapshot()->Find("digits", 1);
  ASSERT_TRUE(held.ok());
  std::weak_ptr<const Servable> v1 = *held;

  AddVersion(dir, "digits", 2, DigitsModel());
  absl::StatusOr<ReloadReport> report = repo->Reload();
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_THAT(Changes(*report), ElementsAre("digits/2 loaded", "digits/1 unloaded"));
  EXPECT_THAT(Serving(*repo, "digits"), ElementsAre(2));
  EXPECT_EQ((*repo->Snapshot()->Find("digits", std::nullopt))->version, 2);
  EXPECT_EQ(Status(*repo, "digits", 1).state, VersionState::kUnloaded);

  EXPECT_FALSE(v1.expired()) << "the in-flight request still runs on version 1";
  EXPECT_EQ((*held)->version, 1);
  held->reset();
  EXPECT_TRUE(v1.expired()) << "version 1 is freed when its last request ends";
  EXPECT_THAT(
      MetricsText(metrics),
      AllOf(
          HasSubstr("q8serve_model_state{model=\"digits\",state=\"unloaded\",version=\"1\"} 1"),
          HasSubstr("q8serve_model_state{model=\"digits\",state=\"available\",version=\"2\"} 1")));

  // Nothing changed on disk: nothing happens, the same servable keeps serving.
  std::shared_ptr<const Servable> v2 = *repo->Snapshot()->Find("digits", 2);
  report = repo->Reload();
  ASSERT_TRUE(report.ok());
  EXPECT_THAT(Changes(*report), ElementsAre());
  EXPECT_EQ(*repo->Snapshot()->Find("digits", 2), v2);
}

TEST(RepositoryReloadTest, AQueuedRequestRunsOnTheVersionItWasQueuedOn) {
  TempDir dir;
  dir.Copy(DigitsModel(), "digits/1/model.onnx");
  // A long queue delay keeps the request waiting in version 1's open batch meanwhile.
  dir.Write("digits/config.pbtxt", "batching { max_batch_size: 64 max_queue_delay_us: 3000000 }\n");
  auto repo = Open(dir);
  ASSERT_NE(repo, nullptr);
  PredictCore core(repo.get(), nullptr);
  std::weak_ptr<const Servable> v1 = *repo->Snapshot()->Find("digits", 1);

  InferenceRequest request;
  request.model_name = "digits";
  ASSERT_TRUE(request.AddInput("images", engine::Tensor(engine::DType::kFloat32, {2, 64})).ok());
  absl::Notification answered;
  absl::StatusOr<InferenceResponse> response;
  core.PredictAsync(std::move(request), [&](absl::StatusOr<InferenceResponse> r) {
    response = std::move(r);
    answered.Notify();
  });

  AddVersion(dir, "digits", 2, DigitsModel());
  ASSERT_TRUE(repo->Reload().ok());
  ASSERT_THAT(Serving(*repo, "digits"), ElementsAre(2));
  EXPECT_FALSE(answered.HasBeenNotified()) << "still waiting in the queue";
  EXPECT_FALSE(v1.expired()) << "the queued request holds version 1";

  ASSERT_TRUE(answered.WaitForNotificationWithTimeout(absl::Seconds(20)));
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->version, 1);
  EXPECT_EQ(engine::ShapeToString(response->outputs[0].tensor.shape()), "[2,10]");
  EXPECT_TRUE(v1.expired()) << "version 1 is freed before its last request is answered";
}

TEST(RepositoryReloadTest, ABrokenNewVersionNeverReplacesTheServingOne) {
  TempDir dir;
  dir.Copy(DigitsModel(), "digits/1/model.onnx");
  Metrics metrics;
  auto repo = Open(dir, &metrics);
  ASSERT_NE(repo, nullptr);
  std::shared_ptr<const Servable> v1 = *repo->Snapshot()->Find("digits", 1);

  dir.Write("digits/2/model.onnx", "garbage, not protobuf");
  absl::StatusOr<ReloadReport> report = repo->Reload();
  ASSERT_TRUE(report.ok()) << report.status();
  ASSERT_THAT(Changes(*report), ElementsAre("digits/2 failed"));
  EXPECT_THAT(report->changes[0].reason, HasSubstr("model.onnx"));
  EXPECT_EQ(*repo->Snapshot()->Find("digits", std::nullopt), v1) << "version 1 keeps serving";
  EXPECT_EQ(Status(*repo, "digits", 2).state, VersionState::kFailed);
  EXPECT_THAT(repo->Snapshot()->Find("digits", 2).status().message(), HasSubstr("failed to load"));

  // Not retried while its file is unchanged: no new failure, no new log line.
  report = repo->Reload();
  ASSERT_TRUE(report.ok());
  EXPECT_THAT(Changes(*report), ElementsAre());
  const std::string text = MetricsText(metrics);
  EXPECT_THAT(text,
              HasSubstr("q8serve_model_load_failures_total{model=\"digits\",version=\"2\"} 1"));
  EXPECT_THAT(text,
              HasSubstr("q8serve_model_state{model=\"digits\",state=\"failed\",version=\"2\"} 1"));

  // Fixed on disk (a copy finished): retried, and it takes over.
  std::filesystem::remove(dir.path() + "/digits/2/model.onnx");
  dir.Copy(DigitsModel(), "digits/2/model.onnx");
  report = repo->Reload();
  ASSERT_TRUE(report.ok());
  EXPECT_THAT(Changes(*report), ElementsAre("digits/2 loaded", "digits/1 unloaded"));
}

TEST(RepositoryReloadTest, AChangedConfigIsPickedUp) {
  TempDir dir;
  dir.Copy(DigitsModel(), "digits/1/model.onnx");
  dir.Copy(DigitsModel(), "digits/2/model.onnx");
  auto repo = Open(dir);
  ASSERT_NE(repo, nullptr);
  ASSERT_THAT(Serving(*repo, "digits"), ElementsAre(2));

  dir.Write("digits/config.pbtxt", "version_policy { all {} }\nbatching { max_batch_size: 8 }\n");
  absl::StatusOr<ReloadReport> report = repo->Reload();
  ASSERT_TRUE(report.ok()) << report.status();
  // Version 2 loads again: its Servable (and the config it carries) is immutable.
  EXPECT_THAT(Changes(*report), ElementsAre("digits/1 loaded", "digits/2 reloaded"));
  EXPECT_THAT(Serving(*repo, "digits"), ElementsAre(1, 2));
  EXPECT_EQ((*repo->Snapshot()->Find("digits", 2))->config.batching().max_batch_size(), 8u);
  EXPECT_TRUE(repo->Snapshot()->FindModel("digits")->config.version_policy().has_all());
}

TEST(RepositoryReloadTest, BatchingAndInstancesShapeTheVersionsQueue) {
  TempDir dir;
  dir.Copy(DigitsModel(), "digits/1/model.onnx");
  dir.Write("digits/config.pbtxt",
            "batching { max_batch_size: 8 max_queue_delay_us: 1500 max_queue_size: 7 }\n"
            "instances { workers: 3 }\n");
  auto repo = Open(dir);
  ASSERT_NE(repo, nullptr);
  const Batcher::Options& queue = (*repo->Snapshot()->Find("digits", 1))->batcher->options();
  EXPECT_EQ(queue.name, "model 'digits' version 1");
  EXPECT_EQ(queue.max_batch_size, 8);
  EXPECT_EQ(queue.max_queue_delay, absl::Microseconds(1500));
  EXPECT_EQ(queue.max_queue_size, 7u);
  EXPECT_EQ(queue.workers, 3);

  // Without a config: no batching, the default queue bound, workers that fit the cores.
  dir.Write("digits/config.pbtxt", "");
  ASSERT_TRUE(repo->Reload().ok());
  const Batcher::Options& defaults = (*repo->Snapshot()->Find("digits", 1))->batcher->options();
  EXPECT_EQ(defaults.max_batch_size, 0);
  EXPECT_EQ(defaults.max_queue_size, 1024u);
  EXPECT_EQ(defaults.workers, 1);  // --threads 0: a run takes every core
}

TEST(RepositoryReloadTest, BatchingAModelWithAFixedBatchDimensionFailsItsLoad) {
  // MobileNet v2 as converted to TFLite: input [1,3,224,224], the batch fixed at 1.
  TempDir dir;
  dir.Copy(
      q8::testing::RequireFile(q8::testing::SharedDir() +
                               "/testdata/models/tflite/mobilenet_v2_quantized_1x3x224x224.tflite"),
      "mobilenet/1/model.tflite");
  dir.Copy(DigitsModel(), "digits/1/model.onnx");
  dir.Write("mobilenet/config.pbtxt", "batching { max_batch_size: 4 }\n");
  auto repo = Open(dir);
  ASSERT_NE(repo, nullptr);
  const VersionStatus& status = Status(*repo, "mobilenet", 1);
  EXPECT_EQ(status.state, VersionState::kFailed);
  EXPECT_EQ(status.error.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(status.error.message(),
              AllOf(HasSubstr("mobilenet/1/model.tflite"), HasSubstr("max_batch_size: 4"),
                    HasSubstr("run-time first (batch) dimension"), HasSubstr("[1,")));
}

TEST(RepositoryReloadTest, ABrokenConfigLeavesTheModelAsItWas) {
  TempDir dir;
  dir.Copy(DigitsModel(), "digits/1/model.onnx");
  auto repo = Open(dir);
  ASSERT_NE(repo, nullptr);
  std::shared_ptr<const Servable> v1 = *repo->Snapshot()->Find("digits", 1);

  dir.Write("digits/config.pbtxt", "version_policy { all {} }\nmax_batch: 3\n");
  absl::StatusOr<ReloadReport> report = repo->Reload();
  ASSERT_TRUE(report.ok()) << report.status();
  ASSERT_THAT(Changes(*report), ElementsAre("digits/0 failed"));
  EXPECT_THAT(report->changes[0].reason,
              AllOf(HasSubstr("digits/config.pbtxt: line 2"), HasSubstr("max_batch")));
  EXPECT_EQ(*repo->Snapshot()->Find("digits", std::nullopt), v1);
  EXPECT_THAT(repo->Snapshot()->FindModel("digits")->error.message(), HasSubstr("config.pbtxt"));
}

TEST(RepositoryReloadTest, ANewModelWithABrokenConfigFailsItsVersions) {
  TempDir dir;
  dir.Copy(DigitsModel(), "digits/1/model.onnx");
  dir.Copy(DigitsModel(), "other/1/model.onnx");
  dir.Write("other/config.pbtxt", "name: \"digits\"");
  auto repo = Open(dir);
  ASSERT_NE(repo, nullptr) << "one model serving is enough to start";
  EXPECT_THAT(Serving(*repo, "other"), ElementsAre());
  EXPECT_EQ(Status(*repo, "other", 1).state, VersionState::kFailed);
  EXPECT_THAT(Status(*repo, "other", 1).error.message(),
              AllOf(HasSubstr("other/config.pbtxt: line 1"), HasSubstr("model directory 'other'")));
}

TEST(RepositoryReloadTest, RemovedVersionsAndModelsUnload) {
  TempDir dir;
  dir.Copy(DigitsModel(), "digits/1/model.onnx");
  dir.Copy(DigitsModel(), "digits/2/model.onnx");
  dir.Copy(DigitsModel(), "other/1/model.onnx");
  auto repo = Open(dir);
  ASSERT_NE(repo, nullptr);
  std::filesystem::remove_all(dir.path() + "/digits/2");
  std::filesystem::remove_all(dir.path() + "/other");
  absl::StatusOr<ReloadReport> report = repo->Reload();
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_THAT(Changes(*report),
              ElementsAre("digits/1 loaded", "digits/2 unloaded", "other/1 unloaded"));
  EXPECT_THAT(Serving(*repo, "digits"), ElementsAre(1));
  EXPECT_EQ(repo->Snapshot()->FindModel("other"), nullptr);
}

TEST(RepositoryReloadTest, AMissingRootLeavesTheMapUnchanged) {
  TempDir dir;
  dir.Copy(DigitsModel(), "digits/1/model.onnx");
  auto repo = Open(dir);
  ASSERT_NE(repo, nullptr);
  std::filesystem::rename(dir.path(), dir.path() + ".moved");
  absl::StatusOr<ReloadReport> report = repo->Reload();
  std::filesystem::rename(dir.path() + ".moved", dir.path());  // TempDir cleans up
  EXPECT_EQ(report.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(Serving(*repo, "digits"), ElementsAre(1));
}

TEST(RepositoryReloadTest, ConcurrentReloadsAreSerialised) {
  TempDir dir;
  dir.Copy(DigitsModel(), "digits/1/model.onnx");
  auto repo = Open(dir);
  ASSERT_NE(repo, nullptr);
  AddVersion(dir, "digits", 2, DigitsModel());
  // Four reloads at once: had they raced, version 2 would load more than once.
  constexpr int kThreads = 4;
  std::vector<absl::StatusOr<ReloadReport>> reports(kThreads);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] { reports[i] = repo->Reload(); });
  }
  for (std::thread& t : threads) t.join();
  int loads = 0;
  for (const auto& report : reports) {
    ASSERT_TRUE(report.ok()) << report.status();
    for (const VersionChange& c : report->changes) loads += c.kind == ChangeKind::kLoaded;
  }
  EXPECT_EQ(loads, 1);
  EXPECT_THAT(Serving(*repo, "digits"), ElementsAre(2));
}

TEST(RepositoryReloadTest, ThePollPicksUpANewVersion) {
  TempDir dir;
  dir.Copy(DigitsModel(), "digits/1/model.onnx");
  auto repo = Open(dir, nullptr, std::chrono::milliseconds(50));
  ASSERT_NE(repo, nullptr);
  AddVersion(dir, "digits", 2, DigitsModel());
  // Bounded wait: the poll runs every 50 ms; 20 s is only the give-up point.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (Serving(*repo, "digits") != std::vector<int64_t>{2} &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_THAT(Serving(*repo, "digits"), ElementsAre(2));
}

TEST(RepositoryReloadTest, StatusAndReloadThroughTheService) {
  TempDir dir;
  dir.Copy(DigitsModel(), "digits/1/model.onnx");
  auto repo = Open(dir);
  ASSERT_NE(repo, nullptr);
  Q8ServeService service(repo.get());
  dir.Write("digits/2/model.onnx", "broken");

  q8serve::v1::ReloadRepositoryResponse reload;
  ASSERT_TRUE(service.DoReloadRepository({}, &reload).ok());
  ASSERT_EQ(reload.changes_size(), 1);
  EXPECT_EQ(reload.changes(0).model_name(), "digits");
  EXPECT_EQ(reload.changes(0).version(), 2);
  EXPECT_EQ(reload.changes(0).change(), "failed");
  EXPECT_THAT(reload.changes(0).reason(), HasSubstr("digits/2/model.onnx"));
  ASSERT_EQ(reload.models_size(), 1);

  q8serve::v1::GetModelStatusRequest request;
  request.set_model_name("digits");
  q8serve::v1::GetModelStatusResponse status;
  ASSERT_TRUE(service.DoGetModelStatus(request, &status).ok());
  ASSERT_EQ(status.models_size(), 1);
  const q8serve::v1::ModelStatus& model = status.models(0);
  EXPECT_EQ(model.version_policy(), "latest 1");
  ASSERT_EQ(model.versions_size(), 2);
  EXPECT_EQ(model.versions(0).state(), "available");
  EXPECT_EQ(model.versions(0).reason(), "");
  EXPECT_EQ(model.versions(1).version(), 2);
  EXPECT_EQ(model.versions(1).state(), "failed");
  EXPECT_THAT(model.versions(1).reason(), HasSubstr("model.onnx"));

  request.set_model_name("nope");
  EXPECT_THAT(service.DoGetModelStatus(request, &status).message(), HasSubstr("{digits}"));
  request.set_model_name("digits");
  request.set_version(7);
  EXPECT_EQ(service.DoGetModelStatus(request, &status).code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace q8::server
