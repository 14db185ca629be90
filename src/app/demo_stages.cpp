// The demo's stages: the base (pretrained into an accuracy band, cached), each method from it at one
// learning rate with its accuracy-vs-generations curve, and the full evaluation of a model.
#include <algorithm>
#include <functional>
#include <memory>
#include <set>

#include "sdzero/algo/optim.hpp"
#include "sdzero/app/demo.hpp"
#include "sdzero/app/demo_recipe.hpp"
#include "sdzero/core/error.hpp"
#include "sdzero/core/files.hpp"
#include "sdzero/core/log.hpp"
#include "sdzero/core/metrics.hpp"
#include "sdzero/core/strings.hpp"
#include "sdzero/pipeline/pretrain.hpp"
#include "sdzero/pipeline/run.hpp"

namespace sdz::app {

Config DemoContext::stage(const std::vector<std::string>& overrides) const {
  Config c = cfg;
  for (const std::string& o : overrides) {
    auto eq = o.find('=');
    c.set(o.substr(2, eq - 2), o.substr(eq + 1), "demo stage");
  }
  // distill.srt_replay is a setting of SD-Zero's phase 2; every other stage runs without it.
  if (c.get_string("method.name") != "sdzero") c.set("distill.srt_replay", "0", "demo stage");
  return c;
}

nlohmann::json DemoRow::to_json() const {
  nlohmann::json j = {{"model", model}, {"seed", seed}, {"lr", lr}, {"val_avg_at_k", val_avg_k},
                      {"generations", generations},
                      {"demonstrations", demonstrations}, {"seconds", seconds}, {"test", test.to_json()}, {"info", info}};
  for (const auto& p : curve) j["curve"].push_back({p.generations, p.avg_k});
  if (!length_curve.empty()) j["length_curve"] = length_curve;
  return j;
}

DemoRow DemoRow::from_json(const nlohmann::json& j) {
  DemoRow r;
  r.model = j.at("model"), r.seed = j.at("seed"), r.lr = j.at("lr"), r.val_avg_k = j.at("val_avg_at_k");
  r.generations = j.at("generations"), r.demonstrations = j.at("demonstrations"), r.seconds = j.at("seconds");
  r.test = pipeline::EvalReport::from_json(j.at("test"));
  r.info = j.at("info");
  if (j.contains("curve"))
    for (const auto& p : j.at("curve")) r.curve.push_back({p.at(0).get<int64_t>(), p.at(1).get<double>()});
  if (j.contains("length_curve")) r.length_curve = j.at("length_curve").get<std::vector<double>>();
  return r;
}

pipeline::EvalProtocol demo_protocol(const Config& cfg, bool full) {
  pipeline::EvalProtocol p;
  p.k = cfg.get_int("demo.eval_k");
  p.temperature = cfg.get_float("method.temperature");
  p.max_new_tokens = cfg.get_int("method.max_new_tokens");
  p.slots = cfg.get_int("train.slots");
  p.seed = uint64_t(cfg.get_int("run.seed"));
  p.greedy = full;
  p.revise = full;
  p.rephrase_row = full;
  return p;
}

pipeline::EvalReport evaluate_model_dir(DemoContext& d, const std::string& model_dir, const pipeline::EvalProtocol& p,
                                        const std::vector<tasks::Question>& questions) {
  pipeline::Components c = pipeline::build_components(d.stage({"--train.init=" + model_dir, "--method.name=sft"}), false);
  return pipeline::evaluate_policy(c, *c.policy, questions, p, d.comm);
}

// demo.pretrain_on = other: as many questions as Q1 and Q2 hold, from the same training side of the
// task's space, none of them a Q1 or Q2 question. The base then has not read the answer of any
// question the methods train on, as an instruct model has not read its RL set's.
static std::vector<tasks::Question> other_training_questions(const pipeline::Components& c,
                                                             const std::set<std::string>& methods_questions) {
  SDZ_CHECK(c.data.task != "jsonl", "demo.pretrain_on = other needs a built-in task", "demo.pretrain_on",
            "use train, or a built-in data.task");
  auto out = tasks::builtin_training_besides(c.data, 1, methods_questions);
  log::info(strprintf("demo: the base pretrains on %zu other questions (demo.pretrain_on = other)", out.size()));
  return out;
}

// demo.self_chain_on = fresh: round r's self chains answer as many training-side questions as Q1 and
// Q2 hold, none a Q1/Q2 one nor one the base pretrains on, drawn further along the splits each round.
// On a question it has never read, what follows "wrong" cannot be recalled; fitting it teaches the
// reviser what a failure rules out, which is all it can use on unseen questions.
static std::function<std::vector<tasks::Question>(int64_t)> fresh_self_chain_questions(const pipeline::Components& c,
                                                                                      std::set<std::string> seen) {
  SDZ_CHECK(c.data.task != "jsonl", "demo.self_chain_on = fresh needs a built-in task", "demo.self_chain_on",
            "use pretraining, or a built-in data.task");
  for (const auto& q : c.questions) seen.insert(q.prompt);
  return [data = c.data, seen](int64_t round) { return tasks::builtin_training_besides(data, size_t(2 + round), seen); };
}

bool base_cached(const std::string& dir) {
  return file_exists(dir + "/config.json") && file_exists(dir + "/picked.json");
}

DemoRow ensure_base(DemoContext& d) {
  const Config& cfg = d.cfg;
  MPI_Comm comm = d.comm;  // this stage's rank group
  const std::string base = d.dir + "/base";
  DemoRow row;
  row.model = "base";
  row.seed = d.seed;
  const Config pc = base_stage_config(cfg);
  if (base_cached(base)) {
    check_base_recipe(base, pc, true);  // cmd_demo checked every base before the first stage
    log::info("demo: reusing the base model in " + base);
    row.info = nlohmann::json::parse(read_file(base + "/picked.json"));
  } else {
    log::info(strprintf("demo: seed %llu: pretraining the base model on worked solutions and revision chains",
                        (unsigned long long)d.seed));
    pipeline::Components c = pipeline::build_components(pc, false);
    std::set<std::string> methods_questions;  // Q1 and Q2: never an "other" or fresh self-chain question
    for (const auto& q : c.questions) methods_questions.insert(q.prompt);
    if (cfg.get_string("demo.pretrain_on") == "other") c.questions = other_training_questions(c, methods_questions);
    algo::Optimizer opt(c.policy->parameters(), c.algo.optim);
    pipeline::PretrainOptions po;
    po.steps = cfg.get_int("demo.pretrain_steps");
    po.batch = cfg.get_int("demo.pretrain_batch");
    po.group_tokens = cfg.get_int("demo.pretrain_group_tokens");
    po.seed = d.seed;
    po.chain_fraction = cfg.get_float("demo.chain_fraction");
    po.correction_uses_attempt = cfg.get_bool("demo.correction_uses_attempt");
    po.wrong_value_loss = cfg.get_bool("demo.wrong_value_loss");
    po.slip_fraction = cfg.get_float("demo.slip_fraction");
    po.claim_fraction = cfg.get_float("demo.claim_fraction");
    po.self_chain_rounds = cfg.get_int("demo.self_chain_rounds");
    po.cue_loss = cfg.get_bool("demo.cue_loss");
    po.unlikelihood = cfg.get_float("demo.self_chain_unlikelihood");
    po.chain_unlikelihood = cfg.get_float("demo.chain_unlikelihood");
    po.task = cfg.get_string("data.task");
    if (cfg.get_string("demo.self_chain_on") == "fresh")
      po.self_chain_questions = fresh_self_chain_questions(c, methods_questions);
    const int64_t every = cfg.get_int("demo.pick_every");
    const double low = cfg.get_float("demo.band_low"), high = cfg.get_float("demo.band_high");
    const pipeline::EvalProtocol vp = demo_protocol(cfg, false);
    MetricsWriter pre_log;
    if (d.leader) {
      make_dirs(d.dir + "/pretrain");
      pre_log = MetricsWriter(d.dir + "/pretrain/metrics.jsonl", /*truncate=*/true);
    }
    int64_t picked_at = -1;
    double picked_acc = 0;
    auto picker = [&](int64_t step, double loss) {
      if ((step + 1) % every != 0) return true;
      double acc = pipeline::evaluate_policy(c, *c.policy, d.val, vp, comm).sampling.avg_at_k;
      if (d.leader) pre_log.write({{"step", step + 1}, {"loss", loss}, {"val_avg_at_k", acc}});
      log::info(strprintf("demo: base after %lld steps: loss %.4f, validation avg@%lld %.1f%% (band %.0f-%.0f%%)",
                          (long long)(step + 1), loss, (long long)vp.k, 100 * acc, 100 * low, 100 * high));
      if (acc >= high) log::warn("demo: the base passed the top of the band between two checks; taking it");
      if (acc >= low) picked_at = step + 1, picked_acc = acc;
      return acc < low;  // stop once in (or past) the band
    };
    int64_t done = pipeline::pretrain(c, opt, po, comm, picker);
    if (picked_at < 0) {
      log::warn("demo: the base never reached the band; taking the last step");
      picked_at = done;
    }
    row.info = {{"picked_at_step", picked_at}, {"val_avg_at_k_at_pick", picked_acc}};
    if (cfg.get_string("demo.pretrain_on") != "train") row.info["pretrain_on"] = cfg.get_string("demo.pretrain_on");
    if (po.chain_unlikelihood > 0) row.info["chain_unlikelihood"] = po.chain_unlikelihood;
    if (const int64_t sc = cfg.get_int("demo.self_chain_steps"); sc > 0) {
      log::info(strprintf("demo: seed %llu: %lld steps of self chains (the base's own answers, cue, %s)",
                          (unsigned long long)d.seed, (long long)sc,
                          po.correction_uses_attempt ? "a correction of the answer" : "worked solution"));
      // demo.anneal: a finished base. The pretraining rate is constant, so a base taken mid-training
      // sits on noisy iterates that any later training at a lower rate averages out.
      std::unique_ptr<algo::Optimizer> anneal;
      if (cfg.get_bool("demo.anneal")) {
        algo::OptimOptions ao = c.algo.optim;
        ao.schedule = algo::LrSchedule::Cosine, ao.total_steps = sc, ao.warmup_steps = 10, ao.min_lr_ratio = 0;
        anneal = std::make_unique<algo::Optimizer>(c.policy->parameters(), ao, done);
      }
      pipeline::pretrain_self_chains(c, anneal ? *anneal : opt, po, comm, done, sc, cfg.get_float("demo.self_chain_mix"));
      row.info["self_chain_steps"] = sc;
      if (po.self_chain_rounds > 1) row.info["self_chain_rounds"] = po.self_chain_rounds;
      if (po.self_chain_questions) row.info["self_chain_on"] = "fresh";
      if (po.unlikelihood > 0) row.info["self_chain_unlikelihood"] = po.unlikelihood;
      if (anneal) row.info["annealed"] = true;
    }
    if (d.leader) {
      pipeline::save_policy(*c.policy, *c.tokenizer, base);
      write_file_atomic(base + "/recipe.json", base_recipe(pc).dump(1) + "\n");
      write_file_atomic(base + "/picked.json", row.info.dump());  // last: it marks the base finished
    }
    MPI_Barrier(comm);
  }
  row.test = evaluate_model_dir(d, base, demo_protocol(cfg, true), d.test);
  row.val_avg_k = evaluate_model_dir(d, base, demo_protocol(cfg, false), d.val).sampling.avg_at_k;
  row.curve = {{0, row.val_avg_k}};
  return row;
}

namespace {

// Evaluates the validation slice whenever the run's generations cross the next of n evenly spaced
// points of its budget, so every method's curve has points at the same budget fractions.
// SFT generates nothing: its curve runs over the demonstrations it has read instead.
pipeline::AfterStep curve_hook(DemoContext& d, DemoRow& row, int64_t offset, int64_t budget) {
  const int64_t points = std::max<int64_t>(1, d.cfg.get_int("demo.curve_points"));
  auto next = std::make_shared<int64_t>(1);
  return [&d, &row, offset, budget, points, next](int64_t, nlohmann::json& rec, pipeline::Components& c) {
    row.demonstrations += int64_t(rec.value("samples/demonstrations", 0.0));
    const bool sft = row.model == "sft" || row.model == "sft_other";
    const int64_t used = sft ? row.demonstrations : rec.value("budget/generations", int64_t(0));
    if (rec.value("generations", 0.0) > 0 && row.model == "sdzero")
      row.length_curve.push_back(rec.value("generated_tokens", 0.0) / rec.value("generations", 1.0));
    if (*next < points && used >= budget * *next / points) {
      double acc = pipeline::evaluate_policy(c, *c.policy, d.val, demo_protocol(d.cfg, false), d.comm)
                       .sampling.avg_at_k;
      row.curve.push_back({offset + used, acc});
      while (*next < points && used >= budget * *next / points) ++*next;
    }
    return true;
  };
}

}  // namespace

std::vector<DemoRow> run_method(DemoContext& d, const std::string& method, double lr) {
  const std::string base = d.dir + "/base", dir = d.dir + "/" + method + strprintf("-lr%g", lr);
  log::info(strprintf("demo: seed %llu: post-training the base with %s at lr %g", (unsigned long long)d.seed,
                      method.c_str(), lr));
  make_dirs(dir);
  const int64_t budget = d.cfg.get_int("demo.budget");
  const double base_val = evaluate_model_dir(d, base, demo_protocol(d.cfg, false), d.val).sampling.avg_at_k;
  std::vector<DemoRow> rows;
  std::string init = base;
  int64_t used = 0;
  double seconds = 0;
  DemoRow row;
  row.model = method, row.seed = d.seed, row.lr = lr;
  row.curve = {{0, base_val}};
  if (method == "sdzero") {
    // SD-Zero is two phases under one budget: SRT (collect + train) on Q1 (demo.srt_split) with its
    // share, then on-policy distillation on Q2 (demo.distill_split) from the SRT model (the frozen
    // teacher) with the rest.
    const int64_t srt_budget = int64_t(double(budget) * d.cfg.get_float("demo.srt_budget_fraction"));
    Config sc = d.stage({"--method.name=srt", "--train.init=" + base, "--train.split=" + d.cfg.get_string("demo.srt_split"),
                         "--optim.lr=" + strprintf("%g", lr), "--budget.max_generations=" + std::to_string(srt_budget),
                         "--train.save=" + dir + "/srt"});
    pipeline::TrainedRun srt = pipeline::train_run(sc, d.comm, dir + "/srt_run");
    init = srt.saved_to, used = srt.generations, seconds = srt.seconds;
    DemoRow s;
    s.model = "srt", s.seed = d.seed, s.lr = lr, s.generations = srt.generations, s.seconds = srt.seconds;
    s.test = evaluate_model_dir(d, init, demo_protocol(d.cfg, true), d.test);
    s.val_avg_k = evaluate_model_dir(d, init, demo_protocol(d.cfg, false), d.val).sampling.avg_at_k;
    s.curve = {{0, base_val}, {srt.generations, s.val_avg_k}};
    rows.push_back(s);
    row.curve.push_back({srt.generations, s.val_avg_k});
  }
  // sft_other, sdft_other: SFT and SDFT reading demonstrations in the other style (data.demo_style = other).
  const bool other = method == "sft_other" || method == "sdft_other";
  const std::string algo = method == "sft_other" ? "sft" : method == "sdft_other" ? "sdft" : method;
  std::vector<std::string> ov = {"--method.name=" + algo, "--train.init=" + init, "--optim.lr=" + strprintf("%g", lr),
                                 "--budget.max_generations=" + std::to_string(budget - used),
                                 "--train.save=" + dir + "/final"};
  if (method == "sdzero") ov.push_back("--train.split=" + d.cfg.get_string("demo.distill_split"));
  if (method == "sdzero" && d.cfg.get_float("distill.srt_replay") > 0)  // replay the traces this SRT run collected
    ov.push_back("--distill.replay_traces=" + dir + "/srt_run/srt_traces.jsonl");
  if (other) ov.push_back("--data.demo_style=other");
  // SFT reads one demonstration per question and step and samples nothing, so the generation budget
  // never stops it: it gets as many demonstrations as SDFT's teacher reads, one per generation.
  if (algo == "sft")
    ov.push_back("--train.steps=" +
                 std::to_string(std::max<int64_t>(1, budget / d.cfg.get_int("train.questions_per_step"))));
  pipeline::TrainedRun run =
      pipeline::train_run(d.stage(ov), d.comm, dir, curve_hook(d, row, used, budget - used));
  row.generations = used + run.generations;
  row.seconds = seconds + run.seconds;
  row.test = pipeline::evaluate_policy(run.c, *run.c.policy, d.test, demo_protocol(d.cfg, true), d.comm);
  row.val_avg_k =
      pipeline::evaluate_policy(run.c, *run.c.policy, d.val, demo_protocol(d.cfg, false), d.comm)
          .sampling.avg_at_k;
  row.curve.push_back({algo == "sft" ? row.demonstrations : row.generations, row.val_avg_k});
  rows.push_back(row);
  return rows;
}

}  // namespace sdz::app
