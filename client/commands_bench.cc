// `q8c bench`: load generator, one JSON line of results.
//
// Closed loop (default): N workers, each with its own channel (its own HTTP/2
// connection), send the same Predict / ModelInfer request back to back until
// --requests are done or --duration-s is over. Throughput is what the server
// sustains at that concurrency.
//
// Open loop (--qps=R): calls are sent on a schedule (fixed interval or
// Poisson arrivals) whatever the answers do, over --concurrency connections,
// with the async API; at most --max-in-flight calls at once (a send due while
// that many are pending is dropped and counted). Latency is measured from
// each call's *scheduled* time, so a sender that falls behind, or a server
// that queues, shows in the percentiles instead of silently lowering the rate
// (coordinated omission). Sends issued more than 1 ms after their time are
// counted as late.
//
// Both connect every channel before the clock starts (ConnectChannel, rpc.h).
//
// Inputs and requests are built exactly as `q8c predict` does.
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "client/arrival_schedule.h"
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

constexpr std::chrono::milliseconds kLateThreshold(1);

// Latencies of finished calls (OK or not) and errors by gRPC code name.
struct Results {
  std::vector<double> latency_ms;
  std::map<std::string, int64_t> errors;

  void Record(const grpc::Status& status, double ms) {
    latency_ms.push_back(ms);
    if (!status.ok()) ++errors[std::string(StatusCodeName(status.error_code()))];
  }
  void Merge(const Results& other) {
    latency_ms.insert(latency_ms.end(), other.latency_ms.begin(), other.latency_ms.end());
    for (const auto& [code, n] : other.errors) errors[code] += n;
  }
  int64_t failed() const {
    int64_t n = 0;
    for (const auto& [code, count] : errors) n += count;
    return n;
  }
};

// `count` worker channels, each with its own connection (a balancer should see N clients,
// not one) and connected before the run starts (ConnectChannel says why), so neither
// connection set-up nor a failed first attempt is part of what is timed.
absl::StatusOr<std::vector<std::shared_ptr<grpc::Channel>>> ConnectWorkerChannels(
    const std::string& target, int64_t count, int64_t timeout_ms) {
  std::vector<std::shared_ptr<grpc::Channel>> channels;
  for (int64_t c = 0; c < count; ++c) {
    channels.push_back(MakeChannel(target, /*own_connection=*/true));
    if (auto s = ConnectChannel(*channels.back(), target, timeout_ms); !s.ok()) return s;
  }
  return channels;
}

// Nearest-rank percentile of sorted values.
double Percentile(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  const size_t rank = static_cast<size_t>(std::ceil(p / 100.0 * sorted.size()));
  return sorted[std::min(sorted.size() - 1, rank == 0 ? 0 : rank - 1)];
}

double Milliseconds(Clock::duration d) {
  return std::chrono::duration<double, std::milli>(d).count();
}

double Round(double v, double scale) { return std::round(v * scale) / scale; }

// The request of either API, built once and sent by every call.
struct BenchRequest {
  std::string api;  // "tfs" or "kserve"
  tensorflow::serving::PredictRequest tfs;
  inference::ModelInferRequest kserve;
};

struct Stubs {
  explicit Stubs(const std::shared_ptr<grpc::Channel>& channel)
      : tfs(tensorflow::serving::PredictionService::NewStub(channel)),
        kserve(inference::GRPCInferenceService::NewStub(channel)) {}
  std::unique_ptr<tensorflow::serving::PredictionService::Stub> tfs;
  std::unique_ptr<inference::GRPCInferenceService::Stub> kserve;
};

Results RunClosedLoop(const ModelCallArgs& call, const BenchRequest& request,
                      const std::vector<std::shared_ptr<grpc::Channel>>& channels,
                      int64_t requests, int64_t duration_s) {
  const int64_t concurrency = static_cast<int64_t>(channels.size());
  // Count mode: workers take tickets until --requests are handed out.
  // Duration mode (--duration-s > 0): they loop until the end time.
  std::atomic<int64_t> tickets{0};
  const Clock::time_point end = Clock::now() + std::chrono::seconds(duration_s);
  auto more = [&] { return duration_s > 0 ? Clock::now() < end : tickets.fetch_add(1) < requests; };
  std::vector<Results> results(concurrency);
  std::vector<std::thread> workers;
  for (int64_t w = 0; w < concurrency; ++w) {
    workers.emplace_back([&, w] {
      Stubs stubs(channels[w]);
      while (more()) {
        grpc::ClientContext ctx;
        SetTimeout(ctx, call.timeout_ms);
        const Clock::time_point t0 = Clock::now();
        grpc::Status status;
        if (request.api == "tfs") {
          tensorflow::serving::PredictResponse resp;
          status = stubs.tfs->Predict(&ctx, request.tfs, &resp);
        } else {
          inference::ModelInferResponse resp;
          status = stubs.kserve->ModelInfer(&ctx, request.kserve, &resp);
        }
        results[w].Record(status, Milliseconds(Clock::now() - t0));
      }
    });
  }
  for (std::thread& t : workers) t.join();
  Results all;
  for (const Results& r : results) all.Merge(r);
  return all;
}

