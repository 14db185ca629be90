#include "sdzero/core/error.hpp"

namespace sdz {

static std::string render(const std::string& what, const std::string& where, const std::string& hint) {
  std::string s = where.empty() ? what : where + ": " + what;
  if (!hint.empty()) s += " (" + hint + ")";
  return s;
}

Error::Error(const std::string& what, const std::string& where, const std::string& hint)
    : std::runtime_error(render(what, where, hint)), what_(what), where_(where), hint_(hint) {}

std::string at_line(const std::string& file, long line) { return file + ":" + std::to_string(line); }

}  // namespace sdz
