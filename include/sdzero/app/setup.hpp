// defines: what every command that runs work does first: read --config FILE plus --section.key
// overrides, choose threads per rank (re-executing for the OpenMP wait policy when needed), start
// MPI, set up the logger, create the run directory and write the resolved config.ini into it.
#pragma once
#include <functional>
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
// The same, checked: finite, within [min, max], and a whole number when `whole`; errors name --key.
double flag_in(const CommandLine& cl, const std::string& key, double def, double min, double max, bool whole = false);
int64_t flag_int(const CommandLine& cl, const std::string& key, int64_t def, int64_t min, int64_t max);
// tools/<name> of the source tree: $SDZ_TOOLS_DIR, else tools/ beside the build directory that holds
// the binary (build*/sdzero), else ./tools; "" when none exists.
std::string find_tool(const std::string& name);

struct Session {
  Config cfg;
  std::unique_ptr<World> world;
  int threads = 1;
  std::string run_dir;
};
// What a command does with run.dir: nothing; use it (create it, write config.ini: the demo, whose
// directories are caches it reuses); or start a fresh run there (train: an earlier run's metrics,
// checkpoints or final model are refused unless ckpt.resume continues them).
enum class RunDir { None, Reuse, Fresh };
// Starts MPI. `builtin_ini` (when not empty) is a base configuration under --config and overrides,
// named `builtin_name` in errors.
// `relaunch_ranks` (when given) reads the resolved config before MPI starts: a result above 1 runs the
// program again under mpirun with that many ranks when it was started directly (the demo).
Session start_session(const CommandLine& cl, RunDir run_dir, const std::string& builtin_ini = "",
                      const std::string& builtin_name = "built-in demo.ini",
                      const std::function<int(const Config&, const LaunchInfo&)>& relaunch_ranks = nullptr);
// Where a session's numbers were computed, for reports: "AMD EPYC; OpenBLAS core Zen; CPU matmuls
// onednn, fused kernels on; 2 rank(s) x 1 thread(s)". Kernels for other instruction sets round
// differently, so a run is bit-reproducible only where this line reads the same.
std::string machine_summary(const Session& s);
// run.dir, or runs/<run.name> when it is empty.
std::string run_dir_of(const Config& cfg);
// The refusal of RunDir::Fresh, before anything is written: an sdz::Error when run_dir holds an earlier run.
void refuse_an_earlier_run(const std::string& run_dir);

}  // namespace sdz::app
