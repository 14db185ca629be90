// `sdzero inspect FILE`: a checkpoint's metadata and every dataset with its checksum status.
#include <iostream>

#include "sdzero/app/command.hpp"
#include "sdzero/app/setup.hpp"
#include "sdzero/ckpt/inspect.hpp"
#include "sdzero/ckpt/run_dir.hpp"
#include "sdzero/core/error.hpp"
#include "sdzero/core/files.hpp"
#include "sdzero/core/strings.hpp"

namespace sdz::app {

static int inspect_cmd(const std::vector<std::string>& args) {
  if (args.empty() || args[0].rfind("--", 0) == 0)
    throw Error("inspect needs a checkpoint file or a run directory", "command line", "sdzero inspect FILE");
  std::string target = args[0];
  CommandLine cl = parse_command_line({args.begin() + 1, args.end()}, {"no-config"});
  // A run directory means its newest checkpoint.
  if (is_directory(target) && !file_exists(ckpt::checkpoint_dir(target)))
    throw Error("a directory without checkpoints/", target, "give a checkpoint file or a run directory");
  if (!ends_with(target, ".h5") && file_exists(ckpt::checkpoint_dir(target))) {
    auto all = ckpt::list_checkpoints(target);
    if (all.empty()) throw Error("no checkpoint in " + ckpt::checkpoint_dir(target), target);
    target = all.back().second;
  }
  ckpt::Inspection in = ckpt::inspect_checkpoint(target);
  std::cout << ckpt::format_inspection(in, !cl.flags.count("no-config"));
  if (int bad = in.bad_datasets()) {
    std::cerr << "sdzero inspect: " << bad << " damaged dataset(s) in " << target << "\n";
    return 2;
  }
  return 0;
}

SDZ_COMMAND("inspect", "print a checkpoint's metadata and verify every dataset's checksum",
            "usage: sdzero inspect FILE|RUN_DIR [--no-config]\n"
            "Prints step, policy version, phase, code version, optimizer, teacher, data cursors, budget\n"
            "counters, parameter count and bytes, the metrics summary, every dataset with dtype, shape,\n"
            "size and checksum status, and the resolved config (unless --no-config). A run directory\n"
            "means its newest checkpoint. Exits 2 when a dataset is damaged, 1 when the file cannot be read.",
            inspect_cmd);

}  // namespace sdz::app
