// What a profile says about a oneDNN primitive: which implementation oneDNN picked (the
// name ONEDNN_VERBOSE prints, e.g. "brg:avx512_core_vnni" or "ref:any") and the
// multiply-accumulates of a convolution, matmul or inner product, from its descriptors:
//   convolution    MACs = |dst| · |weights| / OC     (each output sums IC/G · KH · KW terms)
//   inner product  MACs = |dst| · |weights| / OC     (each output sums IC · spatial terms)
//   matmul         MACs = |dst| · K,  K = weights dim -2
#include <oneapi/dnnl/dnnl.hpp>

#include "engine/dnnl/kernel.h"

namespace q8::engine::dnnl_backend {
namespace {

int64_t Elements(const dnnl_memory_desc_t* md) {
  if (md == nullptr || md->ndims == 0) return 0;
  int64_t n = 1;
  for (int i = 0; i < md->ndims; ++i) n *= md->dims[i];
  return n;
}

const dnnl_memory_desc_t* Query(const_dnnl_primitive_desc_t pd, dnnl_query_t what) {
  return dnnl_primitive_desc_query_md(pd, what, 0);
}

}  // namespace

PrimitiveProfile DescribePrimitive(const dnnl::primitive& primitive) {
  PrimitiveProfile out;
  const_dnnl_primitive_desc_t pd = primitive.get_primitive_desc();
  if (pd == nullptr) return out;
  const char* impl = nullptr;
  if (dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &impl) == dnnl_success &&
      impl != nullptr) {
    out.impl = impl;
  }
  dnnl_primitive_kind_t kind = dnnl_undefined_primitive;
  if (dnnl_primitive_desc_query(pd, dnnl_query_primitive_kind, 0, &kind) != dnnl_success) {
    return out;
  }
  const dnnl_memory_desc_t* dst = Query(pd, dnnl_query_dst_md);
  const dnnl_memory_desc_t* weights = Query(pd, dnnl_query_weights_md);
  if (dst == nullptr || weights == nullptr || dst->ndims < 2 || weights->ndims < 2) return out;
  switch (kind) {
    case dnnl_convolution:
    case dnnl_inner_product: {
      const int64_t oc = dst->dims[1];
      if (oc > 0) out.macs = Elements(dst) * (Elements(weights) / oc);
      break;
    }
    case dnnl_matmul:
      out.macs = Elements(dst) * weights->dims[weights->ndims - 2];
      break;
    default:
      break;
  }
  return out;
}

}  // namespace q8::engine::dnnl_backend
