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
#include "sdzero/app/demo_recipe.hpp"
#include "sdzero/core/error.hpp"
#include "sdzero/core/files.hpp"
#include "sdzero/core/log.hpp"
#include "sdzero/core/progress.hpp"
#include "sdzero/core/strings.hpp"
#include "sdzero/core/timer.hpp"
#include "sdzero/dist/world.hpp"
#include "sdzero/demo_ini_gen.hpp"
#include "sdzero/tasks/builtin.hpp"
#include "sdzero/tasks/dataset.hpp"

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
  static const std::vector<std::string> known = {"sft", "sft_other", "rft", "grpo", "sdft", "sdft_other", "sdzero"};
  for (size_t i = 0; i < methods.size(); ++i) {
    if (std::find(known.begin(), known.end(), methods[i]) == known.end())
      throw Error("unknown method \"" + methods[i] + "\"", "demo.methods",
                  "use any of sft, sft_other, rft, grpo, sdft, sdft_other, sdzero");
    if (std::find(methods.begin(), methods.begin() + long(i), methods[i]) != methods.begin() + long(i))
      throw Error("method \"" + methods[i] + "\" listed twice", "demo.methods");
  }
  // sft_other and sdft_other read demonstrations in the other style (data.demo_style = other): a task
  // without them must fail now, naming the list, not after the bases are pretrained.
  for (const std::string& m : methods) {
    if (m != "sft_other" && m != "sdft_other") continue;
    try {
      tasks::dataset_spec_from(Config::load_over(cfg.schema(), cfg.to_ini(), "the demo's configuration", "",
                                                 {"--data.demo_style=other"}));
    } catch (const Error& e) {
      throw Error(m + ": " + e.what(), "demo.methods", "drop " + m + " for this task");
    }
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

// A cached base made by other settings (--demo.pretrain_steps=3000 on a run directory whose bases
// took 1500) is refused before anything runs, rather than post-trained and reported as the new one.
void check_cached_bases(const Config& cfg) {
  const std::string dir = run_dir_of(cfg);
  for (int64_t i = 0; i < cfg.get_int("demo.seeds"); ++i) {
    const std::string seed = std::to_string(cfg.get_int("run.seed") + i), base = dir + "/seed-" + seed + "/base";
    if (!base_cached(base)) continue;
    DemoContext d;
    d.cfg = cfg;
    check_base_recipe(base, base_stage_config(d.stage({"--run.seed=" + seed})), false);
  }
  const std::string loc = cfg.get_string("demo.localization_task");
  if (!loc.empty() && loc != "none" && base_cached(dir + "/localization/base")) {
    try {
      check_base_recipe(dir + "/localization/base", base_stage_config(localization_config(cfg)), false);
    } catch (const Error& e) {  // its steps and task come from the demo.localization_* keys
      throw Error("the localization base: " + e.message() + "; demo.localization_task, _pretrain_steps, "
                  "_max_new_tokens and _overrides set its task, steps and length", e.where(), e.hint());
    }
  }
}

}  // namespace

// The ranks the demo wants when started directly: demo.ranks, or one per core (at most one per seed
// plus the localization stage: the work comes in that many pieces at first).
static int demo_ranks(const Config& cfg, const LaunchInfo& li) {
  check_demo_keys(cfg, items(cfg, "demo.methods"), items(cfg, "demo.lr_grid"));  // one process says what is wrong
  check_cached_bases(cfg);
  if (const int64_t r = cfg.get_int("demo.ranks"); r > 0) return int(r);
  return std::min<int>(li.cores, int(cfg.get_int("demo.seeds")) + 1);
}

