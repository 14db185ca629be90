// `sdzero make-data`: write the built-in tasks' question files (the small files shipped in data/).
#include <iostream>
#include <nlohmann/json.hpp>

#include "sdzero/app/command.hpp"
#include "sdzero/app/schema.hpp"
#include "sdzero/app/setup.hpp"
#include "sdzero/core/error.hpp"
#include "sdzero/core/files.hpp"
#include "sdzero/core/rng.hpp"
#include "sdzero/core/strings.hpp"
#include "sdzero/tasks/builtin.hpp"
#include "sdzero/tasks/dataset.hpp"
#include "sdzero/tasks/keys.hpp"

namespace sdz::app {

static size_t count_flag(const CommandLine& cl, const std::string& name, size_t def) {
  auto it = cl.flags.find(name);
  if (it == cl.flags.end()) return def;
  char* end = nullptr;
  long v = std::strtol(it->second.c_str(), &end, 10);
  if (it->second.empty() || *end || v < 0 || v > 10000000) throw Error("--" + name + " needs a count", "command line");
  return size_t(v);
}

static int make_data_cmd(const std::vector<std::string>& args) {
  CommandLine cl = parse_command_line(args, {"out=", "tasks=", "q1=", "q2=", "eval="});
  Config cfg = Config::load(schema(), cl.config_path, cl.overrides);
  std::string out = cl.flags.count("out") ? cl.flags["out"] : "data/builtin";
  std::vector<std::string> names = tasks::builtin_task_names();
  if (cl.flags.count("tasks")) names = split(cl.flags["tasks"], ',');
  const size_t sizes[3] = {count_flag(cl, "q1", 64), count_flag(cl, "q2", 64), count_flag(cl, "eval", 32)};
  tasks::SplitSpec spec = tasks::dataset_spec_from(cfg).split;
  const uint64_t seed = spec.seed;
  tasks::TaskKnobs knobs = tasks::task_knobs_from(cfg);
  // Every task is made (and its name checked) before the first file is written.
  std::vector<std::unique_ptr<tasks::BuiltinTask>> made;
  for (const auto& name : names) {
    if (trim(name).empty()) throw Error("empty item in \"" + cl.flags["tasks"] + "\"", "--tasks", "e.g. div,cd");
    made.push_back(tasks::make_builtin_task(trim(name), knobs));
  }
  make_dirs(out);
  for (const auto& task : made) {
    const tasks::Split splits[3] = {tasks::Split::Q1, tasks::Split::Q2, tasks::Split::Eval};
    for (int s = 0; s < 3; ++s) {
      std::string text;
      for (size_t i = 0; i < sizes[s]; ++i) {
        tasks::Question q = tasks::builtin_question(*task, spec, splits[s], i);
        tasks::Problem p(q.prompt, q.target.answer, "");
        std::string wrong = task->wrong_attempt(p, key_seed({seed, hash_string(q.id), 1}));
        nlohmann::json row = {{"id", q.id},           {"kind", q.kind},       {"question", q.prompt},
                              {"answer", q.target.answer}, {"solution", q.worked_solution()}, {"wrong", wrong},
                              {"correction", task->correction(p, wrong)}};
        text += row.dump() + "\n";
      }
      std::string path = out + "/" + task->name() + "." + tasks::split_name(splits[s]) + ".jsonl";
      write_file_atomic(path, text);
      std::cout << path << ": " << sizes[s] << " questions\n";
    }
  }
  return 0;
}

SDZ_COMMAND("make-data", "write the built-in tasks' question files (data/builtin)",
            "usage: sdzero make-data [--out DIR] [--tasks div,cd,mul,arith,countdown] [--q1 N] [--q2 N] [--eval N]\n"
            "                        [--config FILE] [--data.key=value ...]\n"
            "Writes DIR/<task>.<q1|q2|eval>.jsonl (default DIR data/builtin, 64/64/32 questions) with fields\n"
            "id, kind, question, answer (the verifier's target), solution (worked), wrong (a plausible wrong\n"
            "attempt) and correction (a revision that uses it). Generation is a pure function of\n"
            "data.split_seed and the difficulty keys (data.mul_digits, data.arith_ops, ...): the same\n"
            "command always writes the same bytes.",
            make_data_cmd);

}  // namespace sdz::app
