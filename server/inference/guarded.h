// Guarded(f): runs f, which returns absl::Status or absl::StatusOr<T>, and turns an exception
// into a Status: std::bad_alloc (a request too large for memory) into RESOURCE_EXHAUSTED,
// anything else into INTERNAL. Request and worker threads have nothing above them to catch
// an exception, and no request may take the server down. Stateless, thread-safe.
#pragma once

#include <exception>
#include <new>
#include <string>

#include "absl/status/status.h"

namespace q8::server {

template <typename F>
auto Guarded(F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const std::bad_alloc&) {
    return absl::ResourceExhaustedError("out of memory while handling the request");
  } catch (const std::exception& e) {
    return absl::InternalError(std::string("unexpected error: ") + e.what());
  }
}

}  // namespace q8::server
