// `sdzero config`: resolve a configuration (file + overrides) and print it, or report its error.
#include <iostream>

#include "sdzero/app/command.hpp"
#include "sdzero/app/schema.hpp"
#include "sdzero/app/setup.hpp"
#include "sdzero/core/files.hpp"

namespace sdz::app {

static int config_cmd(const std::vector<std::string>& args) {
  CommandLine cl = parse_command_line(args, {"out="});
  Config cfg = Config::load(schema(), cl.config_path, cl.overrides);
  if (cl.flags.count("out")) write_file_atomic(cl.flags["out"], cfg.to_ini());
  else std::cout << cfg.to_ini();
  return 0;
}

SDZ_COMMAND("config", "check a configuration and print it resolved (defaults + file + overrides)",
            "usage: sdzero config [--config FILE] [--section.key=value ...] [--out FILE]\n"
            "Exits non-zero naming the file:line and key of the first problem.",
            config_cmd);

}  // namespace sdz::app
