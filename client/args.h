// Command-line parsing for q8c: `q8c COMMAND [--flag=value | --flag value |
// --switch]...`.
// Hand-rolled rather than absl flags because each subcommand accepts its own
// set of flags, and some (--input, --dtype) repeat.
#ifndef Q8SERVE_CLIENT_ARGS_H_
#define Q8SERVE_CLIENT_ARGS_H_

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace q8::client {

class Args {
 public:
  // Parses `argv` (without program and command name). `known` are the flag
  // names (without "--") the command accepts, `repeatable` those that may be
  // given more than once, `switches` those that take no value (`--json`;
  // they must also be in `known`). Unknown flags, positional arguments, a
  // missing value, a value given to a switch and repeats of a
  // non-repeatable flag are errors.
  static absl::StatusOr<Args> Parse(const std::vector<std::string>& argv,
                                    const std::set<std::string>& known,
                                    const std::set<std::string>& repeatable,
                                    const std::set<std::string>& switches);

  bool Has(const std::string& name) const { return values_.count(name) > 0; }
  // Last value, or `def` if absent.
  std::string Get(const std::string& name, absl::string_view def = "") const;
  // Every value in command-line order (empty if absent).
  std::vector<std::string> GetAll(const std::string& name) const;
  // Integer flag; error names the flag.
  absl::StatusOr<int64_t> GetInt(const std::string& name, int64_t def) const;
  // Error "missing --name" if absent or empty.
  absl::StatusOr<std::string> Require(const std::string& name) const;

 private:
  std::map<std::string, std::vector<std::string>> values_;
};

}  // namespace q8::client

#endif  // Q8SERVE_CLIENT_ARGS_H_
