// DType helpers and the owning Tensor of engine.h.
#include <cstdlib>
#include <cstring>
#include <new>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "engine/engine.h"

namespace q8::engine {

const char* DTypeName(DType dtype) {
  switch (dtype) {
    case DType::kFloat32: return "float32";
    case DType::kUint8: return "uint8";
    case DType::kInt8: return "int8";
    case DType::kInt32: return "int32";
    case DType::kInt64: return "int64";
    case DType::kBool: return "bool";
    case DType::kUnknown: break;
  }
  return "unknown";
}

size_t DTypeSize(DType dtype) {
  switch (dtype) {
    case DType::kFloat32: return 4;
    case DType::kUint8: return 1;
    case DType::kInt8: return 1;
    case DType::kInt32: return 4;
    case DType::kInt64: return 8;
    case DType::kBool: return 1;
    case DType::kUnknown: break;
  }
  return 0;
}

std::string ShapeToString(absl::Span<const int64_t> shape) {
  return absl::StrCat("[", absl::StrJoin(shape, ",", [](std::string* out, int64_t d) {
                        absl::StrAppend(out, d < 0 ? std::string("?") : absl::StrCat(d));
                      }),
                      "]");
}

int64_t NumElements(absl::Span<const int64_t> shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

void Tensor::FreeDeleter::operator()(void* p) const { std::free(p); }

Tensor::Tensor(DType dtype, Shape shape) : Tensor(dtype, std::move(shape), /*zero_fill=*/true) {}

Tensor Tensor::Uninitialized(DType dtype, Shape shape) {
  return Tensor(dtype, std::move(shape), /*zero_fill=*/false);
}

Tensor::Tensor(DType dtype, Shape shape, bool zero_fill) : dtype_(dtype), shape_(std::move(shape)) {
  // 64-byte alignment: full cache lines and AVX-512 loads for oneDNN; never a null
  // pointer, even for empty tensors, so callers need no special case.
  size_t bytes = byte_size();
  size_t padded = (bytes + 63) / 64 * 64;
  if (padded == 0) padded = 64;
  void* p = std::aligned_alloc(64, padded);
  if (p == nullptr) throw std::bad_alloc();  // as operator new would
  if (zero_fill) std::memset(p, 0, padded);
  data_.reset(p);
}

Tensor Tensor::Clone() const {
  Tensor copy = Uninitialized(dtype_, shape_);
  if (byte_size() > 0) std::memcpy(copy.data(), data(), byte_size());
  return copy;
}

}  // namespace q8::engine