// One seed's context: its directory, config, and the validation and test slices.
static DemoContext seed_context(Session& s, const Config& cfg, int64_t i, const DemoGroups& g) {
  DemoContext d;
  d.s = &s;
  d.comm = g.comm, d.leader = g.leader;
  d.seed = uint64_t(cfg.get_int("run.seed") + i);
  d.dir = s.run_dir + "/seed-" + std::to_string(d.seed);
  d.cfg = cfg;
  d.cfg = d.stage({"--run.seed=" + std::to_string(d.seed)});
  if (g.leader) make_dirs(d.dir);
  pipeline::Components probe = pipeline::build_components(d.stage({"--method.name=sft"}), false);
  std::vector<tasks::Question> held = pipeline::load_questions(probe.data, "eval");
  const size_t nval = std::min(held.size() / 2, size_t(cfg.get_int("demo.pick_questions")));
  d.val.assign(held.begin(), held.begin() + long(nval));
  d.test.assign(held.begin() + long(nval), held.end());
  return d;
}

// A method stage's cost in the schedule's units (see below): the SDFTs score with a teacher every
// step, SD-Zero runs two phases and two evaluations.
static double stage_cost(const std::string& method) {
  if (method == "sdzero") return 4;
  if (method == "sdft" || method == "sdft_other") return 3;
  return 2;
}

static int demo(const std::vector<std::string>& args) {
  CommandLine cl = parse_command_line(args, {});
  Session s = start_session(cl, RunDir::Reuse, kDemoIni, "built-in demo.ini", demo_ranks);
  Timer total;
  const Config& cfg = s.cfg;
  const std::vector<std::string> methods = items(cfg, "demo.methods"), lrs = items(cfg, "demo.lr_grid");  // checked by demo_ranks
  const int64_t seeds = cfg.get_int("demo.seeds");
  const DemoGroups g = carve_groups(s.world->comm(), cfg.get_int("demo.groups"));
  if (g.count > 1)  // said once, by rank 0, before every group leader speaks for its group
    log::info(strprintf("demo: %d rank groups of %d rank(s) run stages side by side (demo.groups; "
                        "--demo.ranks=1 runs one process)", g.count, s.world->size() / g.count));
  log::set_speaker(g.leader);

  // The work in two waves spread over the groups by a static schedule: first every seed's base and
  // the localization figure, then every seed x method x rate, each stage as soon as its own seed's
  // base is on disk (no barrier: three bases over two groups leave one group idle otherwise). Costs
  // in units of about 10 s on one core (measured in session 12: a base 23, the localization 19, a
  // cached one 2; sft, rft and grpo 2, sdft 3, SD-Zero's two phases 4), which also drive the
  // progress line's ETA.
  const std::string loc_task = cfg.get_string("demo.localization_task");
  const bool with_localization = !loc_task.empty() && loc_task != "none";
  std::vector<double> wave1;
  for (int64_t i = 0; i < seeds; ++i)
    wave1.push_back(base_cached(s.run_dir + "/seed-" + std::to_string(cfg.get_int("run.seed") + i) + "/base") ? 2 : 23);
  if (with_localization) wave1.push_back(base_cached(s.run_dir + "/localization/base") ? 2 : 19);
  struct Run {
    int64_t seed_index;
    std::string method, lr;
  };
  std::vector<Run> runs;
  std::vector<double> wave2;
  std::vector<size_t> needs;
  for (int64_t i = 0; i < seeds; ++i)
    for (const std::string& m : methods)
      for (const std::string& lr : lrs)
        runs.push_back({i, m, lr}), wave2.push_back(stage_cost(m)), needs.push_back(size_t(i));
  const std::vector<int> owner1 = schedule(wave1, g.count);
  const StagePlan plan2 = schedule_after(wave1, owner1, wave2, needs, g.count);
  std::vector<std::vector<int>> users(wave1.size());
  for (size_t j = 0; j < runs.size(); ++j) users[needs[j]].push_back(plan2.owner[j]);
  StageSignals signals(s.world->comm(), g, owner1, users);
  double my_units = 0;
  for (size_t i = 0; i < wave1.size(); ++i) my_units += owner1[i] == g.index ? wave1[i] : 0;
  for (size_t i = 0; i < wave2.size(); ++i) my_units += plan2.owner[i] == g.index ? wave2[i] : 0;
  Progress progress(g.count > 1 ? strprintf("demo group %d/%d", g.index + 1, g.count) : "demo", int64_t(my_units),
                    "unit");

  std::vector<DemoContext> ctx;
  for (int64_t i = 0; i < seeds; ++i) ctx.push_back(seed_context(s, cfg, i, g));
  // Rows carry their place in the serial order (seed, then base, then methods x rates).
  const int64_t per_seed = 1 + int64_t(methods.size() * lrs.size()) * 2;
  GroupResult mine;
  for (size_t i = 0; i < wave1.size(); ++i) {
    if (owner1[i] != g.index) continue;
    if (int64_t(i) < seeds) {
      mine.rows.push_back({int64_t(i) * per_seed, ensure_base(ctx[i])});
      signals.done(i);
      progress.add(int64_t(wave1[i]), "seed " + std::to_string(ctx[i].seed) + " base");
    } else {
      mine.localization = run_localization(s, cfg, g.comm, g.leader);
      progress.add(int64_t(wave1[i]), "localization");
    }
  }
  for (size_t i : plan2.order) {
    if (plan2.owner[i] != g.index) continue;
    signals.wait(needs[i]);  // its seed's base is on disk
    DemoContext& d = ctx[size_t(runs[i].seed_index)];
    int64_t order = runs[i].seed_index * per_seed + 1 + int64_t(i % (methods.size() * lrs.size())) * 2;
    for (DemoRow& r : run_method(d, runs[i].method, std::stod(runs[i].lr))) mine.rows.push_back({order++, std::move(r)});
    progress.add(int64_t(wave2[i]), "seed " + std::to_string(d.seed) + " " + runs[i].method + " lr " + runs[i].lr);
  }
  signals.finish();
  if (!g.leader) mine = GroupResult();  // the leader speaks for its group
  GroupResult all = gather_results(s.world->comm(), mine);
  std::vector<DemoRow> rows;
  for (auto& [order, row] : all.rows) rows.push_back(std::move(row));
  if (s.world->rank() != 0) return 0;  // rank 0 holds every row now
  std::string table = write_report(s, cfg, rows, all.localization, total.seconds());
  std::cout << "\n" << table << "\nresults: " << s.run_dir << "/results.md  (total " << format_duration(total.seconds())
              << ")\n";
  return 0;
}

