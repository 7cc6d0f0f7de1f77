// Log output of the server: spdlog's default logger, in one of two formats, and
// structured events (a message plus key=value fields) on top of it.
//
//   --log-format=text   [2026-01-31 12:00:00.123] [warning] request failed model=digits ...
//   --log-format=json   {"time":"2026-01-31T12:00:00.123Z","level":"warning",
//                        "message":"request failed","model":"digits",...}
//
// Plain spdlog::info("...") calls keep working in both formats (their text becomes the
// JSON "message"). LogEvent passes its fields to the formatter inside the message
// (behind control characters no text field contains), so the format is chosen in one
// place, ConfigureLogging, and nothing else needs to know it.
//
// Thread-safety: ConfigureLogging once at start-up, before other threads log; LogEvent
// from any thread.
#pragma once

#include <initializer_list>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "spdlog/spdlog.h"

namespace q8::server {

// `format`: "text" or "json"; `level`: an spdlog level name (trace ... off).
// INVALID_ARGUMENT for anything else.
absl::Status ConfigureLogging(absl::string_view format, absl::string_view level);

struct LogField {
  absl::string_view key;  // a fixed identifier: request_id, model, code, ...
  std::string value;
};

// Logs `message` with `fields` at `level` (if enabled). Text format renders the fields
// as key=value after the message (values with spaces quoted); JSON as keys of the line.
void LogEvent(spdlog::level::level_enum level, absl::string_view message,
              std::initializer_list<LogField> fields);

// For tests: one log line rendered by the formatter ConfigureLogging would install.
std::string FormatForTest(absl::string_view format, spdlog::level::level_enum level,
                          absl::string_view message, std::initializer_list<LogField> fields);

}  // namespace q8::server
