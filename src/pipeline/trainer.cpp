// The step schedule. Reading order: run() -> step() -> the four roles. Everything a rank does in a
// step depends only on (config, seed, step) and the data it receives, so colocated and split layouts
// sample the same trajectories and see the same batch on the learners. Elsewhere: the learner role
// (trainer_learner.cpp), routing between groups (trainer_exchange.cpp), checkpoint state
// (trainer_state.cpp), DAPO's refill rounds (trainer_refill.cpp), async rounds (trainer_async.cpp).
#include "sdzero/pipeline/trainer.hpp"

#include <algorithm>
#include <climits>
#include <cmath>

#include "sdzero/ckpt/cadence.hpp"
#include "sdzero/ckpt/run_dir.hpp"
#include "sdzero/core/config.hpp"
#include "sdzero/core/error.hpp"
#include "sdzero/core/files.hpp"
#include "sdzero/core/log.hpp"
#include "sdzero/core/progress.hpp"
#include "sdzero/core/rng.hpp"
#include "sdzero/core/strings.hpp"
#include "sdzero/dist/collectives.hpp"
#include "sdzero/dist/tensor_sync.hpp"
#include "sdzero/pipeline/rollout.hpp"
#include "sdzero/pipeline/srt.hpp"

namespace sdz::pipeline {

TrainOptions TrainOptions::from_config(const Config& cfg, const std::string& run_dir) {
  TrainOptions o;
  o.steps = cfg.get_int("train.steps");
  o.questions_per_step = cfg.get_int("train.questions_per_step");
  o.slots = cfg.get_int("train.slots");
  o.samples_per_step = cfg.get_int("train.samples_per_step");
  o.log_every = cfg.get_int("train.log_every");
  o.seed = uint64_t(cfg.get_int("run.seed"));
  o.bucket_bytes = size_t(cfg.get_int("dist.bucket_mb")) << 20;
  o.run_dir = run_dir;
  o.ckpt_every_steps = cfg.get_int("ckpt.every_steps");
  o.ckpt_every_minutes = cfg.get_float("ckpt.every_minutes");
  o.ckpt_keep_last = cfg.get_int("ckpt.keep_last");
  o.resume = cfg.get_string("ckpt.resume");
  o.ckpt_on_signal = cfg.get_bool("ckpt.on_signal");
  o.config_text = cfg.to_ini();
  o.phase = "train:" + cfg.get_string("method.name");
  o.max_staleness = cfg.get_int("dist.max_staleness");
  o.zero1 = cfg.get_bool("dist.zero1");
  o.validate_every = cfg.get_int("train.validate_every");
  o.validate_questions = cfg.get_int("train.validate_questions");
  o.replay_traces = cfg.get_string("distill.replay_traces");
  o.replay_per_step = cfg.get_int("distill.replay_per_step");
  if (o.replay_per_step == 0) o.replay_per_step = o.questions_per_step;
  return o;
}

Trainer::Trainer(TrainOptions opt, Components& c, Groups& g)
    : opt_(std::move(opt)), c_(c), g_(g), student_(*c.policy), budget_(c.algo.budget) {
  if (c_.teacher) teacher_ = std::make_unique<ModelScorer>(*c_.teacher);
  // The plateau rule syncs after validations without a gain: without validations it would never fire.
  if (c_.algo.teacher.update == algo::TeacherUpdate::Plateau && opt_.validate_every == 0)
    throw Error("the plateau rule needs validations during training", "teacher.update",
                "set train.validate_every = K (validate every K steps), or use sync_every");
  if (opt_.validate_every > 0) {
    if (opt_.max_staleness > 0)
      throw Error("validation during training runs on-policy only", "train.validate_every",
                  "set dist.max_staleness = 0, or train.validate_every = 0");
    validation_ = load_questions(c_.data, "eval");
    if (validation_.empty()) throw Error("the eval split has no questions to validate on", "train.validate_every");
    if (int64_t(validation_.size()) > opt_.validate_questions) validation_.resize(size_t(opt_.validate_questions));
  }
  if (g_.has(Role::Learner)) {
    c_.policy->set_requires_grad(true);
    algo::OptimOptions oo = c_.algo.optim;
    if (opt_.zero1) {  // Zero1 clips by the global norm itself; AdamW then sees only owned gradients
      zero1_ = std::make_unique<Zero1>(g_.learners(), c_.policy->parameters(), oo.grad_clip);
      oo.grad_clip = 0;
    }
    optim_ = std::make_unique<algo::Optimizer>(c_.policy->parameters(), oo);
    if (c_.algo.srt_replay > 0) load_replay();
  }
  if (c_.method->name() == "grpo" && c_.algo.dynamic_sampling) refill_rounds_ = c_.algo.grpo_refill_rounds;
  if (refill_rounds_ > 0 && opt_.max_staleness > 0)
    throw Error("refill rounds run on-policy only: they sample again within the step", "grpo.refill_rounds",
                "set dist.max_staleness = 0, or grpo.refill_rounds = 0");
  if (g_.world_rank() == 0 && !opt_.run_dir.empty()) {
    metrics_ = MetricsWriter(opt_.run_dir + "/metrics.jsonl");
    samples_ = MetricsWriter(opt_.run_dir + "/samples.jsonl");
  }
}

void Trainer::load_replay() {
  const std::string& path = opt_.replay_traces;
  if (path.empty())
    throw Error("distill.srt_replay is on, but no traces file is named", "distill.replay_traces",
                "name the SRT run's traces JSONL (run_dir/srt_traces.jsonl of the SRT run)");
  if (!file_exists(path) || is_directory(path))
    throw Error("no such SRT traces file", "distill.replay_traces = " + path, "name the SRT run's srt_traces.jsonl");
  replay_ = parse_srt_traces(read_file(path), path);
  if (replay_.empty()) throw Error("holds no SRT traces to replay", path, "collect SRT traces first, or set distill.srt_replay = 0");
  check_trace_cues(replay_, c_.method_context);
  if (g_.is_learner_root())
    log::info(strprintf("distill.srt_replay = %g: %zu SRT traces from %s, %lld per step", c_.algo.srt_replay,
                        replay_.size(), path.c_str(), (long long)opt_.replay_per_step));
}

int64_t Trainer::run() {
  if (opt_.resume != "none" && !opt_.resume.empty()) {
    // Every rank reads the same file (layout-free, full tensors), so a run may resume on another layout.
    auto point = ckpt::resolve_resume(opt_.resume, opt_.run_dir);
    if (point) {
      for (const auto& skipped : point->skipped) log::warn("resume: skipped " + skipped);
      try {
        restore(point->state);
      } catch (const Error& e) {  // e.g. a model of another shape: say which file
        throw Error(e.what(), point->path, "resume with the configuration the checkpoint was written with");
      }
      log::info(strprintf("resume: continuing after step %lld from %s", (long long)start_step_, point->path.c_str()));
    } else {
      log::info("resume: no checkpoint in " + opt_.run_dir + "; starting fresh");
    }
    if (metrics_.is_open()) {  // steps the checkpoint does not hold are done again: drop their records
      for (MetricsWriter* w : {&metrics_, &samples_}) {
        const std::string path = w->path();
        if (const int64_t n = trim_metrics_after(path, start_step_))
          log::warn(strprintf("resume: dropped %lld record(s) after step %lld (or torn) from %s", (long long)n,
                              (long long)start_step_, path.c_str()));
        *w = MetricsWriter(path);
      }
    }
  }
  if (opt_.ckpt_on_signal) ckpt::install_stop_handlers();
  ckpt::Cadence cadence(opt_.ckpt_every_steps, opt_.ckpt_every_minutes, ckpt::monotonic_seconds());
  Progress progress("train " + c_.method->name(), planned_steps(), "step");
  int64_t done = start_step_;
  const int64_t generations_at_start = budget_.generations();
  next_gen_ = start_step_ + int64_t(pending_.size());
  run_clock_.reset();
  while (done < opt_.steps) {
    const int64_t s = done;
    nlohmann::json rec;
    if (opt_.max_staleness == 0) {
      if (budget_.exhausted()) break;
      rec = step(s);
      if (rec.value("questions", 0) == 0) break;  // the budget had no room for another question
    } else {
      if (!async_round(rec)) break;
      if (rec.is_null()) continue;  // a round that only filled the pipeline
    }
    ++done;
    if (refill_rounds_ > 0) progress.set_total(planned_steps_after(done, generations_at_start));
    progress.update(done, strprintf("loss %.4f reward %.3f", rec.value("loss", 0.0), rec.value("reward_mean", 0.0)));
    // Wall clocks differ between ranks: rank 0 decides, everyone follows; a signal on any rank counts.
    int flags[2] = {cadence.due(done, ckpt::monotonic_seconds()) ? 1 : 0, ckpt::stop_signal() != 0 ? 1 : 0};
    MPI_Bcast(&flags[0], 1, MPI_INT, 0, g_.world());
    MPI_Allreduce(MPI_IN_PLACE, &flags[1], 1, MPI_INT, MPI_MAX, g_.world());
    if (flags[0] || flags[1]) {
      ckpt::TrainingState st = capture(done);
      if (g_.is_learner_root()) log::info("checkpoint: " + ckpt::save_checkpoint(opt_.run_dir, st, {opt_.ckpt_keep_last, {}}));
      cadence.saved(done, ckpt::monotonic_seconds());
      MPI_Barrier(g_.world());
    }
    if (flags[1]) {
      log::warn(strprintf("stop signal: checkpointed after step %lld; exiting for requeue", (long long)done));
      stopped_by_signal_ = true;
      break;
    }
    if (after_step_ && !after_step_(s, rec)) break;
  }
  progress.finish();
  if (done == start_step_ && opt_.steps > start_step_ && !stopped_by_signal_ && budget_.limits().max_generations > 0)
    log::warn(strprintf("train: no step ran: the generation budget (budget.max_generations = %lld, %lld used) has no "
                        "room for one question of %lld samples; the saved policy is the one the run started from",
                        (long long)budget_.limits().max_generations, (long long)budget_.generations(),
                        (long long)c_.method->sampling().samples_per_question));
  return done;
}

// A generation budget usually ends a run long before train.steps (the demo: 64 of 1000): the progress
// line and its ETA count the steps the budget leaves, each step sampling questions_per_step x
// samples_per_question generations.
int64_t Trainer::planned_steps() const {
  const int64_t limit = budget_.limits().max_generations;
  const int64_t per_step = opt_.questions_per_step * c_.method->sampling().samples_per_question;
  if (limit <= 0 || per_step <= 0) return opt_.steps;
  const int64_t left = std::max<int64_t>(0, limit - budget_.generations());
  return std::min(opt_.steps, start_step_ + (left + per_step - 1) / per_step);
}

// With refill rounds a step costs more than one batch: after `done` steps, the steps the budget
// leaves at the generations per step this run has seen.
int64_t Trainer::planned_steps_after(int64_t done, int64_t generations_at_start) const {
  const int64_t limit = budget_.limits().max_generations, ran = done - start_step_;
  const int64_t used = budget_.generations() - generations_at_start;
  if (limit <= 0 || ran <= 0 || used <= 0) return planned_steps();
  const int64_t left = std::max<int64_t>(0, limit - budget_.generations());
  const int64_t per_step = (used + ran - 1) / ran;
  return std::min(opt_.steps, done + (left + per_step - 1) / per_step);
}

// ---- one step, top-down ---------------------------------------------------------------------------

nlohmann::json Trainer::step(int64_t step) {
  Timer wall;
  timers_.clear();
  nlohmann::json rec = {{"step", step + 1}, {"method", c_.method->name()}};
  std::vector<int64_t> questions = questions_for_step(step);
  rec["questions"] = questions.size();
  if (questions.empty()) return rec;

  std::vector<Routed> items;
  if (g_.has(Role::Rollout)) items = rollout_role(questions, step, rec);
  if (refill_rounds_ > 0) items = refill(std::move(items), questions, step, rec);
  items = route(std::move(items), &Trainer::teacher_dest);
  if (g_.has(Role::Teacher)) items = teacher_role(std::move(items));
  items = route(std::move(items), &Trainer::learner_dest);
  algo::StepResult result;
  if (g_.has(Role::Learner)) result = learner_role(std::move(items), step, rec);
  sync_role(result.teacher_action);

  // Metrics: counters summed over ranks, phase times as the slowest rank saw them.
  MPI_Comm w = g_.world();
  double generated = allreduce_sum(w, double(rec.value("local_generated", 0)));
  double tokens = allreduce_sum(w, double(rec.value("local_tokens", 0)));
  double reward_sum = allreduce_sum(w, rec.value("local_reward_sum", 0.0));
  double kept = allreduce_sum(w, double(rec.value("local_kept", 0)));
  budget_.count(int64_t(generated), int64_t(tokens));
  for (const char* k : {"local_generated", "local_tokens", "local_reward_sum", "local_kept"}) rec.erase(k);
  const nlohmann::json learned = learner_statistics(result);  // a named json: items() does not own it
  for (auto& [k, v] : learned.items()) rec[k] = v;
  rec["generations"] = generated;
  rec["generated_tokens"] = tokens;
  rec["kept"] = kept;
  rec["reward_mean"] = generated > 0 ? reward_sum / generated : 0.0;
  rec["version"] = version_;
  phase_metrics(rec, wall.seconds());
  const double secs = rec["t_step"].get<double>();
  rec["tokens_per_s"] = secs > 0 ? tokens / secs : 0.0;
  for (auto& [k, v] : budget_.metrics()) rec[k] = v;
  if (opt_.validate_every > 0 && (step + 1) % opt_.validate_every == 0) {
    Timer vt;  // after the step's phase figures: validation is not training time
    const double score = validate(step);
    rec["t_validate"] = vt.seconds();
    rec["validation/reward"] = score;
    rec["validation/generated_tokens"] = validation_tokens_;
    c_.method->teacher().on_validation(step, score);  // plateau: a sync at the next step
  }

  if (g_.world_rank() == 0) metrics_.write(rec);
  if (g_.world_rank() == 0 && (step + 1) % opt_.log_every == 0) {
    log::info(strprintf("step %lld | loss %.4f | reward %.3f | kept %.0f/%.0f | %.0f tok/s | gen %.2fs ver %.2fs "
                        "tea %.2fs learn %.2fs sync %.2fs | lr %.2e",
                        (long long)(step + 1), rec.value("loss", 0.0), rec.value("reward_mean", 0.0), kept, generated,
                        rec["tokens_per_s"].get<double>(), rec["t_generate"].get<double>(), rec["t_verify"].get<double>(),
                        rec["t_teacher"].get<double>(), rec["t_learn"].get<double>(), rec["t_sync"].get<double>(),
                        rec.value("optim/lr", 0.0)));
  }
  return rec;
}

std::pair<int, int> Trainer::rollout_share() const {
  if (g_.layout().colocated) return {g_.layout().world, g_.world_rank()};
  return {g_.layout().rollout, g_.world_rank() - g_.layout().first_rank(Role::Rollout)};
}

double Trainer::validate(int64_t step) {
  double local[3] = {0, 0, 0};  // reward sum, samples, generated tokens
  if (g_.has(Role::Rollout)) {
    const auto [share, me] = rollout_share();
    RolloutRequest req;
    req.questions = &validation_;
    for (int64_t i = me; i < int64_t(validation_.size()); i += share) req.question_indices.push_back(i);
    req.sampling = c_.method->sampling();
    req.sampling.samples_per_question = 1;
    req.seed = key_seed({opt_.seed, 0x7a11d, uint64_t(step)});
    req.version = version_;
    req.slots = opt_.slots;
    if (!req.question_indices.empty()) {
      RolloutResult rr = rollout(c_, *c_.policy, req);
      for (const auto& tr : rr.trajectories) local[0] += tr.reward, local[1] += 1;
      local[2] = double(rr.generated_tokens);
    }
  }
  MPI_Allreduce(MPI_IN_PLACE, local, 3, MPI_DOUBLE, MPI_SUM, g_.world());
  validation_tokens_ = local[2];
  return local[1] > 0 ? local[0] / local[1] : 0.0;
}

// The step's questions: an epoch-wise shuffle of the training split, cut to what the budget allows.
// Every rank computes the same list.
std::vector<int64_t> Trainer::questions_for_step(int64_t step) {
  const int64_t n = int64_t(c_.questions.size()), b = opt_.questions_per_step;
  int64_t fit = c_.method->samples_online()
                    ? budget_.questions_that_fit(b, c_.method->sampling().samples_per_question)
                    : b;
  std::vector<int64_t> out;
  for (int64_t i = 0; i < fit; ++i) {
    int64_t cursor = step * b + i, epoch = cursor / n;
    if (epoch != epoch_) {
      order_.resize(size_t(n));
      for (int64_t k = 0; k < n; ++k) order_[size_t(k)] = k;
      Rng rng(key_seed({opt_.seed, 0x5eed0e70cULL, uint64_t(epoch)}));
      rng.shuffle(order_);
      epoch_ = epoch;
    }
    out.push_back(order_[size_t(cursor % n)]);
  }
  return out;
}

// Rollout: this rank's share of the questions (position % rollout ranks), sampled with the policy
// it holds, verified, and filtered by the method question by question. A refill round (round > 0)
// samples with its own seed and numbers its groups from first_position on.
std::vector<Routed> Trainer::rollout_role(const std::vector<int64_t>& questions, int64_t step, nlohmann::json& rec,
                                          int64_t round, int64_t first_position) {
  const auto [share, me] = rollout_share();
  std::vector<int64_t> positions, qidx;
  for (int64_t p = 0; p < int64_t(questions.size()); ++p)
    if (p % share == me) positions.push_back(first_position + p), qidx.push_back(questions[size_t(p)]);

  RolloutRequest req;
  req.question_indices = qidx;
  req.sampling = c_.method->sampling();
  req.seed = round == 0 ? key_seed({opt_.seed, uint64_t(step)}) : key_seed({opt_.seed, uint64_t(step), 0x4ef111ULL, uint64_t(round)});
  req.version = version_;
  req.slots = opt_.slots;
  RolloutResult rr;
  if (c_.method->samples_online()) {
    rr = rollout(c_, *c_.policy, req);
  } else {  // demonstrations stand in for samples (SFT): no generation, nothing counted
    for (int64_t qi : qidx) {
      const tasks::Question& q = c_.questions[size_t(qi)];
      if (q.demonstration.empty()) throw Error("question has no demonstration for " + c_.method->name(), q.source);
      algo::Trajectory t;
      t.question_id = qi;
      t.policy_version = version_;
      t.prompt_ids = c_.prompt_ids(q);
      t.response_ids = c_.tokenizer->encode(q.demonstration);
      t.response_ids.push_back(c_.method_context.stop_ids.front());
      t.reward = 1.f;
      rr.trajectories.push_back(std::move(t));
      rr.texts.push_back(q.demonstration);
      rr.reasons.push_back("demonstration");
    }
  }
  timers_.add("generate", rr.seconds_generate);
  timers_.add("verify", rr.seconds_verify);

  double reward_sum = 0;
  for (const auto& t : rr.trajectories) reward_sum += t.reward;
  std::vector<Routed> out;
  algo::Stats keep_stats;
  const size_t per_q = c_.method->samples_online() ? size_t(req.sampling.samples_per_question) : 1;
  for (size_t k = 0; k < positions.size(); ++k) {
    std::vector<algo::Trajectory> group(rr.trajectories.begin() + long(k * per_q), rr.trajectories.begin() + long((k + 1) * per_q));
    algo::Stats s;
    for (auto& t : c_.method->keep(std::move(group), &s)) out.push_back({positions[k], std::move(t), false, {}});
    for (auto& [key, v] : s) keep_stats[key] += v;
  }
  // Summed over a step's rounds (refill).
  rec["local_generated"] = rec.value("local_generated", int64_t(0)) +
                           (c_.method->samples_online() ? int64_t(rr.trajectories.size()) : 0);
  rec["local_tokens"] = rec.value("local_tokens", int64_t(0)) + rr.generated_tokens;
  rec["local_reward_sum"] = rec.value("local_reward_sum", 0.0) + reward_sum;
  rec["local_kept"] = rec.value("local_kept", int64_t(0)) + int64_t(out.size());
  if (g_.world_rank() == 0) write_samples(step, rr);
  return out;
}

// Teacher: scores, without gradient, what the method asks about each trajectory it received.
std::vector<Routed> Trainer::teacher_role(std::vector<Routed> items) {
  auto t = timers_.scope("teacher");
  torch::NoGradGuard no_grad;
  std::vector<algo::ScoredLayout> layouts;
  std::vector<size_t> asked;
  for (size_t i = 0; i < items.size(); ++i)
    if (auto layout = c_.method->teacher_layout(items[i].trajectory)) layouts.push_back(std::move(*layout)), asked.push_back(i);
  if (asked.empty()) return items;
  if (!teacher_) throw Error("the method asks a teacher but none was built", "pipeline");
  std::vector<algo::TeacherSignal> signals = algo::score_teachers(*teacher_, layouts, c_.method->teacher_scoring());
  for (size_t k = 0; k < asked.size(); ++k) {
    items[asked[k]].signal = std::move(signals[k]);
    items[asked[k]].has_signal = true;
  }
  return items;
}

// Weight sync: the learner root's policy to every rollout rank (each step) and to the teacher
// ranks when the method's teacher rule says so.
void Trainer::sync_role(algo::TeacherAction action) {
  int a = int(action);
  {  // the other ranks wait here for the learners: idle, not sync
    auto w = timers_.scope("idle");
    MPI_Bcast(&a, 1, MPI_INT, g_.layout().learner_root(), g_.world());
  }
  auto t = timers_.scope("sync");
  action = algo::TeacherAction(a);
  ++version_;
  if (g_.layout().colocated) {  // learners hold identical weights: nothing to move
    if (teacher_) algo::apply_teacher_action(action, *teacher_, student_, c_.algo.teacher.ema_rate);
    return;
  }
  if (g_.policy_bridge() != MPI_COMM_NULL)
    broadcast_tensors(g_.policy_bridge(), 0, c_.policy->parameters(), opt_.bucket_bytes);
  if (action != algo::TeacherAction::None && g_.teacher_bridge() != MPI_COMM_NULL) {
    // The teacher ranks receive the student into their policy copy, then apply the rule locally.
    broadcast_tensors(g_.teacher_bridge(), 0, c_.policy->parameters(), opt_.bucket_bytes);
    if (g_.has(Role::Teacher) && teacher_) algo::apply_teacher_action(action, *teacher_, student_, c_.algo.teacher.ema_rate);
  }
  // The learner root writes checkpoints, so its teacher copy follows the same rule.
  if (g_.is_learner_root() && teacher_ && action != algo::TeacherAction::None)
    algo::apply_teacher_action(action, *teacher_, student_, c_.algo.teacher.ema_rate);
}

}  // namespace sdz::pipeline
