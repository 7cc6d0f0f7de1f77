// Loads on the repository's load pool, on the real digits model: models, and versions of
// one model, load at once; a version being loaded is reported as loading (GetModelStatus,
// KServe ModelReady) without being served; a shutdown during a reload cancels it. A
// before_load hook makes each of these observable without timing anything: a load that
// must overlap another waits for it, a load under observation waits for the test.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "server/api/kserve_service.h"
#include "server/api/q8serve_service.h"
#include "server/inference/predict_core.h"
#include "server/repository/model_repository.h"
#include "tests/server/digits_fixture.h"

namespace q8::server {
namespace {

using testing::DigitsModel;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;
using testing::TempDir;
using ::testing::UnorderedElementsAre;

// A before_load hook for the loads `gated` selects (the others pass untouched): records
// each ("model/version", in start order); when `hold`, waits until Release(); and waits
// until `meet` gated loads have started. Every wait gives up after 20 s and counts a
// timeout, so a pool that fails to overlap loads fails the test instead of hanging it.
class LoadGate {
 public:
  LoadGate(std::function<bool(const ModelVersionPath&)> gated, bool hold, size_t meet)
      : gated_(std::move(gated)), hold_(hold), meet_(meet) {}

  std::function<void(const ModelVersionPath&)> Hook() {
    return [this](const ModelVersionPath& where) { Enter(where); };
  }
  // Waits (bounded) until `n` gated loads have started.
  bool AwaitStarted(size_t n) {
    absl::MutexLock lock(&mu_);
    auto reached = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return started_.size() >= n; };
    return mu_.AwaitWithTimeout(absl::Condition(&reached), absl::Seconds(20));
  }
  void Release() {
    absl::MutexLock lock(&mu_);
    released_ = true;
  }
  std::vector<std::string> started() {
    absl::MutexLock lock(&mu_);
    return started_;
  }
  int timeouts() {
    absl::MutexLock lock(&mu_);
    return timeouts_;
  }

 private:
  void Enter(const ModelVersionPath& where) {
    if (!gated_(where)) return;
    absl::MutexLock lock(&mu_);
    started_.push_back(absl::StrCat(where.model, "/", where.version));
    auto go = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return (!hold_ || released_) && started_.size() >= meet_;
    };
    if (!mu_.AwaitWithTimeout(absl::Condition(&go), absl::Seconds(20))) ++timeouts_;
  }

  const std::function<bool(const ModelVersionPath&)> gated_;
  const bool hold_;
  const size_t meet_;
  absl::Mutex mu_;
  std::vector<std::string> started_ ABSL_GUARDED_BY(mu_);
  bool released_ ABSL_GUARDED_BY(mu_) = false;
  int timeouts_ ABSL_GUARDED_BY(mu_) = 0;
};

bool Every(const ModelVersionPath&) { return true; }

std::unique_ptr<ModelRepository> Open(const TempDir& dir, int load_threads, LoadGate& gate,
                                      Metrics* metrics = nullptr) {
  ModelRepository::Options options;
  options.root = dir.path();
  options.load_threads = load_threads;
  options.before_load = gate.Hook();
  absl::StatusOr<std::unique_ptr<ModelRepository>> repo = ModelRepository::Create(options, metrics);
  EXPECT_TRUE(repo.ok()) << repo.status();
  return repo.ok() ? *std::move(repo) : nullptr;
}

std::vector<int64_t> Serving(const ModelRepository& repo, const std::string& model) {
  std::vector<int64_t> out;
  if (const ModelEntry* entry = repo.Snapshot()->FindModel(model)) {
    for (const auto& [v, servable] : entry->serving) out.push_back(v);
  }
  return out;
}

std::vector<std::string> Changes(const ReloadReport& report) {
  std::vector<std::string> out;
  for (const VersionChange& c : report.changes) {
    out.push_back(absl::StrCat(c.model, "/", c.version, " ", ChangeKindName(c.kind)));
  }
  return out;
}

// `model` as GetModelStatus reports it: "version state" per version, ascending; empty
// when the RPC fails (an unknown model).
std::vector<std::string> StatusRpc(ModelRepository& repo, const std::string& model,
                                   q8serve::v1::ModelStatus* out = nullptr) {
  Q8ServeService service(&repo);
  q8serve::v1::GetModelStatusRequest request;
  request.set_model_name(model);
  q8serve::v1::GetModelStatusResponse response;
  std::vector<std::string> versions;
  if (!service.DoGetModelStatus(request, &response).ok()) return versions;
  for (const auto& v : response.models(0).versions()) {
    versions.push_back(absl::StrCat(v.version(), " ", v.state()));
  }
  if (out != nullptr) *out = response.models(0);
  return versions;
}

// Copies a version under a hidden name, then renames it in (as operators should), so a
// concurrent scan never sees half a file.
void AddVersion(const TempDir& dir, const std::string& model, int64_t v) {
  const std::string hidden = absl::StrCat(model, "/.incoming-", v);
  dir.Copy(DigitsModel(), hidden + "/model.onnx");
  std::filesystem::rename(std::filesystem::path(dir.path()) / hidden,
                          std::filesystem::path(dir.path()) / model / std::to_string(v));
}

