// `sdzero demo` (and `sdzero` with no arguments): the built-in comparison in miniature.
//   1. a tiny base model learns the built-in task from worked solutions (supervised pretraining),
//      picked by held-out accuracy (an early-stopped base), cached in the run directory;
//   2. every method of demo.methods post-trains that base on the same questions, with the same
//      generation budget and learning rate;
//   3. base and methods are evaluated on held-out questions; results.md holds the table.
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "sdzero/app/command.hpp"
#include "sdzero/app/schema.hpp"
#include "sdzero/app/setup.hpp"
#include "sdzero/core/error.hpp"
#include "sdzero/core/files.hpp"
#include "sdzero/core/log.hpp"
#include "sdzero/core/metrics.hpp"
#include "sdzero/core/strings.hpp"
#include "sdzero/core/timer.hpp"
#include "sdzero/demo_ini_gen.hpp"
#include "sdzero/algo/optim.hpp"
#include "sdzero/pipeline/evaluate.hpp"
#include "sdzero/pipeline/pretrain.hpp"
#include "sdzero/pipeline/run.hpp"

namespace sdz::app {

namespace {

struct Row {
  std::string name;
  pipeline::EvalResult eval;
  int64_t generations = 0;
  double seconds = 0;
};

std::string table(const std::vector<Row>& rows, int64_t k) {
  std::string t = strprintf("| model | greedy | avg@%lld | pass@%lld | mean length | generations used | train time |\n",
                            (long long)k, (long long)k);
  t += "|---|---|---|---|---|---|---|\n";
  for (const auto& r : rows)
    t += strprintf("| %s | %.1f | %.1f | %.1f | %.1f | %lld | %s |\n", r.name.c_str(), 100 * r.eval.greedy,
                   100 * r.eval.avg_k, 100 * r.eval.pass_k, r.eval.mean_length, (long long)r.generations,
                   format_duration(r.seconds).c_str());
  return t;
}

}  // namespace

static int demo(const std::vector<std::string>& args) {
  CommandLine cl = parse_command_line(args, {});
  Session s = start_session(cl, /*write_run_dir=*/true, kDemoIni);
  Timer total;
  MPI_Comm world = s.world->comm();
  const Config& cfg = s.cfg;
  // A stage's configuration: the demo's, with a few keys changed (origins kept, so keys left at
  // their defaults still take the toy prompt values).
  auto stage = [&](std::vector<std::string> overrides) {
    Config c = cfg;
    for (const std::string& o : overrides) {
      auto eq = o.find('=');
      c.set(o.substr(2, eq - 2), o.substr(eq + 1), "demo stage");
    }
    return c;
  };
  pipeline::EvalOptions eo;
  eo.k = cfg.get_int("demo.eval_k");
  eo.temperature = cfg.get_float("method.temperature");
  eo.max_new_tokens = cfg.get_int("method.max_new_tokens");
  eo.slots = cfg.get_int("train.slots");
  eo.seed = uint64_t(cfg.get_int("run.seed"));
  MetricsWriter results_log;
  if (s.world->rank() == 0) results_log = MetricsWriter(s.run_dir + "/results.jsonl", /*truncate=*/true);

  // 1. The base model: pretrained until held-out avg@k reaches the band, or reused.
  const std::string base = s.run_dir + "/base";
  std::vector<Row> rows;
  if (file_exists(base + "/config.json")) {
    log::info("demo: reusing the base model in " + base);
  } else {
    log::info("demo: pretraining the base model on worked solutions");
    Config pc = stage({"--method.name=sft", "--train.split=train", "--optim.lr=" + cfg.text("demo.pretrain_lr"),
                       "--optim.warmup_steps=100", "--optim.beta2=0.98"});
    pipeline::Components c = pipeline::build_components(pc, false);
    algo::Optimizer opt(c.policy->parameters(), c.algo.optim);
    pipeline::PretrainOptions po;
    po.steps = cfg.get_int("demo.pretrain_steps");
    po.batch = cfg.get_int("demo.pretrain_batch");
    po.seed = uint64_t(cfg.get_int("run.seed"));
    po.chain_fraction = cfg.get_float("demo.chain_fraction");
    po.correction_uses_attempt = cfg.get_bool("demo.correction_uses_attempt");
    po.wrong_value_loss = cfg.get_bool("demo.wrong_value_loss");
    po.slip_fraction = cfg.get_float("demo.slip_fraction");
    po.task = cfg.get_string("data.task");
    const int64_t every = cfg.get_int("demo.pick_every");
    const double low = cfg.get_float("demo.band_low"), high = cfg.get_float("demo.band_high");
    std::vector<tasks::Question> pick_set = pipeline::load_questions(c.data, "eval");
    pick_set.resize(std::min<size_t>(pick_set.size(), size_t(cfg.get_int("demo.pick_questions"))));
    MetricsWriter pre_log;
    if (s.world->rank() == 0) {
      make_dirs(s.run_dir + "/pretrain");
      pre_log = MetricsWriter(s.run_dir + "/pretrain/metrics.jsonl", /*truncate=*/true);
    }
    double picked_at = -1;
    auto picker = [&](int64_t step, double loss) {
      if ((step + 1) % every != 0) return true;
      pipeline::EvalResult r = pipeline::evaluate(c, *c.policy, pick_set, eo, world);
      if (s.world->rank() == 0) pre_log.write({{"step", step + 1}, {"loss", loss}, {"pick_avg_at_k", r.avg_k}});
      log::info(strprintf("demo: base after %lld steps: loss %.4f, avg@%lld %.1f%% (band %.0f-%.0f%%)",
                          (long long)(step + 1), loss, (long long)eo.k, 100 * r.avg_k, 100 * low, 100 * high));
      if (r.avg_k >= high) log::warn("demo: the base passed the top of the band between two checks; taking it");
      if (r.avg_k >= low) picked_at = double(step + 1);
      return r.avg_k < low;  // stop once in (or past) the band
    };
    pipeline::pretrain(c, opt, po, world, picker);
    if (picked_at < 0) log::warn("demo: the base never reached the band; taking the last step");
    if (s.world->rank() == 0) pipeline::save_policy(*c.policy, *c.tokenizer, base);
    MPI_Barrier(world);
  }

  // 2 + 3. Evaluate the base, then each method from the same base with the same budget.
  {
    Config bc = stage({"--train.init=" + base, "--method.name=sft"});
    pipeline::Components c = pipeline::build_components(bc, false);
    std::vector<tasks::Question> eval = pipeline::load_questions(c.data, "eval");
    rows.push_back({"base", pipeline::evaluate(c, *c.policy, eval, eo, world), 0, 0});
  }
  for (const std::string& m : split(cfg.get_string("demo.methods"), ',')) {
    std::string name = trim(m);
    if (name.empty()) continue;
    log::info("demo: post-training the base with " + name);
    make_dirs(s.run_dir + "/" + name);
    std::string init = base;
    int64_t budget = cfg.get_int("demo.budget"), used = 0;
    double seconds = 0;
    if (name == "sdzero") {
      // SD-Zero is two phases under one budget: SRT (collect + train) on Q1 with half of it, then
      // on-policy distillation on Q2 from the SRT model (its frozen teacher) with the rest.
      const int64_t srt_budget = int64_t(double(budget) * cfg.get_float("demo.srt_budget_fraction"));
      Config sc = stage({"--method.name=srt", "--train.init=" + base, "--train.split=q1",
                         "--budget.max_generations=" + std::to_string(srt_budget),
                         "--train.save=" + s.run_dir + "/sdzero/srt"});
      pipeline::TrainedRun srt = pipeline::train_run(sc, world, s.run_dir + "/sdzero/srt_run");
      init = srt.saved_to;
      used += srt.generations;
      seconds += srt.seconds;
      rows.push_back({"srt", {}, srt.generations, srt.seconds});
      std::vector<tasks::Question> eval = pipeline::load_questions(srt.c.data, "eval");
      rows.back().eval = pipeline::evaluate(srt.c, *srt.c.policy, eval, eo, world);
    }
    std::vector<std::string> ov = {"--method.name=" + name, "--train.init=" + init,
                                   "--budget.max_generations=" + std::to_string(budget - used),
                                   "--train.save=" + s.run_dir + "/" + name + "/final"};
    if (name == "sdzero") ov.push_back("--train.split=q2");
    pipeline::TrainedRun run = pipeline::train_run(stage(ov), world, s.run_dir + "/" + name);
    std::vector<tasks::Question> eval = pipeline::load_questions(run.c.data, "eval");
    rows.push_back({name, pipeline::evaluate(run.c, *run.c.policy, eval, eo, world), used + run.generations,
                    seconds + run.seconds});
  }

  if (s.world->rank() == 0) {
    for (const auto& r : rows) {
      nlohmann::json j = r.eval.to_json();
      j["model"] = r.name;
      j["generations"] = r.generations;
      results_log.write(j);
    }
    std::string md = "# sdzero demo results\n\nTask `" + cfg.get_string("data.task") + "`, seed " + cfg.text("run.seed") +
                     ", every method from the same base with budget " + cfg.text("demo.budget") +
                     " generations and lr " + cfg.text("optim.lr") + ". Held-out questions: " +
                     std::to_string(rows.front().eval.questions) + ".\n\n" + table(rows, eo.k) +
                     "\nsrt is SD-Zero's phase 1 alone (half the budget); sdzero counts both phases. See docs/DEMO.md.\n";
    write_file_atomic(s.run_dir + "/results.md", md);
    std::cout << "\n" << table(rows, eo.k) << "\nresults: " << s.run_dir << "/results.md  (total "
              << format_duration(total.seconds()) << ")\n";
  }
  return 0;
}

SDZ_COMMAND("demo", "the built-in comparison: pretrain a tiny base, post-train it with each method, evaluate",
            "usage: [mpirun -np N] sdzero demo [--config FILE] [--section.key=value ...]\n"
            "`sdzero` with no arguments runs this with the built-in configuration (configs/demo.ini).\n"
            "The base model is cached in <run dir>/base and reused; delete it to pretrain again.\n"
            "Writes results.md (the comparison table), results.jsonl, and one run directory per method.",
            demo);

}  // namespace sdz::app
