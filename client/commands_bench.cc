// `q8c bench`: closed-loop load generator. N workers, each with its own
// channel (its own HTTP/2 connection), send the same Predict / ModelInfer
// request back to back until --requests are done or --duration-s is over,
// then one JSON line: counts, errors by gRPC code, throughput, latency
// percentiles. Inputs and requests are built exactly as `q8c predict` does.
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <iostream>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "client/call_args.h"
#include "client/commands.h"
#include "client/json.h"
#include "client/predict_request.h"
#include "client/rpc.h"
#include "kserve/grpc_service.grpc.pb.h"
#include "tensorflow_serving/apis/prediction_service.grpc.pb.h"

namespace q8::client {
namespace {

using Clock = std::chrono::steady_clock;

struct WorkerResult {
  std::vector<double> latency_ms;  // Every finished call, OK or not.
  std::map<std::string, int64_t> errors;
};

// A channel of its own per worker: gRPC shares one connection between
// channels with equal arguments unless each keeps a local subchannel pool,
// and a balancer should see N clients, not one.
std::shared_ptr<grpc::Channel> WorkerChannel(const std::string& target) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(-1);
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  return grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), args);
}

// Nearest-rank percentile of sorted values.
double Percentile(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  const size_t rank = static_cast<size_t>(std::ceil(p / 100.0 * sorted.size()));
  return sorted[std::min(sorted.size() - 1, rank == 0 ? 0 : rank - 1)];
}

}  // namespace

int RunBench(const Args& args) {
  absl::StatusOr<ModelCallArgs> call = ParseModelCallArgs(args, kModelCallTimeoutMs);
  if (!call.ok()) return UsageError(call.status().message());
  const std::string api = args.Get("api", "tfs");
  if (api != "tfs" && api != "kserve") {
    return UsageError(absl::StrCat("--api must be tfs or kserve, got '", api, "'"));
  }
  if (api == "kserve" && args.Has("signature")) {
    return UsageError("--signature is not part of the KServe v2 API; use --api=tfs");
  }
  absl::StatusOr<int64_t> concurrency = args.GetInt("concurrency", 8);
  absl::StatusOr<int64_t> requests = args.GetInt("requests", 1000);
  absl::StatusOr<int64_t> duration_s = args.GetInt("duration-s", 0);
  for (const auto* v : {&concurrency, &requests, &duration_s}) {
    if (!v->ok()) return UsageError(v->status().message());
  }
  if (*concurrency < 1 || *concurrency > 1024) return UsageError("--concurrency must be 1..1024");
  if (*requests < 1) return UsageError("--requests must be positive");
  if (*duration_s < 0) return UsageError("--duration-s must not be negative");

  absl::StatusOr<NamedTensors> inputs = LoadInputs(args);
  if (!inputs.ok()) return UsageError(inputs.status().message());
  tensorflow::serving::PredictRequest tfs_req;
  inference::ModelInferRequest kserve_req;
  if (api == "tfs") {
    auto req = BuildPredictRequest(*call, args.Get("signature"), *inputs, {});
    if (!req.ok()) return UsageError(req.status().message());
    tfs_req = *std::move(req);
  } else {
    auto req = BuildModelInferRequest(*call, *inputs, {});
    if (!req.ok()) return UsageError(req.status().message());
    kserve_req = *std::move(req);
  }

  // Count mode: workers take tickets until --requests are handed out.
  // Duration mode (--duration-s > 0): they loop until the end time.
  std::atomic<int64_t> tickets{0};
  const Clock::time_point start = Clock::now();
  const Clock::time_point end = start + std::chrono::seconds(*duration_s);
  auto more = [&] {
    return *duration_s > 0 ? Clock::now() < end : tickets.fetch_add(1) < *requests;
  };

  std::vector<WorkerResult> results(*concurrency);
  std::vector<std::thread> workers;
  for (int64_t w = 0; w < *concurrency; ++w) {
    workers.emplace_back([&, w] {
      WorkerResult& r = results[w];
      auto channel = WorkerChannel(call->target);
      auto tfs = tensorflow::serving::PredictionService::NewStub(channel);
      auto kserve = inference::GRPCInferenceService::NewStub(channel);
      while (more()) {
        grpc::ClientContext ctx;
        SetTimeout(ctx, call->timeout_ms);
        const Clock::time_point t0 = Clock::now();
        grpc::Status status;
        if (api == "tfs") {
          tensorflow::serving::PredictResponse resp;
          status = tfs->Predict(&ctx, tfs_req, &resp);
        } else {
          inference::ModelInferResponse resp;
          status = kserve->ModelInfer(&ctx, kserve_req, &resp);
        }
        r.latency_ms.push_back(
            std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
        if (!status.ok()) ++r.errors[std::string(StatusCodeName(status.error_code()))];
      }
    });
  }
  for (std::thread& t : workers) t.join();
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();

  std::vector<double> all;
  std::map<std::string, int64_t> errors;
  int64_t failed = 0;
  for (const WorkerResult& r : results) {
    all.insert(all.end(), r.latency_ms.begin(), r.latency_ms.end());
    for (const auto& [code, n] : r.errors) {
      errors[code] += n;
      failed += n;
    }
  }
  std::sort(all.begin(), all.end());
  const int64_t total = static_cast<int64_t>(all.size());

  JsonWriter j;
  j.BeginObject().Key("api").String(api).Key("concurrency").Int(*concurrency);
  j.Key("requests").Int(total).Key("ok").Int(total - failed).Key("errors").BeginObject();
  for (const auto& [code, n] : errors) j.Key(code).Int(n);
  j.EndObject();
  j.Key("duration_s").Double(std::round(seconds * 1000) / 1000);
  j.Key("throughput_per_s").Double(seconds > 0 ? std::round(total / seconds * 10) / 10 : 0);
  for (const auto& [key, p] : {std::pair{"p50_ms", 50.0}, {"p90_ms", 90.0}, {"p99_ms", 99.0},
                               {"p999_ms", 99.9}}) {
    j.Key(key).Double(std::round(Percentile(all, p) * 1000) / 1000);
  }
  j.EndObject();
  std::cout << j.str() << "\n";
  return failed == 0 ? kExitOk : kExitFailure;
}

}  // namespace q8::client
