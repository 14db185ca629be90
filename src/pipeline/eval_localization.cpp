// Token-level self-localization over a question set (see eval_localization.hpp).
#include "sdzero/pipeline/eval_localization.hpp"

#include <algorithm>

#include "sdzero/algo/layout.hpp"
#include "sdzero/algo/losses.hpp"
#include "sdzero/algo/scorer.hpp"
#include "sdzero/core/error.hpp"
#include "sdzero/core/rng.hpp"
#include "sdzero/dist/collectives.hpp"
#include "sdzero/pipeline/eval_protocol.hpp"
#include "sdzero/pipeline/model_scorer.hpp"
#include "sdzero/pipeline/rollout.hpp"

namespace sdz::pipeline {

nlohmann::json ScoredResponse::to_json() const {
  return {{"question_id", question_id}, {"sample", sample},           {"tokens", tokens},
          {"scores", scores},           {"correct", correct},         {"first_error", first_error},
          {"first_error_char", first_error_char}, {"truncated", truncated}};
}

std::vector<double> localization_gaps(model::Transformer& student, model::Transformer& teacher,
                                      const algo::Ids& prompt, const algo::Ids& response, const algo::Ids& cue,
                                      const algo::Ids& stop_ids, int64_t teacher_limit, bool* truncated) {
  const algo::ScoredLayout layout = algo::revision_layout(prompt, response, cue, stop_ids, teacher_limit);
  if (truncated) *truncated = layout.truncated;
  ModelScorer s(student), t(teacher);
  algo::TeacherScoring ts;
  ts.top_k = 1;  // only the scored token's log-prob is needed
  ts.temperature = 1.0;
  ts.token_logprobs = true;
  const torch::Tensor g = algo::self_localization(algo::student_token_logprobs(s, layout),
                                                  algo::score_teacher(t, layout, ts).token_logprobs);
  const torch::Tensor d = g.to(torch::kDouble).contiguous();
  return std::vector<double>(d.data_ptr<double>(), d.data_ptr<double>() + d.numel());
}

std::vector<int64_t> token_offsets(const text::Tokenizer& tok, const algo::Ids& ids) {
  std::vector<int64_t> off{0};
  for (int32_t id : ids) off.push_back(off.back() + int64_t(tok.decode({id}).size()));
  if (off.back() == int64_t(tok.decode(ids).size())) return off;
  off.assign(1, 0);
  for (size_t i = 1; i <= ids.size(); ++i)
    off.push_back(int64_t(tok.decode(algo::Ids(ids.begin(), ids.begin() + long(i))).size()));
  return off;
}

int64_t token_at_char(const std::vector<int64_t>& offsets, int64_t pos) {
  const int64_t n = int64_t(offsets.size()) - 1;
  for (int64_t t = 0; t < n; ++t)
    if (offsets[size_t(t)] <= pos && pos < offsets[size_t(t) + 1]) return t;
  return n;
}

LocalizationRecord localization_record(const ScoredResponse& r) { return {r.scores, r.correct, r.first_error}; }

LocalizationResult evaluate_localization(const Components& c, model::Transformer& student, model::Transformer& teacher,
                                         const std::vector<tasks::Question>& questions, const LocalizationOptions& opt,
                                         MPI_Comm comm, bool gather_responses) {
  SDZ_CHECK(opt.samples >= 1, "localization needs at least one response per question", "eval.localization");
  int rank = 0, size = 1;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &size);
  RolloutRequest req;
  req.questions = &questions;
  for (int64_t p = 0; p < int64_t(questions.size()); ++p)
    if (p % size == rank) req.question_indices.push_back(p);
  req.slots = opt.slots;
  req.version = -1;
  req.sampling.samples_per_question = opt.samples;
  req.sampling.temperature = opt.temperature;
  req.sampling.top_p = opt.top_p;
  req.sampling.max_new_tokens = opt.max_new_tokens;
  req.seed = key_seed({opt.seed, 0x10ca});

  std::vector<ScoredResponse> mine;
  LocalizationCounts counts;
  if (!req.question_indices.empty()) {
    RolloutResult rr = rollout(c, student, req);
    torch::NoGradGuard no_grad;
    for (size_t i = 0; i < rr.trajectories.size(); ++i) {
      const algo::Trajectory& t = rr.trajectories[i];
      const tasks::Question& q = questions[size_t(t.question_id)];
      ScoredResponse s;
      s.question = t.question_id;
      s.question_id = q.id;
      s.sample = t.sample_index;
      s.correct = t.reward > 0.5f;
      s.scores = localization_gaps(student, teacher, t.prompt_ids, t.response_ids, c.method_context.cue_ids(t.reward),
                                   c.method_context.stop_ids, opt.teacher_limit, &s.truncated);
      // The scored tokens are y (cut by the teacher limit when truncated): the first n of the response.
      const algo::Ids scored(t.response_ids.begin(), t.response_ids.begin() + long(s.scores.size()));
      for (int32_t id : scored) s.tokens.push_back(c.tokenizer->decode({id}));
      if (auto fe = tasks::first_error_position(q.kind, rr.texts[i], q.target.answer); fe && *fe >= 0) {
        s.first_error_char = *fe;
        s.first_error = token_at_char(token_offsets(*c.tokenizer, scored), *fe);
      }
      counts.add(localization_record(s), opt.top_fraction, opt.window);
      mine.push_back(std::move(s));
    }
  }
  LocalizationResult out;
  out.metrics = localization_metrics(LocalizationCounts::from_values(allreduce_sum_values(comm, counts.values())),
                                     opt.top_fraction, opt.window);
  if (!gather_responses) {
    out.responses = std::move(mine);
    return out;
  }
  // Rank 0 collects every response (JSON text per rank) and orders them by question and sample.
  std::string lines;
  for (const auto& s : mine) {
    nlohmann::json j = s.to_json();
    j["question"] = s.question;
    lines += j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  }
  const std::vector<std::string> all = gather_lines(comm, 0, lines);
  if (rank != 0) return out;
  for (const std::string& line : all) {
    nlohmann::json j = nlohmann::json::parse(line);
    ScoredResponse s;
    s.question = j["question"].get<int64_t>();
    s.question_id = j["question_id"].get<std::string>();
    s.sample = j["sample"].get<int64_t>();
    s.tokens = j["tokens"].get<std::vector<std::string>>();
    s.scores = j["scores"].get<std::vector<double>>();
    s.correct = j["correct"].get<bool>();
    s.first_error = j["first_error"].get<int64_t>();
    s.first_error_char = j["first_error_char"].get<int64_t>();
    s.truncated = j["truncated"].get<bool>();
    out.responses.push_back(std::move(s));
  }
  std::sort(out.responses.begin(), out.responses.end(), [](const ScoredResponse& a, const ScoredResponse& b) {
    return a.question != b.question ? a.question < b.question : a.sample < b.sample;
  });
  return out;
}

}  // namespace sdz::pipeline
