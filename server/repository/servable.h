// A Servable: one loaded version of one model, with its signatures.
//
// Immutable once published (shared as shared_ptr<const Servable>); the only mutable
// part is its request queue (the Batcher), which is internally synchronised. A request
// holds its Servable from the moment it is queued until it is answered, so an unloaded
// version drains its queue on itself and is destroyed (its workers joined) when its last
// request finishes.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "absl/strings/string_view.h"
#include "engine/engine.h"
#include "q8serve/v1/model_config.pb.h"
#include "server/inference/batcher.h"
#include "server/metrics/metrics.h"
#include "server/signature/signature.h"

namespace q8::server {

struct Servable {
  std::string name;     // model name (the repository directory)
  int64_t version = 0;  // positive
  std::string path;     // model file it was loaded from
  q8serve::v1::ModelConfig config;  // <model>/config.pbtxt; defaults when absent
  std::shared_ptr<const engine::Model> model;
  std::map<std::string, Signature, std::less<>> signatures;  // by signature name
  // The signature a request that names none gets (a signature file may choose it).
  std::string default_signature = std::string(kDefaultSignatureName);
  // Request metric handles, owned by Metrics. Null when no metrics are kept (tests).
  ModelMetrics* metrics = nullptr;
  // The request queue and its workers (config batching/instances); never null once
  // published. A pointer so that a const Servable can still queue requests. Last member:
  // destroyed (its workers joined) before anything it runs.
  std::unique_ptr<Batcher> batcher;

  // nullptr when absent; "" means default_signature.
  const Signature* FindSignature(absl::string_view signature_name) const;
  // "{serving_default}" for error messages.
  std::string SignatureNames() const;
};

}  // namespace q8::server
