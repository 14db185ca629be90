// defines: what every command that runs work does first: read --config FILE plus --section.key
// overrides, choose threads per rank (re-executing for the OpenMP wait policy when needed), start
// MPI, set up the logger, create the run directory and write the resolved config.ini into it.
#pragma once
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "sdzero/core/config.hpp"
#include "sdzero/dist/world.hpp"

namespace sdz::app {

struct CommandLine {
  std::string config_path;                   // --config FILE (may be empty)
  std::vector<std::string> overrides;        // --section.key=value ...
  std::map<std::string, std::string> flags;  // the command's own flags (--name value / --name=value / --name)
};
// `own_flags` lists the command's flags without "--"; a trailing '=' marks one that takes a value
// ("resume="). Anything with a dot is a config override; anything else is an error naming it.
CommandLine parse_command_line(const std::vector<std::string>& args, const std::vector<std::string>& own_flags);
// The number given as --key (def when the flag is absent); a clear error naming the flag otherwise.
double flag_number(const CommandLine& cl, const std::string& key, double def);
// tools/<name> of the source tree: $SDZ_TOOLS_DIR, else tools/ beside the build directory that holds
// the binary (build*/sdzero), else ./tools; "" when none exists.
std::string find_tool(const std::string& name);

struct Session {
  Config cfg;
  std::unique_ptr<World> world;
  int threads = 1;
  std::string run_dir;
};
// Starts MPI. `write_run_dir`: create run.dir and write config.ini there (rank 0). Without --config,
// `builtin_ini` (when not empty) is the configuration file's text.
Session start_session(const CommandLine& cl, bool write_run_dir, const std::string& builtin_ini = "");

}  // namespace sdz::app