struct OpenLoopOptions {
  double qps = 0;
  ArrivalSchedule::Kind arrival = ArrivalSchedule::Kind::kFixed;
  uint64_t seed = 1;
  int64_t max_in_flight = 1000;
  int64_t requests = 0;    // calls to schedule (count mode)
  int64_t duration_s = 0;  // or: schedule calls for this long
};

struct OpenLoopCounts {
  int64_t scheduled = 0;
  int64_t sent = 0;
  int64_t dropped = 0;
  int64_t late = 0;
  double window_s = 0;  // from the start to the last send (or its scheduled end)
};

// The state of the calls in flight. Callbacks run on gRPC's threads.
class InFlight {
 public:
  // False (and nothing is counted) if `limit` calls are pending already.
  bool TryStart(int64_t limit) {
    std::lock_guard<std::mutex> lock(mu_);
    if (pending_ >= limit) return false;
    ++pending_;
    return true;
  }
  void Finish(const grpc::Status& status, double ms) {
    std::lock_guard<std::mutex> lock(mu_);
    results_.Record(status, ms);
    if (--pending_ == 0) idle_.notify_all();
  }
  // Waits for every pending call (each has a deadline, so this ends).
  Results Drain() {
    std::unique_lock<std::mutex> lock(mu_);
    idle_.wait(lock, [&] { return pending_ == 0; });
    return results_;
  }

 private:
  std::mutex mu_;
  std::condition_variable idle_;
  int64_t pending_ = 0;
  Results results_;
};

// One async call: owns what gRPC needs until the callback, which deletes it.
struct OpenCall {
  grpc::ClientContext context;
  tensorflow::serving::PredictResponse tfs_response;
  inference::ModelInferResponse kserve_response;
};

