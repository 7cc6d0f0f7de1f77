#include "server/metrics/process_metrics.h"

#include <sys/resource.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"

namespace q8::server {
namespace {

// The fields of /proc/self/stat after "pid (comm)", so fields()[0] is field 3 (state) of
// proc(5); comm may hold spaces and parentheses, hence the split at the last ')'.
struct ProcStat {
  std::vector<std::string> fields;
  // proc(5) numbers fields from 1; comm is 2.
  std::optional<double> Field(int number) const {
    const size_t i = static_cast<size_t>(number - 3);
    double v = 0;
    if (number < 3 || i >= fields.size() || !absl::SimpleAtod(fields[i], &v)) return std::nullopt;
    return v;
  }
};

std::optional<ProcStat> ReadProcStat() {
  std::ifstream in("/proc/self/stat");
  std::stringstream text;
  text << in.rdbuf();
  const std::string s = text.str();
  const size_t close = s.rfind(')');
  if (close == std::string::npos) return std::nullopt;
  ProcStat stat;
  stat.fields = absl::StrSplit(absl::string_view(s).substr(close + 1), ' ', absl::SkipEmpty());
  return stat;
}

// "btime N" of /proc/stat: boot time, Unix seconds.
std::optional<double> BootTimeSeconds() {
  std::ifstream in("/proc/stat");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("btime ", 0) != 0) continue;
    double v = 0;
    if (absl::SimpleAtod(absl::string_view(line).substr(6), &v)) return v;
  }
  return std::nullopt;
}

std::optional<double> StartTimeSeconds() {
  const std::optional<ProcStat> stat = ReadProcStat();
  const std::optional<double> boot = BootTimeSeconds();
  const long ticks = sysconf(_SC_CLK_TCK);
  if (!stat.has_value() || !boot.has_value() || ticks <= 0) return std::nullopt;
  const std::optional<double> start_ticks = stat->Field(22);  // starttime, since boot
  if (!start_ticks.has_value()) return std::nullopt;
  return *boot + *start_ticks / static_cast<double>(ticks);
}

prometheus::MetricFamily Family(const char* name, const char* help, prometheus::MetricType type,
                                double value) {
  prometheus::ClientMetric metric;
  if (type == prometheus::MetricType::Counter) {
    metric.counter.value = value;
  } else {
    metric.gauge.value = value;
  }
  return prometheus::MetricFamily{name, help, type, {metric}};
}

}  // namespace

ProcessMetrics::ProcessMetrics() : start_time_seconds_(StartTimeSeconds()) {}

std::vector<prometheus::MetricFamily> ProcessMetrics::Collect() const {
  using prometheus::MetricType;
  std::vector<prometheus::MetricFamily> out;
  if (start_time_seconds_.has_value()) {
    out.push_back(Family("process_start_time_seconds",
                         "Start time of the process since unix epoch in seconds.",
                         MetricType::Gauge, *start_time_seconds_));
  }
  if (const std::optional<ProcStat> stat = ReadProcStat(); stat.has_value()) {
    const long ticks = sysconf(_SC_CLK_TCK);
    const std::optional<double> utime = stat->Field(14);
    const std::optional<double> stime = stat->Field(15);
    if (utime.has_value() && stime.has_value() && ticks > 0) {
      out.push_back(Family("process_cpu_seconds_total",
                           "Total user and system CPU time spent in seconds.", MetricType::Counter,
                           (*utime + *stime) / static_cast<double>(ticks)));
    }
    if (const std::optional<double> vsize = stat->Field(23); vsize.has_value()) {
      out.push_back(Family("process_virtual_memory_bytes", "Virtual memory size in bytes.",
                           MetricType::Gauge, *vsize));
    }
    const long page = sysconf(_SC_PAGESIZE);
    if (const std::optional<double> rss = stat->Field(24); rss.has_value() && page > 0) {
      out.push_back(Family("process_resident_memory_bytes", "Resident memory size in bytes.",
                           MetricType::Gauge, *rss * static_cast<double>(page)));
    }
  }
  std::error_code ec;
  double fds = 0;
  for (std::filesystem::directory_iterator it("/proc/self/fd", ec), end; !ec && it != end;
       it.increment(ec)) {
    ++fds;
  }
  if (!ec) {
    out.push_back(
        Family("process_open_fds", "Number of open file descriptors.", MetricType::Gauge, fds));
  }
  if (rlimit limit{}; getrlimit(RLIMIT_NOFILE, &limit) == 0) {
    out.push_back(Family("process_max_fds", "Maximum number of open file descriptors.",
                         MetricType::Gauge, static_cast<double>(limit.rlim_cur)));
  }
  return out;
}

}  // namespace q8::server
