// `sdzero demo` (and `sdzero` with no arguments): the built-in comparison in miniature. For each
// seed: a tiny base model learns the built-in task from worked solutions and revision chains (picked
// by validation accuracy, cached); every method post-trains that base on the same questions with the
// same generation budget, at every learning rate of one shared grid; base, SRT, SD-Zero and the
// baselines are evaluated on held-out test questions. Then the self-localization figure, and the
// report (results.md, results.jsonl, curves.json, plots/).
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <iostream>

#include "sdzero/app/command.hpp"
#include "sdzero/app/demo.hpp"
#include "sdzero/core/error.hpp"
#include "sdzero/core/files.hpp"
#include "sdzero/core/log.hpp"
#include "sdzero/core/progress.hpp"
#include "sdzero/core/strings.hpp"
#include "sdzero/core/timer.hpp"
#include "sdzero/demo_ini_gen.hpp"
#include "sdzero/tasks/builtin.hpp"

namespace sdz::app {

namespace {

// Comma-separated, every item non-empty (trimmed).
std::vector<std::string> items(const Config& cfg, const std::string& key) {
  std::vector<std::string> out;
  for (const std::string& raw : split(cfg.get_string(key), ',')) {
    const std::string t = trim(raw);
    if (t.empty()) throw Error("empty item in \"" + cfg.get_string(key) + "\"", key, "a comma-separated list");
    out.push_back(t);
  }
  if (out.empty()) throw Error("is empty", key, "a comma-separated list");
  return out;
}

// Everything the demo reads that the schema alone cannot check, before the first minute of work:
// a typo here would otherwise surface after the bases were pretrained.
void check_demo_keys(const Config& cfg, const std::vector<std::string>& methods, const std::vector<std::string>& lrs) {
  static const std::vector<std::string> known = {"sft", "rft", "grpo", "sdft", "sdzero"};
  for (size_t i = 0; i < methods.size(); ++i) {
    if (std::find(known.begin(), known.end(), methods[i]) == known.end())
      throw Error("unknown method \"" + methods[i] + "\"", "demo.methods", "use any of sft, rft, grpo, sdft, sdzero");
    if (std::find(methods.begin(), methods.begin() + long(i), methods[i]) != methods.begin() + long(i))
      throw Error("method \"" + methods[i] + "\" listed twice", "demo.methods");
  }
  for (const std::string& l : lrs) {
    char* end = nullptr;
    const double v = std::strtod(l.c_str(), &end);
    if (end != l.c_str() + l.size() || !std::isfinite(v) || v <= 0)
      throw Error("\"" + l + "\" is not a positive learning rate", "demo.lr_grid", "e.g. 1e-4,3e-4");
  }
  if (cfg.get_float("demo.band_low") >= cfg.get_float("demo.band_high"))
    throw Error(strprintf("the band [%g, %g) is empty", cfg.get_float("demo.band_low"), cfg.get_float("demo.band_high")),
                "demo.band_low / demo.band_high", "band_low must be below band_high");
  const std::string loc = cfg.get_string("demo.localization_task");
  const auto& tasks = tasks::builtin_task_names();
  if (!loc.empty() && loc != "none" && std::find(tasks.begin(), tasks.end(), loc) == tasks.end())
    throw Error("unknown task \"" + loc + "\"", "demo.localization_task", "a built-in task (" + join(tasks, ", ") + ") or none");
  std::vector<std::string> ov;
  for (const std::string& o : split(cfg.get_string("demo.localization_overrides"), ' '))
    if (!trim(o).empty()) ov.push_back(trim(o));
  for (const std::string& o : ov)
    if (!starts_with(o, "--") || o.find('=') == std::string::npos)
      throw Error("'" + o + "' is not an override of the form --section.key=value", "demo.localization_overrides");
  try {
    Config::load_over(cfg.schema(), cfg.to_ini(), "the demo's configuration", "", ov);
  } catch (const Error& e) {
    throw Error(e.what(), "demo.localization_overrides");
  }
}

}  // namespace

static int demo(const std::vector<std::string>& args) {
  CommandLine cl = parse_command_line(args, {});
  Session s = start_session(cl, RunDir::Reuse, kDemoIni);
  Timer total;
  const Config& cfg = s.cfg;
  const std::vector<std::string> methods = items(cfg, "demo.methods"), lrs = items(cfg, "demo.lr_grid");
  check_demo_keys(cfg, methods, lrs);
  const int64_t seeds = cfg.get_int("demo.seeds");
  // Progress in units of one method stage, so the ETA is right from the first line: pretraining a
  // base costs about five of them (measured: about 100 s vs 7-36 s), a cached base or localization base
  // about one (evaluation only), the localization stage about four.
  const std::string loc_task = cfg.get_string("demo.localization_task");
  const bool with_localization = !loc_task.empty() && loc_task != "none";
  std::vector<int64_t> base_units;
  int64_t units = 0;
  for (int64_t i = 0; i < seeds; ++i) {
    base_units.push_back(base_cached(s.run_dir + "/seed-" + std::to_string(cfg.get_int("run.seed") + i) + "/base") ? 1 : 5);
    units += base_units.back() + int64_t(methods.size() * lrs.size());
  }
  const int64_t loc_units = !with_localization ? 0 : base_cached(s.run_dir + "/localization/base") ? 1 : 4;
  Progress progress("demo", units + loc_units, "unit");

  std::vector<DemoRow> rows;
  for (int64_t i = 0; i < seeds; ++i) {
    DemoContext d;
    d.s = &s;
    d.seed = uint64_t(cfg.get_int("run.seed") + i);
    d.dir = s.run_dir + "/seed-" + std::to_string(d.seed);
    d.cfg = cfg;
    d.cfg = d.stage({"--run.seed=" + std::to_string(d.seed)});
    if (s.world->rank() == 0) make_dirs(d.dir);
    pipeline::Components probe = pipeline::build_components(d.stage({"--method.name=sft"}), false);
    std::vector<tasks::Question> held = pipeline::load_questions(probe.data, "eval");
    const size_t nval = std::min(held.size() / 2, size_t(cfg.get_int("demo.pick_questions")));
    d.val.assign(held.begin(), held.begin() + long(nval));
    d.test.assign(held.begin() + long(nval), held.end());

    rows.push_back(ensure_base(d));
    progress.add(base_units[size_t(i)], "seed " + std::to_string(d.seed) + " base");
    for (const std::string& m : methods)
      for (const std::string& lr : lrs) {
        for (DemoRow& r : run_method(d, m, std::stod(lr))) rows.push_back(std::move(r));
        progress.add(1, "seed " + std::to_string(d.seed) + " " + m + " lr " + lr);
      }
  }
  nlohmann::json localization = run_localization(s, cfg);
  if (!localization.is_null()) progress.add(loc_units, "localization");
  std::string table = write_report(s, cfg, rows, localization, total.seconds());
  if (s.world->rank() == 0)
    std::cout << "\n" << table << "\nresults: " << s.run_dir << "/results.md  (total " << format_duration(total.seconds())
              << ")\n";
  return 0;
}

SDZ_COMMAND("demo", "the built-in comparison: pretrain a tiny base, post-train it with each method, evaluate",
            "usage: [mpirun -np N] sdzero demo [--config FILE] [--section.key=value ...]\n"
            "`sdzero` with no arguments runs this with the built-in configuration (configs/demo.ini, compiled in;\n"
            "`sdzero help config` lists the schema's defaults, which demo.ini overrides). --config FILE and\n"
            "--section.key=value change only the keys they set: the rest stay demo.ini's.\n"
            "Per seed (demo.seeds from run.seed): a base pretrained into the accuracy band, then trained on\n"
            "its own answers followed by the cue and the worked solution (demo.self_chain_steps; cached in\n"
            "<run>/seed-N/base; delete it to pretrain again), then every method of demo.methods at every\n"
            "learning rate of demo.lr_grid with demo.budget generations. Writes results.md (the tables),\n"
            "results.jsonl (every number), curves.json, plots/*.png and one run directory per method.\n"
            "SDFT's teacher reads each question's demonstration: the worked solution, or with\n"
            "--data.demo_style=other the same answer in another notation (docs/DEMO.md).",
            demo);

}  // namespace sdz::app
