#include "client/arrival_schedule.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <vector>

namespace q8::client {
namespace {

using std::chrono::nanoseconds;

TEST(ArrivalScheduleTest, FixedIsEvenlySpacedWithoutDrift) {
  ArrivalSchedule s(ArrivalSchedule::Kind::kFixed, 3.0, 1);
  EXPECT_EQ(s.Next(), nanoseconds(0));
  EXPECT_EQ(s.Next(), nanoseconds(333333333));
  EXPECT_EQ(s.Next(), nanoseconds(666666666));
  for (int k = 3; k < 3000; ++k) s.Next();
  EXPECT_EQ(s.Next(), nanoseconds(int64_t{1000} * 1000000000)) << "call 3000 at exactly 1000 s";
}

TEST(ArrivalScheduleTest, PoissonGapsAreExponentialWithMeanOneOverQps) {
  constexpr double kQps = 200;
  constexpr int kCalls = 20000;
  ArrivalSchedule s(ArrivalSchedule::Kind::kPoisson, kQps, 7);
  std::vector<double> gaps;
  double last = 0;
  EXPECT_EQ(s.Next(), nanoseconds(0));
  nanoseconds second{0};
  for (int i = 0; i < kCalls; ++i) {
    const nanoseconds next = s.Next();
    if (i == 0) second = next;
    const double t = std::chrono::duration<double>(next).count();
    gaps.push_back(t - last);
    last = t;
  }
  double sum = 0;
  double sum_sq = 0;
  for (double g : gaps) {
    EXPECT_GE(g, 0);
    sum += g;
    sum_sq += g * g;
  }
  const double mean = sum / kCalls;
  const double stddev = std::sqrt(sum_sq / kCalls - mean * mean);
  // An exponential's standard deviation equals its mean (a fixed schedule's is 0).
  EXPECT_NEAR(mean, 1 / kQps, 0.05 / kQps);
  EXPECT_NEAR(stddev, 1 / kQps, 0.05 / kQps);

  ArrivalSchedule again(ArrivalSchedule::Kind::kPoisson, kQps, 7);
  ArrivalSchedule other(ArrivalSchedule::Kind::kPoisson, kQps, 8);
  again.Next();
  other.Next();
  const nanoseconds a = again.Next();
  EXPECT_EQ(a, second) << "same seed, same schedule";
  EXPECT_NE(other.Next(), a);
}

TEST(ArrivalScheduleTest, ParsesKinds) {
  EXPECT_EQ(*ArrivalSchedule::ParseKind("fixed"), ArrivalSchedule::Kind::kFixed);
  EXPECT_EQ(*ArrivalSchedule::ParseKind("poisson"), ArrivalSchedule::Kind::kPoisson);
  EXPECT_FALSE(ArrivalSchedule::ParseKind("bursty").ok());
}

}  // namespace
}  // namespace q8::client