TEST(RepositoryLoadingTest, ModelsLoadAtOnce) {
  TempDir dir;
  AddVersion(dir, "a", 1);
  AddVersion(dir, "b", 1);
  // Each load waits until two have started: were loads run one after another, the
  // first would wait in vain (a timeout) before the second began.
  LoadGate gate(Every, /*hold=*/false, /*meet=*/2);
  auto repo = Open(dir, /*load_threads=*/2, gate);  // Create's reload: its thread + 1 worker
  ASSERT_NE(repo, nullptr);
  EXPECT_EQ(gate.timeouts(), 0) << "a/1 and b/1 did not load at once";
  EXPECT_THAT(gate.started(), UnorderedElementsAre("a/1", "b/1"));
  EXPECT_THAT(Serving(*repo, "a"), ElementsAre(1));
  EXPECT_THAT(Serving(*repo, "b"), ElementsAre(1));
}

TEST(RepositoryLoadingTest, AReloadLoadsModelsAtOnceAndReportsInModelOrder) {
  TempDir dir;
  for (const char* model : {"a", "b", "c"}) AddVersion(dir, model, 1);
  // Only the reload's loads (version 2) meet; startup loads pass.
  LoadGate gate([](const ModelVersionPath& w) { return w.version == 2; }, /*hold=*/false,
                /*meet=*/2);
  auto repo = Open(dir, /*load_threads=*/2, gate);
  ASSERT_NE(repo, nullptr);
  AddVersion(dir, "c", 2);
  AddVersion(dir, "a", 2);
  absl::StatusOr<ReloadReport> report = repo->Reload();  // on the load thread
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(gate.timeouts(), 0) << "a/2 and c/2 did not load at once";
  EXPECT_THAT(gate.started(), UnorderedElementsAre("a/2", "c/2"));
  // Whichever finished first, the report lists models by name.
  EXPECT_THAT(Changes(*report),
              ElementsAre("a/2 loaded", "a/1 unloaded", "c/2 loaded", "c/1 unloaded"));
  EXPECT_THAT(Serving(*repo, "a"), ElementsAre(2));
  EXPECT_THAT(Serving(*repo, "b"), ElementsAre(1));
  EXPECT_THAT(Serving(*repo, "c"), ElementsAre(2));
}

TEST(RepositoryLoadingTest, VersionsOfOneModelLoadAtOnce) {
  TempDir dir;
  AddVersion(dir, "digits", 1);
  AddVersion(dir, "digits", 2);
  dir.Write("digits/config.pbtxt", "version_policy { all {} }");
  LoadGate gate(Every, /*hold=*/false, /*meet=*/2);
  auto repo = Open(dir, /*load_threads=*/2, gate);
  ASSERT_NE(repo, nullptr);
  EXPECT_EQ(gate.timeouts(), 0) << "digits/1 and digits/2 did not load at once";
  EXPECT_THAT(gate.started(), UnorderedElementsAre("digits/1", "digits/2"));
  EXPECT_THAT(Serving(*repo, "digits"), ElementsAre(1, 2));
  // Their servables are made in ascending order: version 2 borrows version 1's names.
  absl::StatusOr<std::shared_ptr<const Servable>> v2 = repo->Snapshot()->Find("digits", 2);
  ASSERT_TRUE(v2.ok()) << v2.status();
  EXPECT_EQ((*v2)->FindSignature("")->FindInput("images")->source, "version 1");
}

TEST(RepositoryLoadingTest, OneLoadThreadLoadsOneVersionAfterAnotherInModelOrder) {
  TempDir dir;
  for (const char* model : {"c", "a", "b"}) AddVersion(dir, model, 1);
  LoadGate gate(Every, /*hold=*/false, /*meet=*/0);
  auto repo = Open(dir, /*load_threads=*/1, gate);
  ASSERT_NE(repo, nullptr);
  EXPECT_THAT(gate.started(), ElementsAre("a/1", "b/1", "c/1"));
}

