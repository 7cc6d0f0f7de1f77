#include "server/api/live_calls.h"

namespace q8::server {

// Exists exactly as long as its call; intercepts nothing.
class LiveCalls::Interceptor : public grpc::experimental::Interceptor {
 public:
  explicit Interceptor(std::atomic<int64_t>* count) : count_(count) {
    count_->fetch_add(1, std::memory_order_acq_rel);
  }
  ~Interceptor() override { count_->fetch_sub(1, std::memory_order_acq_rel); }
  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    methods->Proceed();
  }

 private:
  std::atomic<int64_t>* const count_;
};

class LiveCalls::Factory : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit Factory(std::atomic<int64_t>* count) : count_(count) {}
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo*) override {
    return new Interceptor(count_);
  }

 private:
  std::atomic<int64_t>* const count_;
};

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
LiveCalls::InterceptorFactory() {
  return std::make_unique<Factory>(&count_);
}

}  // namespace q8::server
