#include "sdzero/pipeline/rollout.hpp"

#include <algorithm>
#include <optional>

#include "sdzero/core/progress.hpp"
#include "sdzero/core/timer.hpp"
#include "sdzero/model/generate.hpp"

namespace sdz::pipeline {

std::string response_text(const Components& c, const algo::Ids& response) {
  algo::Ids body = response;
  const auto& stops = c.method_context.stop_ids;
  if (!body.empty() && std::find(stops.begin(), stops.end(), body.back()) != stops.end()) body.pop_back();
  return c.tokenizer->decode(body);
}

RolloutResult rollout(const Components& c, const model::Transformer& policy, const RolloutRequest& req) {
  RolloutResult out;
  Timer t;
  model::SamplingParams sp;
  sp.temperature = req.sampling.temperature;
  sp.top_p = req.sampling.top_p;
  sp.max_new_tokens = req.sampling.max_new_tokens;
  sp.stop_ids = c.method_context.stop_ids;
  sp.seed = req.seed;

  const std::vector<tasks::Question>& qs = req.questions ? *req.questions : c.questions;
  std::vector<model::GenRequest> gen;
  std::vector<algo::Ids> prompts;
  for (int64_t qi : req.question_indices) {
    prompts.push_back(c.prompt_ids(qs[size_t(qi)]));
    for (int64_t k = 0; k < req.sampling.samples_per_question; ++k)
      gen.push_back({uint64_t(qi), uint64_t(k), prompts.back()});
  }
  torch::NoGradGuard no_grad;
  model::GenerationEngine engine(policy, std::min<int64_t>(req.slots, std::max<size_t>(1, gen.size())));
  std::optional<Progress> progress;
  if (!req.progress_label.empty()) {
    progress.emplace(req.progress_label, int64_t(gen.size()), "resp");
    engine.on_finished([&](size_t done, size_t) { progress->update(int64_t(done)); });
  }
  std::vector<model::GenResult> res = engine.generate(gen, sp);
  if (progress) progress->finish();
  out.seconds_generate = t.seconds();

  t.reset();
  std::vector<tasks::VerifyItem> items;
  for (size_t i = 0; i < res.size(); ++i) {
    const tasks::Question& q = qs[size_t(res[i].question_id)];
    algo::Trajectory tr;
    tr.question_id = int64_t(res[i].question_id);
    tr.sample_index = int64_t(res[i].sample_index);
    tr.policy_version = req.version;
    tr.prompt_ids = prompts[i / size_t(req.sampling.samples_per_question)];
    tr.response_ids = res[i].tokens;
    // The policy's log-prob at the sampling temperature, before top-k / top-p: the "old policy" of
    // GRPO's ratio, which the learner recomputes the same way (a filtered sampler's own log-prob
    // would bias the ratio). Unfiltered sampling gives the same numbers either way.
    tr.logprobs = res[i].model_logprobs;
    // SDFT's teacher reads a demonstration in context; other methods ignore this prompt.
    if (!q.demonstration.empty())
      tr.teacher_prompt_ids = c.tokenizer->encode(text::sdft_teacher_prompt(c.prompts, q.prompt, q.demonstration));
    out.generated_tokens += int64_t(tr.response_ids.size());
    out.texts.push_back(response_text(c, tr.response_ids));
    items.push_back({q.kind, out.texts.back(), q.target});
    out.trajectories.push_back(std::move(tr));
  }
  std::vector<tasks::Verdict> verdicts = c.verifier->verify_batch(items);
  for (size_t i = 0; i < verdicts.size(); ++i) {
    out.trajectories[i].reward = float(verdicts[i].reward);
    out.reasons.push_back(verdicts[i].reason);
  }
  out.seconds_verify = t.seconds();
  return out;
}

}  // namespace sdz::pipeline
