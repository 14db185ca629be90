// defines: the command registry of the `sdzero` executable. Each command lives in its own file
// src/app/cmd_<name>.cpp and registers itself with SDZ_COMMAND; main() dispatches by name.
#pragma once
#include <string>
#include <vector>

namespace sdz::app {

using CommandFn = int (*)(const std::vector<std::string>& args);

struct Command {
  std::string name;
  std::string summary;  // one line for `sdzero help`
  std::string usage;    // full text for `sdzero help <name>`
  CommandFn run;
};

const std::vector<Command>& commands();  // sorted by name
const Command* find_command(const std::string& name);
struct Registrar {
  explicit Registrar(Command c);
};

// argv as main() received it (for re-execution with a changed environment).
char** original_argv();

}  // namespace sdz::app

#define SDZ_CONCAT2(a, b) a##b
#define SDZ_CONCAT(a, b) SDZ_CONCAT2(a, b)
#define SDZ_COMMAND(...) static ::sdz::app::Registrar SDZ_CONCAT(sdz_registrar_, __LINE__)(::sdz::app::Command{__VA_ARGS__})
