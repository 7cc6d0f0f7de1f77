// A Step that copies a value from one layout to another (oneDNN reorder), e.g.
// channels-last → plain in front of a kernel that needs plain, or at a graph output.
#pragma once

#include <memory>

#include "engine/dnnl/kernel.h"

namespace q8::engine::dnnl_backend {

// Input 0 laid out as `from`, output 0 as `to` (same dtype and shape).
std::unique_ptr<Step> MakeReorderStep(const ValueDesc& from, const ValueDesc& to);

}  // namespace q8::engine::dnnl_backend
