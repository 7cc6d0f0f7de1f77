#include "client/args.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace q8::client {

absl::StatusOr<Args> Args::Parse(const std::vector<std::string>& argv,
                                 const std::set<std::string>& known,
                                 const std::set<std::string>& repeatable,
                                 const std::set<std::string>& switches) {
  Args args;
  for (size_t i = 0; i < argv.size(); ++i) {
    const std::string& a = argv[i];
    if (a.size() < 3 || a.compare(0, 2, "--") != 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("unexpected argument '", a, "' (flags start with --)"));
    }
    std::string name, value;
    const size_t eq = a.find('=');
    if (eq != std::string::npos) {
      name = a.substr(2, eq - 2);
      value = a.substr(eq + 1);
      // "--json=false" reading as "--json" would do the opposite of what was
      // asked, so a switch given a value is refused rather than guessed at.
      if (switches.count(name)) {
        return absl::InvalidArgumentError(absl::StrCat("--", name, " takes no value"));
      }
    } else {
      name = a.substr(2);
      // An unknown name is reported below; a switch has no value to take.
      if (known.count(name) && !switches.count(name)) {
        if (i + 1 >= argv.size()) {
          return absl::InvalidArgumentError(absl::StrCat("--", name, " needs a value"));
        }
        value = argv[++i];
      }
    }
    if (!known.count(name)) {
      std::vector<std::string> flags;
      for (const std::string& k : known) flags.push_back("--" + k);
      return absl::InvalidArgumentError(absl::StrCat(
          "unknown flag --", name, " (this command takes: ", absl::StrJoin(flags, ", "), ")"));
    }
    std::vector<std::string>& slot = args.values_[name];
    if (!slot.empty() && !repeatable.count(name)) {
      return absl::InvalidArgumentError(absl::StrCat("--", name, " given more than once"));
    }
    slot.push_back(std::move(value));
  }
  return args;
}

std::string Args::Get(const std::string& name, absl::string_view def) const {
  auto it = values_.find(name);
  return it == values_.end() ? std::string(def) : it->second.back();
}

std::vector<std::string> Args::GetAll(const std::string& name) const {
  auto it = values_.find(name);
  return it == values_.end() ? std::vector<std::string>() : it->second;
}

absl::StatusOr<int64_t> Args::GetInt(const std::string& name, int64_t def) const {
  if (!Has(name)) return def;
  int64_t v;
  if (!absl::SimpleAtoi(Get(name), &v)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--", name, "=", Get(name), " is not an integer"));
  }
  return v;
}

absl::StatusOr<std::string> Args::Require(const std::string& name) const {
  std::string v = Get(name);
  if (v.empty()) return absl::InvalidArgumentError(absl::StrCat("missing --", name));
  return v;
}

}  // namespace q8::client
