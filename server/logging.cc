#include "server/logging.h"

#include <chrono>
#include <ctime>
#include <memory>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "grpc/support/log.h"
#include "spdlog/pattern_formatter.h"

namespace q8::server {
namespace {

// An event's payload: kEventMark, the message, then kFieldSeparator key
// kFieldSeparator value for each field. Both are ASCII control characters (record and
// unit separator) that LogEvent removes from the text it is given.
constexpr char kEventMark = '\x1e';
constexpr char kFieldSeparator = '\x1f';

struct Event {
  absl::string_view message;
  std::vector<std::pair<absl::string_view, absl::string_view>> fields;
};

bool IsEvent(absl::string_view payload) { return !payload.empty() && payload[0] == kEventMark; }

Event Decode(absl::string_view payload) {
  Event event;
  payload.remove_prefix(1);
  std::vector<absl::string_view> parts;
  size_t start = 0;
  for (size_t i = 0; i <= payload.size(); ++i) {
    if (i == payload.size() || payload[i] == kFieldSeparator) {
      parts.push_back(payload.substr(start, i - start));
      start = i + 1;
    }
  }
  event.message = parts[0];
  for (size_t i = 1; i + 1 < parts.size(); i += 2)
    event.fields.emplace_back(parts[i], parts[i + 1]);
  return event;
}

void AppendSanitized(absl::string_view text, std::string* out) {
  for (char c : text) out->push_back(c == kEventMark || c == kFieldSeparator ? ' ' : c);
}

// logfmt-style: key=value, or key="value" when the value has spaces, quotes or is empty.
std::string RenderText(const Event& event) {
  std::string out(event.message);
  for (const auto& [key, value] : event.fields) {
    absl::StrAppend(&out, " ", key, "=");
    const bool quote = value.empty() || value.find_first_of(" \"=\t") != absl::string_view::npos;
    if (!quote) {
      absl::StrAppend(&out, value);
      continue;
    }
    out.push_back('"');
    for (char c : value) {
      if (c == '"' || c == '\\') out.push_back('\\');
      out.push_back(c);
    }
    out.push_back('"');
  }
  return out;
}

void AppendJsonString(absl::string_view s, std::string* out) {
  out->push_back('"');
  for (unsigned char c : s) {
    switch (c) {
      case '"':
        out->append("\\\"");
        break;
      case '\\':
        out->append("\\\\");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\r':
        out->append("\\r");
        break;
      case '\t':
        out->append("\\t");
        break;
      default:
        if (c < 0x20) {
          absl::StrAppendFormat(out, "\\u%04x", c);
        } else {
          out->push_back(static_cast<char>(c));
        }
    }
  }
  out->push_back('"');
}

// 2026-01-31T12:00:00.123Z
std::string Rfc3339Utc(spdlog::log_clock::time_point time) {
  const auto since_epoch = time.time_since_epoch();
  const std::time_t seconds = static_cast<std::time_t>(
      std::chrono::duration_cast<std::chrono::seconds>(since_epoch).count());
  const int64_t millis =
      std::chrono::duration_cast<std::chrono::milliseconds>(since_epoch).count() % 1000;
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  return absl::StrFormat("%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                         tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(millis));
}

// spdlog's usual pattern; events get their fields appended as key=value.
class TextFormatter : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    const absl::string_view payload(msg.payload.data(), msg.payload.size());
    if (!IsEvent(payload)) {
      inner_.format(msg, dest);
      return;
    }
    const std::string text = RenderText(Decode(payload));
    spdlog::details::log_msg copy = msg;
    copy.payload = spdlog::string_view_t(text.data(), text.size());
    inner_.format(copy, dest);
  }
  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<TextFormatter>();
  }

 private:
  spdlog::pattern_formatter inner_;
};

// One JSON object per line: time, level, message, then the event's fields.
class JsonFormatter : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    const absl::string_view payload(msg.payload.data(), msg.payload.size());
    Event event;
    if (IsEvent(payload)) {
      event = Decode(payload);
    } else {
      event.message = payload;
    }
    std::string line = "{\"time\":";
    AppendJsonString(Rfc3339Utc(msg.time), &line);
    line.append(",\"level\":");
    const auto level = spdlog::level::to_string_view(msg.level);
    AppendJsonString(absl::string_view(level.data(), level.size()), &line);
    line.append(",\"message\":");
    AppendJsonString(event.message, &line);
    for (const auto& [key, value] : event.fields) {
      line.push_back(',');
      AppendJsonString(key, &line);
      line.push_back(':');
      AppendJsonString(value, &line);
    }
    line.append("}\n");
    dest.append(line.data(), line.data() + line.size());
  }
  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<JsonFormatter>();
  }
};

std::unique_ptr<spdlog::formatter> MakeFormatter(absl::string_view format) {
  if (format == "json") return std::make_unique<JsonFormatter>();
  return std::make_unique<TextFormatter>();
}

// gRPC's own log lines (gpr_log) go through spdlog too, so --log-format=json covers them.
void LogGrpcMessage(gpr_log_func_args* args) {
  const spdlog::level::level_enum level =
      args->severity == GPR_LOG_SEVERITY_ERROR  ? spdlog::level::err
      : args->severity == GPR_LOG_SEVERITY_INFO ? spdlog::level::info
                                                : spdlog::level::debug;
  LogEvent(level, args->message, {{"source", absl::StrCat("grpc ", args->file, ":", args->line)}});
}

std::string EncodeEvent(absl::string_view message, std::initializer_list<LogField> fields) {
  std::string payload(1, kEventMark);
  AppendSanitized(message, &payload);
  for (const LogField& f : fields) {
    payload.push_back(kFieldSeparator);
    AppendSanitized(f.key, &payload);
    payload.push_back(kFieldSeparator);
    AppendSanitized(f.value, &payload);
  }
  return payload;
}

}  // namespace

absl::Status ConfigureLogging(absl::string_view format, absl::string_view level) {
  if (format != "text" && format != "json") {
    return absl::InvalidArgumentError(
        absl::StrCat("log format '", format, "' is not one of text, json"));
  }
  const spdlog::level::level_enum lvl = spdlog::level::from_str(std::string(level));
  // from_str maps anything unknown to off; only "off" itself may mean off.
  if (lvl == spdlog::level::off && level != "off") {
    return absl::InvalidArgumentError(absl::StrCat("log level '", level, "' is unknown"));
  }
  spdlog::set_formatter(MakeFormatter(format));
  spdlog::set_level(lvl);
  gpr_set_log_function(LogGrpcMessage);
  return absl::OkStatus();
}

void LogEvent(spdlog::level::level_enum level, absl::string_view message,
              std::initializer_list<LogField> fields) {
  if (!spdlog::should_log(level)) return;
  spdlog::log(level, "{}", EncodeEvent(message, fields));
}

std::string FormatForTest(absl::string_view format, spdlog::level::level_enum level,
                          absl::string_view message, std::initializer_list<LogField> fields) {
  const std::string payload = EncodeEvent(message, fields);
  spdlog::details::log_msg msg("", level, spdlog::string_view_t(payload.data(), payload.size()));
  spdlog::memory_buf_t buf;
  MakeFormatter(format)->format(msg, buf);
  return std::string(buf.data(), buf.size());
}

}  // namespace q8::server