Results RunOpenLoop(const ModelCallArgs& call, const BenchRequest& request,
                    const std::vector<std::shared_ptr<grpc::Channel>>& channels,
                    const OpenLoopOptions& o, OpenLoopCounts* counts) {
  std::vector<Stubs> stubs;
  for (const auto& channel : channels) stubs.emplace_back(channel);
  InFlight in_flight;
  ArrivalSchedule schedule(o.arrival, o.qps, o.seed);
  const Clock::time_point start = Clock::now();
  const Clock::duration window = std::chrono::seconds(o.duration_s);
  Clock::time_point last_send = start;
  Clock::time_point due = start + schedule.Next();
  for (int64_t k = 0;; ++k) {
    if (o.duration_s > 0 ? due - start >= window : k >= o.requests) break;
    ++counts->scheduled;
    std::this_thread::sleep_until(due);
    const Clock::time_point now = Clock::now();
    if (now - due > kLateThreshold) ++counts->late;
    if (!in_flight.TryStart(o.max_in_flight)) {
      ++counts->dropped;
    } else {
      ++counts->sent;
      last_send = now;
      auto* c = new OpenCall();
      SetTimeout(c->context, call.timeout_ms);
      // Latency from the scheduled time: lateness of the sender counts too.
      auto done = [c, &in_flight, due](grpc::Status status) {
        in_flight.Finish(status, Milliseconds(Clock::now() - due));
        delete c;
      };
      Stubs& s = stubs[static_cast<size_t>(k) % stubs.size()];
      if (request.api == "tfs") {
        s.tfs->async()->Predict(&c->context, &request.tfs, &c->tfs_response, std::move(done));
      } else {
        s.kserve->async()->ModelInfer(&c->context, &request.kserve, &c->kserve_response,
                                      std::move(done));
      }
    }
    due = start + schedule.Next();
  }
  // The send window ends where the next call would have gone, or at the last send if
  // the sender ran behind: achieved rate = sent / window.
  const Clock::time_point window_end = std::max(due, last_send);
  counts->window_s = std::chrono::duration<double>(window_end - start).count();
  return in_flight.Drain();
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
  const bool open = args.Has("qps");
  absl::StatusOr<int64_t> concurrency = args.GetInt("concurrency", 8);
  absl::StatusOr<int64_t> requests = args.GetInt("requests", 1000);
  absl::StatusOr<int64_t> duration_s = args.GetInt("duration-s", 0);
  absl::StatusOr<int64_t> max_in_flight = args.GetInt("max-in-flight", 1000);
  absl::StatusOr<int64_t> seed = args.GetInt("seed", 1);
  absl::StatusOr<int64_t> connect_timeout_ms = args.GetInt("connect-timeout-ms", 10000);
  for (const auto* v :
       {&concurrency, &requests, &duration_s, &max_in_flight, &seed, &connect_timeout_ms}) {
    if (!v->ok()) return UsageError(v->status().message());
  }
  if (*concurrency < 1 || *concurrency > 1024) return UsageError("--concurrency must be 1..1024");
  if (*requests < 1) return UsageError("--requests must be positive");
  if (*duration_s < 0) return UsageError("--duration-s must not be negative");
  if (*connect_timeout_ms < 1) return UsageError("--connect-timeout-ms must be positive");
  OpenLoopOptions open_options;
  if (open) {
    if (!absl::SimpleAtod(args.Get("qps"), &open_options.qps) || !(open_options.qps > 0) ||
        open_options.qps > 1e6) {
      return UsageError(
          absl::StrCat("--qps must be a rate in (0, 1e6], got '", args.Get("qps"), "'"));
    }
    absl::StatusOr<ArrivalSchedule::Kind> arrival =
        ArrivalSchedule::ParseKind(args.Get("arrival", "poisson"));
    if (!arrival.ok()) return UsageError(arrival.status().message());
    if (*max_in_flight < 1) return UsageError("--max-in-flight must be positive");
    open_options.arrival = *arrival;
    open_options.seed = static_cast<uint64_t>(*seed);
    open_options.max_in_flight = *max_in_flight;
    open_options.requests = *requests;
    open_options.duration_s = *duration_s;
  } else {
    for (const char* flag : {"arrival", "max-in-flight", "seed"}) {
      if (args.Has(flag)) return UsageError(absl::StrCat("--", flag, " needs --qps (open loop)"));
    }
  }

  absl::StatusOr<NamedTensors> inputs = LoadInputs(args);
  if (!inputs.ok()) return UsageError(inputs.status().message());
  BenchRequest request;
  request.api = api;
  if (api == "tfs") {
    auto req = BuildPredictRequest(*call, args.Get("signature"), *inputs, {});
    if (!req.ok()) return UsageError(req.status().message());
    request.tfs = *std::move(req);
  } else {
    auto req = BuildModelInferRequest(*call, *inputs, {});
    if (!req.ok()) return UsageError(req.status().message());
    request.kserve = *std::move(req);
  }

  auto channels = ConnectWorkerChannels(call->target, *concurrency, *connect_timeout_ms);
  if (!channels.ok()) {
    std::cerr << "q8c bench: " << channels.status().message() << "\n";
    return kExitFailure;
  }
  const Clock::time_point start = Clock::now();
  OpenLoopCounts counts;
  Results results = open ? RunOpenLoop(*call, request, *channels, open_options, &counts)
                         : RunClosedLoop(*call, request, *channels, *requests, *duration_s);
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  std::sort(results.latency_ms.begin(), results.latency_ms.end());
  const int64_t total = static_cast<int64_t>(results.latency_ms.size());
  const int64_t failed = results.failed();

  JsonWriter j;
  j.BeginObject().Key("mode").String(open ? "open" : "closed").Key("api").String(api);
  j.Key("concurrency").Int(*concurrency);
  if (open) {
    j.Key("target_qps").Double(open_options.qps);
    j.Key("arrival").String(open_options.arrival == ArrivalSchedule::Kind::kFixed ? "fixed"
                                                                                  : "poisson");
    j.Key("max_in_flight").Int(open_options.max_in_flight);
    j.Key("scheduled").Int(counts.scheduled).Key("sent").Int(counts.sent);
    j.Key("dropped").Int(counts.dropped).Key("late").Int(counts.late);
    j.Key("late_threshold_ms").Int(kLateThreshold.count());
    j.Key("achieved_qps")
        .Double(counts.window_s > 0 ? Round(counts.sent / counts.window_s, 10) : 0);
  }
  j.Key("requests").Int(total).Key("ok").Int(total - failed).Key("errors").BeginObject();
  for (const auto& [code, n] : results.errors) j.Key(code).Int(n);
  j.EndObject();
  j.Key("duration_s").Double(Round(seconds, 1000));
  j.Key("throughput_per_s").Double(seconds > 0 ? Round(total / seconds, 10) : 0);
  for (const auto& [key, p] :
       {std::pair{"p50_ms", 50.0}, {"p90_ms", 90.0}, {"p99_ms", 99.0}, {"p999_ms", 99.9}}) {
    j.Key(key).Double(Round(Percentile(results.latency_ms, p), 1000));
  }
  j.EndObject();
  std::cout << j.str() << "\n";
  return failed == 0 ? kExitOk : kExitFailure;
}

}  // namespace q8::client
