// q8c subcommands. Each takes its already-parsed flags and returns the
// process exit code (kExitOk / kExitFailure / kExitUsage from rpc.h), having
// printed its result to stdout and any error to stderr.
#ifndef Q8SERVE_CLIENT_COMMANDS_H_
#define Q8SERVE_CLIENT_COMMANDS_H_

#include <set>
#include <string>

#include "absl/strings/string_view.h"
#include "client/args.h"

namespace q8::client {

struct Command {
  absl::string_view name;
  absl::string_view usage;  // Shown by `q8c help` and on usage errors.
  std::set<std::string> flags;
  std::set<std::string> repeatable;
  std::set<std::string> switches;  // Flags without a value, e.g. --json.
  int (*run)(const Args& args);
};

int RunPredict(const Args& args);
int RunMetadata(const Args& args);
int RunSignature(const Args& args);
int RunGraph(const Args& args);
int RunHealth(const Args& args);
int RunBench(const Args& args);
int RunStatus(const Args& args);
int RunReload(const Args& args);

// Prints "q8c: <message>" to stderr and returns kExitUsage.
int UsageError(absl::string_view message);

}  // namespace q8::client

#endif  // Q8SERVE_CLIENT_COMMANDS_H_
