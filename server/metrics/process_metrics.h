// The standard process metrics of Prometheus client libraries (client_golang's process
// collector: same names, types and units), read from /proc at scrape time:
//
//   process_start_time_seconds      gauge    Unix time the process started
//   process_cpu_seconds_total       counter  user + system CPU time
//   process_resident_memory_bytes   gauge    RSS
//   process_virtual_memory_bytes    gauge    virtual memory size
//   process_open_fds                gauge    open file descriptors
//   process_max_fds                 gauge    the RLIMIT_NOFILE soft limit
//
// A metric that cannot be read (no /proc: not Linux, or a restricted sandbox) is left
// out of the scrape rather than reported as 0.
//
// Thread-safe: Collect() only reads /proc and constant state.
#pragma once

#include <optional>
#include <vector>

#include "prometheus/collectable.h"
#include "prometheus/metric_family.h"

namespace q8::server {

class ProcessMetrics : public prometheus::Collectable {
 public:
  // Reads the start time once (it never changes).
  ProcessMetrics();

  std::vector<prometheus::MetricFamily> Collect() const override;

  // Unix time this process started, from /proc/self/stat and the boot time in
  // /proc/stat; nullopt if either cannot be read.
  std::optional<double> start_time_seconds() const { return start_time_seconds_; }

 private:
  const std::optional<double> start_time_seconds_;
};

}  // namespace q8::server
