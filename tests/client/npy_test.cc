#include "client/npy.h"

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "client/host_tensor.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace q8::client {
namespace {

using ::testing::HasSubstr;

// numpy 1.24's np.save(np.arange(6, dtype='<i4').reshape(2, 3)), byte for
// byte: note numpy pads the header to 128 bytes (room to grow the shape).
std::string NumpyArange2x3Int32() {
  std::string header = "{'descr': '<i4', 'fortran_order': False, 'shape': (2, 3), }";
  header.append(118 - header.size() - 1, ' ');
  header.push_back('\n');
  std::string file("\x93NUMPY\x01\x00\x76\x00", 10);
  file += header;
  for (int32_t i = 0; i < 6; ++i) {
    file.append(reinterpret_cast<const char*>(&i), 4);
  }
  return file;
}

// A header-only .npy with the given version and dict (no data appended).
std::string NpyWithHeader(int major, const std::string& dict) {
  std::string file("\x93NUMPY", 6);
  file.push_back(static_cast<char>(major));
  file.push_back(0);
  const uint32_t len = static_cast<uint32_t>(dict.size());
  file.append(reinterpret_cast<const char*>(&len), major == 1 ? 2 : 4);
  return file + dict;
}

TEST(NpyTest, ParsesNumpyWrittenFile) {
  absl::StatusOr<HostTensor> t = ParseNpy(NumpyArange2x3Int32(), "a.npy");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->dtype, "int32");
  EXPECT_EQ(t->shape, (std::vector<int64_t>{2, 3}));
  ASSERT_EQ(t->data.size(), 24u);
  int32_t last;
  std::memcpy(&last, t->data.data() + 20, 4);
  EXPECT_EQ(last, 5);
}

TEST(NpyTest, ParsesScalarAndRankOneTuples) {
  absl::StatusOr<HostTensor> scalar =
      ParseNpy(NpyWithHeader(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (), }\n") +
                   std::string(4, '\0'),
               "s.npy");
  ASSERT_TRUE(scalar.ok()) << scalar.status();
  EXPECT_TRUE(scalar->shape.empty());

  absl::StatusOr<HostTensor> vec = ParseNpy(
      NpyWithHeader(1, "{'descr': '|u1', 'fortran_order': False, 'shape': (3,), }\n") + "abc",
      "v.npy");
  ASSERT_TRUE(vec.ok()) << vec.status();
  EXPECT_EQ(vec->dtype, "uint8");
  EXPECT_EQ(vec->shape, (std::vector<int64_t>{3}));
  EXPECT_EQ(vec->data, "abc");
}

TEST(NpyTest, ParsesVersion2HeaderAndKeyOrder) {
  // v2 has a 4-byte header length; key order is not fixed by the format.
  absl::StatusOr<HostTensor> t =
      ParseNpy(NpyWithHeader(2, "{'shape': (2,), 'fortran_order': False, 'descr': '<i8'}\n") +
                   std::string(16, '\0'),
               "v2.npy");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->dtype, "int64");
  EXPECT_EQ(t->shape, (std::vector<int64_t>{2}));
}

TEST(NpyTest, RoundTripsEveryDtype) {
  const char* dtypes[] = {"bool",   "int8",  "uint8",  "int16",   "uint16",  "int32",
                          "uint32", "int64", "uint64", "float16", "float32", "float64"};
  for (const char* dtype : dtypes) {
    SCOPED_TRACE(dtype);
    HostTensor t;
    t.dtype = dtype;
    t.shape = {2, 3};
    const size_t size = *DTypeSize(dtype);
    for (size_t i = 0; i < 6 * size; ++i) {
      // bool must stay 0/1; other types get distinct byte patterns.
      t.data.push_back(t.dtype == "bool" ? static_cast<char>(i % 2)
                                         : static_cast<char>(i * 37 + 1));
    }
    absl::StatusOr<std::string> bytes = SerializeNpy(t);
    ASSERT_TRUE(bytes.ok()) << bytes.status();
    // Data starts 64-byte aligned, as numpy writes and expects.
    EXPECT_EQ((bytes->size() - t.data.size()) % 64, 0u);
    EXPECT_EQ(bytes->substr(0, 8), std::string("\x93NUMPY\x01\x00", 8));

    absl::StatusOr<HostTensor> back = ParseNpy(*bytes, "rt.npy");
    ASSERT_TRUE(back.ok()) << back.status();
    EXPECT_EQ(back->dtype, t.dtype);
    EXPECT_EQ(back->shape, t.shape);
    EXPECT_EQ(back->data, t.data);
  }
}

