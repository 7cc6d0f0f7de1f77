// The convolution / pooling family's registration: one entry point for registry.cc, one
// Register function per file of the family.
#include "engine/dnnl/kernel.h"

namespace q8::engine::dnnl_backend {

void RegisterConvKernels(std::map<std::string, KernelBuilder>& registry);
void RegisterConvIntegerKernels(std::map<std::string, KernelBuilder>& registry);
void RegisterPoolKernels(std::map<std::string, KernelBuilder>& registry);
void RegisterQAddKernel(std::map<std::string, KernelBuilder>& registry);
void RegisterClipKernel(std::map<std::string, KernelBuilder>& registry);

void RegisterConvPoolKernels(std::map<std::string, KernelBuilder>& registry) {
  RegisterConvKernels(registry);
  RegisterConvIntegerKernels(registry);
  RegisterPoolKernels(registry);
  RegisterQAddKernel(registry);
  RegisterClipKernel(registry);
}

}  // namespace q8::engine::dnnl_backend
