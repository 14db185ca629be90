// `sdzero help [command | config]`
#include <iostream>

#include "sdzero/app/command.hpp"
#include "sdzero/app/schema.hpp"
#include "sdzero/core/error.hpp"

namespace sdz::app {

static int help(const std::vector<std::string>& args) {
  if (args.empty()) {
    std::cout << "sdzero: SD-Zero post-training (self-revision + on-policy self-distillation) and baselines.\n\n"
                 "usage: sdzero <command> [options]\n       sdzero help <command>   details of one command\n"
                 "       sdzero help config    every configuration key with its default\n\ncommands:\n";
    for (const auto& c : commands()) std::cout << "  " << c.name << std::string(c.name.size() < 12 ? 12 - c.name.size() : 1, ' ') << c.summary << "\n";
    return 0;
  }
  if (args[0] == "config") {
    std::cout << "Configuration keys. Set them in an INI file ([section] then key = value; strings may be\n"
                 "quoted with \\n \\t \\r \\\" \\\\ escapes) or on the command line as --section.key=value.\n\n"
              << schema().help_text();
    return 0;
  }
  const Command* c = find_command(args[0]);
  if (!c) throw Error("no command named '" + args[0] + "'", "command line", "run `sdzero help` for the list");
  std::cout << "sdzero " << c->name << ": " << c->summary << "\n\n" << c->usage << "\n";
  return 0;
}

SDZ_COMMAND("help", "list commands, describe one, or list every configuration key",
            "usage: sdzero help [<command> | config]", help);

}  // namespace sdz::app