TEST(NpyTest, RoundTripsScalarEmptyAndFile) {
  HostTensor scalar{"float64", {}, std::string(8, '\x11')};
  HostTensor empty{"int8", {0, 4}, ""};
  const std::string path =
      (std::filesystem::path(::testing::TempDir()) / "q8_npy_test.npy").string();
  for (const HostTensor& t : {scalar, empty}) {
    ASSERT_TRUE(WriteNpyFile(path, t).ok());
    absl::StatusOr<HostTensor> back = ReadNpyFile(path);
    ASSERT_TRUE(back.ok()) << back.status();
    EXPECT_EQ(back->dtype, t.dtype);
    EXPECT_EQ(back->shape, t.shape);
    EXPECT_EQ(back->data, t.data);
  }
  std::filesystem::remove(path);
}

TEST(NpyTest, SerializeRejectsInconsistentTensor) {
  HostTensor t{"float32", {2, 2}, std::string(12, '\0')};  // needs 16 bytes
  absl::StatusOr<std::string> bytes = SerializeNpy(t);
  ASSERT_FALSE(bytes.ok());
  EXPECT_THAT(bytes.status().message(), HasSubstr("expected 16"));
}

struct BadCase {
  const char* name;
  std::string bytes;
  const char* message;
};

TEST(NpyTest, RejectsMalformedFilesWithReason) {
  const std::string ok_dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }\n";
  const std::vector<BadCase> cases = {
      {"no magic", "PK\x03\x04 this is a zip", "not a .npy file"},
      {"truncated header", NpyWithHeader(1, ok_dict).substr(0, 30), "truncated .npy header"},
      {"short data", NpyWithHeader(1, ok_dict) + std::string(7, '\0'),
       "7 data bytes do not match shape [2]"},
      {"big endian",
       NpyWithHeader(1, "{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }\n") +
           std::string(8, '\0'),
       "big-endian"},
      {"fortran order",
       NpyWithHeader(1, "{'descr': '<f4', 'fortran_order': True, 'shape': (2,), }\n") +
           std::string(8, '\0'),
       "Fortran-order"},
      {"complex dtype",
       NpyWithHeader(1, "{'descr': '<c8', 'fortran_order': False, 'shape': (2,), }\n"),
       "unsupported .npy dtype '<c8'"},
      {"structured dtype",
       NpyWithHeader(1, "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,), }\n"),
       "malformed .npy header"},
      {"missing shape", NpyWithHeader(1, "{'descr': '<f4', 'fortran_order': False, }\n"),
       "lacks one of"},
      {"negative dim",
       NpyWithHeader(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (-1,), }\n"),
       "non-negative integers"},
      {"version 9", NpyWithHeader(9, ok_dict), "unsupported .npy format version 9"},
  };
  for (const BadCase& c : cases) {
    SCOPED_TRACE(c.name);
    absl::StatusOr<HostTensor> t = ParseNpy(c.bytes, "bad.npy");
    ASSERT_FALSE(t.ok());
    EXPECT_EQ(t.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(t.status().message(), HasSubstr(c.message));
    EXPECT_THAT(t.status().message(), HasSubstr("bad.npy"));
  }
}

TEST(NpyTest, MissingFileIsNotFound) {
  absl::StatusOr<HostTensor> t = ReadNpyFile("/nonexistent/q8/x.npy");
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), absl::StatusCode::kNotFound);
}

TEST(HalfTest, ConvertsLikeNumpy) {
  // Expected bit patterns from np.float16(x).view(np.uint16).
  EXPECT_EQ(FloatToHalf(1.0f), 0x3C00);
  EXPECT_EQ(FloatToHalf(-2.0f), 0xC000);
  EXPECT_EQ(FloatToHalf(65504.0f), 0x7BFF);
  EXPECT_EQ(FloatToHalf(65520.0f), 0x7C00);       // rounds up to inf
  EXPECT_EQ(FloatToHalf(5.9604645e-8f), 0x0001);  // smallest subnormal
  EXPECT_EQ(FloatToHalf(1e-8f), 0x0000);
  EXPECT_EQ(FloatToHalf(0.1f), 0x2E66);
  EXPECT_EQ(HalfToFloat(0x3C00), 1.0f);
  EXPECT_EQ(HalfToFloat(0x0001), 5.9604645e-8f);
  EXPECT_EQ(HalfToFloat(0x7BFF), 65504.0f);
}

}  // namespace
}  // namespace q8::client
