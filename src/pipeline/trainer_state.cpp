// The Trainer's checkpoint state: capture() after a step (collective: ZeRO-1 shards and async
// in-flight batches gather to the learner root) and restore(), its inverse, on every rank.
#include "sdzero/pipeline/trainer.hpp"

#include <cmath>

#include "sdzero/ckpt/torch_state.hpp"
#include "sdzero/dist/collectives.hpp"

namespace sdz::pipeline {

static std::string teacher_state_json(const algo::TeacherState& t) {
  nlohmann::json j = {{"syncs", t.syncs}, {"last_sync_step", t.last_sync_step},
                      {"stale_validations", t.stale_validations}, {"sync_pending", t.sync_pending}};
  if (std::isfinite(t.best_validation)) j["best_validation"] = t.best_validation;  // JSON has no -inf
  return j.dump();
}

ckpt::TrainingState Trainer::capture(int64_t steps_done) {
  ckpt::TrainingState s;
  s.step = steps_done;
  s.policy_version = version_;
  s.phase = opt_.phase;
  s.config_text = opt_.config_text;
  s.model_config_json = c_.policy->config().to_hf_json();
  for (const auto& [name, t] : c_.policy->named_parameters()) s.model[name] = t.detach().clone();
  if (optim_) s.optimizer = ckpt::capture_adamw(optim_->adamw(), c_.policy->named_parameters());
  if (zero1_) s.optimizer = zero1_->gather_state(s.optimizer);  // the learner root gets every shard
  if (opt_.max_staleness > 0) {  // batches in flight, so a resumed async run trains exactly them
    std::vector<Bytes> parts = gatherv(g_.world(), g_.layout().learner_root(), pack_pending());
    if (g_.is_learner_root()) {
      Bytes merged;
      for (const auto& p : parts) merged.insert(merged.end(), p.begin(), p.end());
      if (!merged.empty())  // nothing in flight (e.g. after the last step): nothing to carry
        s.extra["pipeline_pending"] = torch::from_blob(merged.data(), {int64_t(merged.size())}, torch::kUInt8).clone();
    }
  }
  s.teacher.rule = c_.algo.teacher_update;
  s.teacher.schedule_json = teacher_state_json(c_.method->teacher().state());
  if (c_.teacher)
    for (const auto& [name, t] : c_.teacher->named_parameters()) s.teacher.params[name] = t.detach().clone();
  s.budget["generations"] = budget_.generations();
  s.budget["generated_tokens"] = budget_.generated_tokens();
  s.data["train"] = {steps_done * opt_.questions_per_step / int64_t(c_.questions.size()),
                     steps_done * opt_.questions_per_step % int64_t(c_.questions.size()),
                     steps_done * opt_.questions_per_step};
  return s;
}

void Trainer::restore(const ckpt::TrainingState& s) {
  ckpt::copy_into(c_.policy->named_parameters(), s.model, "checkpoint /model");
  if (c_.teacher && !s.teacher.params.empty())
    ckpt::copy_into(c_.teacher->named_parameters(), s.teacher.params, "checkpoint /teacher");
  if (optim_ && !s.optimizer.params.empty())
    ckpt::restore_adamw(optim_->adamw(), c_.policy->named_parameters(),
                        zero1_ ? zero1_->own_part(s.optimizer, c_.policy->named_parameters()) : s.optimizer);
  pending_.clear();
  if (auto it = s.extra.find("pipeline_pending"); it != s.extra.end()) {
    torch::Tensor t = it->second.contiguous().to(torch::kUInt8);
    Bytes merged(t.data_ptr<uint8_t>(), t.data_ptr<uint8_t>() + t.numel());
    unpack_pending(merged);
  }
  if (!s.teacher.schedule_json.empty()) {
    auto j = nlohmann::json::parse(s.teacher.schedule_json);
    algo::TeacherState t;
    t.syncs = j.value("syncs", int64_t(0));
    t.last_sync_step = j.value("last_sync_step", int64_t(0));
    if (j.contains("best_validation") && j["best_validation"].is_number()) t.best_validation = j["best_validation"];
    t.stale_validations = j.value("stale_validations", int64_t(0));
    t.sync_pending = j.value("sync_pending", false);
    c_.method->teacher().set_state(t);
  }
  auto get = [&](const char* k) { auto it = s.budget.find(k); return it == s.budget.end() ? int64_t(0) : it->second; };
  budget_.restore(get("generations"), get("generated_tokens"));
  version_ = s.policy_version;
  start_step_ = s.step;
}

}  // namespace sdz::pipeline
