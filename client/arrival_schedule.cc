#include "client/arrival_schedule.h"

#include "absl/strings/str_cat.h"

namespace q8::client {

absl::StatusOr<ArrivalSchedule::Kind> ArrivalSchedule::ParseKind(absl::string_view name) {
  if (name == "fixed") return Kind::kFixed;
  if (name == "poisson") return Kind::kPoisson;
  return absl::InvalidArgumentError(
      absl::StrCat("--arrival must be fixed or poisson, got '", name, "'"));
}

ArrivalSchedule::ArrivalSchedule(Kind kind, double qps, uint64_t seed)
    : kind_(kind), qps_(qps), random_(seed), gap_(qps) {}

std::chrono::nanoseconds ArrivalSchedule::Next() {
  double seconds = 0;
  if (kind_ == Kind::kFixed) {
    // k/qps from the count, not a running sum: no drift from rounding.
    seconds = static_cast<double>(count_) / qps_;
  } else {
    seconds = poisson_seconds_;
    poisson_seconds_ += gap_(random_);
  }
  ++count_;
  return std::chrono::nanoseconds(static_cast<int64_t>(seconds * 1e9));
}

}  // namespace q8::client
