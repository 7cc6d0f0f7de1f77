#include "server/api/grpc_status.h"

#include <gtest/gtest.h>

#include <stdexcept>

namespace q8::server {
namespace {

TEST(GrpcStatusTest, EveryCanonicalCodeMapsOneToOneWithItsMessage) {
  for (int code = 1; code <= 16; ++code) {
    const absl::Status status(static_cast<absl::StatusCode>(code), "why it failed");
    const grpc::Status converted = ToGrpcStatus(status);
    EXPECT_EQ(static_cast<int>(converted.error_code()), code);
    EXPECT_EQ(converted.error_message(), "why it failed");
    EXPECT_EQ(FromGrpcStatus(converted), status);
  }
  EXPECT_TRUE(ToGrpcStatus(absl::OkStatus()).ok());
  EXPECT_EQ(ToGrpcStatus(absl::InvalidArgumentError("x")).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(ToGrpcStatus(absl::NotFoundError("x")).error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST(GrpcStatusTest, NonCanonicalCodeBecomesUnknown) {
  const absl::Status odd(static_cast<absl::StatusCode>(42), "odd");
  EXPECT_EQ(ToGrpcStatus(odd).error_code(), grpc::StatusCode::UNKNOWN);
  EXPECT_EQ(ToGrpcStatus(odd).error_message(), "odd");
}

TEST(GrpcStatusTest, GuardedCallTurnsExceptionsIntoStatuses) {
  EXPECT_EQ(GuardedCall([]() -> absl::Status { throw std::bad_alloc(); }).error_code(),
            grpc::StatusCode::RESOURCE_EXHAUSTED);
  const grpc::Status internal =
      GuardedCall([]() -> absl::Status { throw std::runtime_error("boom"); });
  EXPECT_EQ(internal.error_code(), grpc::StatusCode::INTERNAL);
  EXPECT_NE(internal.error_message().find("boom"), std::string::npos);
  EXPECT_EQ(GuardedCall([] { return absl::FailedPreconditionError("p"); }).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
}

}  // namespace
}  // namespace q8::server