TEST(RepositoryLoadingTest, AVersionBeingLoadedShowsAsLoadingWithoutServing) {
  TempDir dir;
  AddVersion(dir, "digits", 1);
  // Held: the reload's good loads. c/1 is broken: it fails while the others still load.
  LoadGate gate([](const ModelVersionPath& w) { return w.model == "b" || w.version == 2; },
                /*hold=*/true, /*meet=*/0);
  auto repo = Open(dir, /*load_threads=*/3, gate);
  ASSERT_NE(repo, nullptr);
  PredictCore core(repo.get(), nullptr);
  KServeService kserve(&core, "test");
  AddVersion(dir, "digits", 2);
  AddVersion(dir, "b", 1);
  dir.Write("c/1/model.onnx", "not a model");

  absl::Notification reloaded;
  absl::StatusOr<ReloadReport> report;
  repo->RequestReload([&](const absl::StatusOr<ReloadReport>& r) {
    report = r;
    reloaded.Notify();
  });
  ASSERT_TRUE(gate.AwaitStarted(2));
  // c/1 fails on the third load thread; its failure shows before the reload ends.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (StatusRpc(*repo, "c") != std::vector<std::string>{"1 failed"} &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }

  q8serve::v1::ModelStatus b;
  EXPECT_THAT(StatusRpc(*repo, "b", &b), ElementsAre("1 loading"));
  EXPECT_EQ(b.version_policy(), "latest 1");
  EXPECT_EQ(b.versions(0).path(), dir.path() + "/b/1/model.onnx");
  EXPECT_THAT(StatusRpc(*repo, "digits"), ElementsAre("1 available", "2 loading"));
  q8serve::v1::ModelStatus c;
  EXPECT_THAT(StatusRpc(*repo, "c", &c), ElementsAre("1 failed"));
  EXPECT_THAT(c.versions(0).reason(), HasSubstr("c/1/model.onnx"));
  EXPECT_FALSE(reloaded.HasBeenNotified());
  // Not served: the serving map is still the one before the reload.
  EXPECT_EQ(repo->Snapshot()->FindModel("b"), nullptr);
  EXPECT_THAT(Serving(*repo, "digits"), ElementsAre(1));
  EXPECT_EQ(repo->Snapshot()->Find("digits", std::nullopt).value()->version, 1);
  // KServe: not ready, and the trailers say why.
  inference::ModelReadyRequest ready_b;
  ready_b.set_name("b");
  inference::ModelReadyResponse ready;
  ASSERT_TRUE(kserve.DoModelReady(ready_b, &ready).ok());
  EXPECT_FALSE(ready.ready());
  EXPECT_THAT(kserve.NotReadyState(ready_b), Pair("loading", ""));
  inference::ModelReadyRequest ready_digits_2;
  ready_digits_2.set_name("digits");
  ready_digits_2.set_version("2");
  ASSERT_TRUE(kserve.DoModelReady(ready_digits_2, &ready).ok());
  EXPECT_FALSE(ready.ready());
  EXPECT_THAT(kserve.NotReadyState(ready_digits_2), Pair("loading", ""));
  inference::ModelReadyRequest ready_digits;
  ready_digits.set_name("digits");
  ASSERT_TRUE(kserve.DoModelReady(ready_digits, &ready).ok());
  EXPECT_TRUE(ready.ready()) << "version 1 serves throughout";

  gate.Release();
  ASSERT_TRUE(reloaded.WaitForNotificationWithTimeout(absl::Seconds(60)));
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_THAT(Changes(*report),
              ElementsAre("b/1 loaded", "c/1 failed", "digits/2 loaded", "digits/1 unloaded"));
  EXPECT_EQ(gate.timeouts(), 0);
  EXPECT_THAT(StatusRpc(*repo, "b"), ElementsAre("1 available"));
  EXPECT_THAT(StatusRpc(*repo, "c"), ElementsAre("1 failed"));
  EXPECT_THAT(StatusRpc(*repo, "digits"), ElementsAre("1 unloaded", "2 available"));
  EXPECT_EQ(repo->StatusSnapshot(), repo->Snapshot()) << "nothing left in progress";
}

TEST(RepositoryLoadingTest, AShutdownDuringAReloadCancelsItAndStartsNoOtherLoad) {
  TempDir dir;
  AddVersion(dir, "digits", 1);
  LoadGate gate([](const ModelVersionPath& w) { return w.model != "digits"; }, /*hold=*/true,
                /*meet=*/0);
  auto repo = Open(dir, /*load_threads=*/2, gate);
  ASSERT_NE(repo, nullptr);
  for (const char* model : {"a", "b", "c"}) AddVersion(dir, model, 1);

  absl::Notification first_done;
  absl::Status first;
  repo->RequestReload([&](const absl::StatusOr<ReloadReport>& r) {
    first = r.status();
    first_done.Notify();
  });
  ASSERT_TRUE(gate.AwaitStarted(2)) << "two of the three new models load at once";
  absl::Notification queued_done;
  absl::Status queued;
  repo->RequestReload([&](const absl::StatusOr<ReloadReport>& r) {
    queued = r.status();
    queued_done.Notify();
  });

  std::thread shutdown([&] { repo.reset(); });
  // A queued reload is cancelled at once, before the running one has stopped.
  ASSERT_TRUE(queued_done.WaitForNotificationWithTimeout(absl::Seconds(20)));
  EXPECT_EQ(queued.code(), absl::StatusCode::kCancelled);
  EXPECT_FALSE(first_done.HasBeenNotified());
  gate.Release();  // the two running loads finish; the third never starts
  shutdown.join();
  ASSERT_TRUE(first_done.HasBeenNotified());
  EXPECT_EQ(first.code(), absl::StatusCode::kCancelled);
  EXPECT_THAT(first.message(), HasSubstr("published nothing"));
  EXPECT_EQ(gate.started().size(), 2u);
  EXPECT_EQ(gate.timeouts(), 0);
}

}  // namespace
}  // namespace q8::server
