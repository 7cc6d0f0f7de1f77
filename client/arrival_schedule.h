// When an open-loop load test sends its calls: offsets from the start of the run,
// either evenly spaced (fixed) or a Poisson process (exponential gaps, the arrivals of
// many independent clients). Open loop means the schedule does not wait for answers:
// a slow server gets calls at the same rate, as it would from real users.
// Not thread-safe (one sender owns it); deterministic for a given seed.
#ifndef Q8SERVE_CLIENT_ARRIVAL_SCHEDULE_H_
#define Q8SERVE_CLIENT_ARRIVAL_SCHEDULE_H_

#include <chrono>
#include <cstdint>
#include <random>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace q8::client {

class ArrivalSchedule {
 public:
  enum class Kind { kFixed, kPoisson };

  // `qps` > 0. "fixed" or "poisson"; INVALID_ARGUMENT otherwise.
  static absl::StatusOr<Kind> ParseKind(absl::string_view name);

  ArrivalSchedule(Kind kind, double qps, uint64_t seed);

  // The offset of the next call: the k-th call (from 0) is at k/qps for kFixed; for
  // kPoisson the gaps are independent exponentials with mean 1/qps, the first at 0.
  std::chrono::nanoseconds Next();

 private:
  const Kind kind_;
  const double qps_;
  int64_t count_ = 0;
  double poisson_seconds_ = 0;
  std::mt19937_64 random_;
  std::exponential_distribution<double> gap_;
};

}  // namespace q8::client

#endif  // Q8SERVE_CLIENT_ARRIVAL_SCHEDULE_H_
