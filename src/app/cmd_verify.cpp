// `sdzero verify`: audit the verifiers on your own data. JSON lines in, {"reward","reason"} lines out,
// in order, through the same Verifier the training uses.
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "sdzero/app/command.hpp"
#include "sdzero/app/schema.hpp"
#include "sdzero/app/setup.hpp"
#include "sdzero/core/error.hpp"
#include "sdzero/core/files.hpp"
#include "sdzero/core/strings.hpp"
#include "sdzero/tasks/sandbox.hpp"
#include "sdzero/tasks/verifier.hpp"

namespace sdz::app {

namespace {

struct Parsed {
  bool ok = false;
  std::string error;
  tasks::VerifyItem item;
};

Parsed parse_line(const std::string& text, long line) {
  Parsed p;
  std::string at = "line " + std::to_string(line) + ": ";
  if (trim(text).empty()) return p.error = at + "empty line", p;
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return p.error = at + "not a JSON object", p;
  auto str = [&](const char* k, std::string& dst) {
    if (!j.contains(k)) return false;
    if (j[k].is_string()) dst = j[k].get<std::string>();
    else if (j[k].is_number()) dst = j[k].dump();
    else return false;
    return true;
  };
  if (!str("kind", p.item.kind)) return p.error = at + "missing field 'kind' (math, code or a built-in task)", p;
  if (!str("response", p.item.response)) return p.error = at + "missing field 'response'", p;
  str("language", p.item.target.language);
  if (j.contains("tests")) {
    if (!j["tests"].is_array()) return p.error = at + "field 'tests' must be an array", p;
    for (const auto& t : j["tests"]) {
      if (!t.is_object() || !t.contains("input") || !t.contains("output") || !t["input"].is_string() ||
          !t["output"].is_string())
        return p.error = at + "each test needs string \"input\" and \"output\"", p;
      p.item.target.tests.push_back({t["input"].get<std::string>(), t["output"].get<std::string>()});
    }
  }
  if (!str("answer", p.item.target.answer) && p.item.target.tests.empty())
    return p.error = at + "missing field 'answer' (or 'tests' for code)", p;
  p.ok = true;
  return p;
}

}  // namespace

static int verify_cmd(const std::vector<std::string>& args) {
  CommandLine cl = parse_command_line(args, {"in=", "check-sandbox"});
  Config cfg = Config::load(schema(), cl.config_path, cl.overrides);
  if (cl.flags.count("check-sandbox")) {
    std::cout << tasks::sandbox_support().summary(cfg.get_bool("reward.sandbox_userns")) << "\n";
    return 0;
  }
  tasks::Verifier verifier(tasks::verifier_options_from(cfg));
  std::ifstream file;
  if (cl.flags.count("in")) {
    if (is_directory(cl.flags["in"])) throw Error("is a directory, not a JSONL file", "--in " + cl.flags["in"]);
    file.open(cl.flags["in"], std::ios::binary);
    if (!file) throw Error("cannot open input", cl.flags["in"]);
  }
  std::istream& in = cl.flags.count("in") ? static_cast<std::istream&>(file) : std::cin;
  // Chunks keep memory bounded on large files while letting a chunk's items run in parallel.
  const size_t chunk = 64;
  long line = 0;
  bool more = true;
  while (more) {
    std::vector<Parsed> parsed;
    std::string text;
    while (parsed.size() < chunk && (more = bool(std::getline(in, text)))) parsed.push_back(parse_line(text, ++line));
    std::vector<tasks::VerifyItem> items;
    for (const auto& p : parsed)
      if (p.ok) items.push_back(p.item);
    std::vector<tasks::Verdict> verdicts = verifier.verify_batch(items);
    size_t k = 0;
    for (const auto& p : parsed) {
      tasks::Verdict v = p.ok ? verdicts[k++] : tasks::fail(p.error);
      nlohmann::json out = {{"reward", v.reward}, {"reason", v.reason}};
      std::cout << out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    }
    std::cout.flush();
  }
  return 0;
}

SDZ_COMMAND("verify", "score responses with the training verifiers (JSON lines in, rewards out)",
            "usage: sdzero verify [--in FILE] [--config FILE] [--reward.key=value ...] [--check-sandbox]\n"
            "Reads JSON lines {\"kind\": \"math\" | \"code\" | div | cd | mul | arith | countdown, \"response\": ...,\n"
            "\"answer\": ... or \"tests\": [{\"input\", \"output\"}], \"language\": optional} from FILE or stdin and\n"
            "writes {\"reward\", \"reason\"} per line, in order. A bad line gets reward 0 and a reason; the\n"
            "others go on. --check-sandbox prints what code isolation this machine permits.",
            verify_cmd);

}  // namespace sdz::app