SDZ_COMMAND("demo", "the built-in comparison: pretrain a tiny base, post-train it with each method, evaluate",
            "usage: [mpirun -np N] sdzero demo [--config FILE] [--section.key=value ...]\n"
            "Started directly, it runs itself under mpirun with one rank per core (demo.ranks; 1 = one process);\n"
            "the ranks form demo.groups groups that run different seeds and methods at once.\n"
            "`sdzero` with no arguments runs this with the built-in configuration (configs/demo.ini, compiled in;\n"
            "`sdzero help config` lists the schema's defaults, which demo.ini overrides). --config FILE and\n"
            "--section.key=value change only the keys they set: the rest stay demo.ini's.\n"
            "Per seed (demo.seeds from run.seed): a base pretrained into the accuracy band, then trained on\n"
            "its own answers followed by the cue and the worked solution (demo.self_chain_steps; cached in\n"
            "<run>/seed-N/base with recipe.json: a rerun whose settings would make another base stops, naming\n"
            "the key; delete the base to pretrain again); after each failed attempt and \"wrong\", writing it\n"
            "again costs an unlikelihood at the token where it leaves every correct answer\n"
            "(demo.chain_unlikelihood, demo.self_chain_unlikelihood); then every method of demo.methods at every\n"
            "learning rate of demo.lr_grid with demo.budget generations. Writes results.md (the tables),\n"
            "results.jsonl (every number), curves.json, plots/*.png and one run directory per method.\n"
            "SDFT's teacher reads each question's demonstration: the worked solution (sdft), or what another\n"
            "model might write (sdft_other: data.demo_style = other; cd: another of the correct equations).\n"
            "SFT trains on demo.budget worked solutions, as many as SDFT's teacher reads, and samples nothing;\n"
            "sft_other on as many of the other demonstrations. SD-Zero's SRT revises every initial answer after\n"
            "the cue its verdict picks (srt.revise = both; --srt.revise=wrong revises failed ones only).",
            demo);

}  // namespace sdz::app
