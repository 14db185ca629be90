// The NLL methods: SFT on demonstrations, RFT on verified samples, and SRT (phase 1) on collected
// self-revision traces with its revision and generation masks.
#include <algorithm>

#include "sdzero/algo/chunked.hpp"
#include "sdzero/algo/losses.hpp"
#include "sdzero/algo/methods.hpp"
#include "sdzero/core/error.hpp"

namespace sdz::algo {

namespace {
torch::Tensor normalise(const torch::Tensor& total, double count) { return count > 0 ? total / count : total * 0.0; }
}  // namespace

SftMethod::SftMethod(const AlgoConfig& cfg, const MethodContext& ctx) : SftMethod(cfg, ctx, 1) {}

SftMethod::SftMethod(const AlgoConfig& cfg, const MethodContext& ctx, int64_t default_samples_per_question)
    : Method(cfg, ctx, TeacherUpdate::Frozen) {
  default_samples(default_samples_per_question);
}

TokenCounts SftMethod::count_tokens(const Batch& b) const {
  TokenCounts c;
  for (const auto& t : b.trajectories)
    c.main += double(response_layout(t.prompt_ids, t.response_ids, cfg_.student_max_tokens).n_targets());
  return c;
}

LossOutput SftMethod::loss(Scorer& student, const Batch& b, const TokenCounts& global, int64_t) const {
  GradAccumulator grads(global.main > 0 ? 1.0 / global.main : 0.0);
  RowBatch rows(student, grads, cfg_.chunk_rows, cfg_.micro_batch_tokens);
  double tokens = 0;
  for (const auto& t : b.trajectories) {
    MaskedSequence seq = response_layout(t.prompt_ids, t.response_ids, cfg_.student_max_tokens);
    const Targets tg = targets_from(seq.ids, int64_t(t.prompt_ids.size()));
    if (tg.n <= 0) continue;
    auto nll = [ids = tg.ids](const torch::Tensor& z, int64_t b, int64_t e) { return token_nll(z, ids.slice(0, b, e)).sum(); };
    rows.add(std::move(seq.ids), tg.row, tg.n, nll);
    tokens += double(tg.n);
  }
  const torch::Tensor total = rows.finish();
  LossOutput out;
  out.loss = normalise(total, global.main);
  out.backward = grads.result();
  out.stats = {{"loss/nll_sum", total.item<double>()}, {"loss/tokens", tokens},
               {"samples/count", double(b.trajectories.size())}};
  return out;
}

RftMethod::RftMethod(const AlgoConfig& cfg, const MethodContext& ctx) : SftMethod(cfg, ctx, 4) {}

std::vector<Trajectory> RftMethod::keep(std::vector<Trajectory> trajs, Stats* stats) const {
  std::vector<Trajectory> kept;
  for (auto& t : trajs)
    if (t.reward > 0.5f) kept.push_back(std::move(t));
  if (stats) {
    (*stats)["keep/kept"] = double(kept.size());
    (*stats)["keep/dropped_unverified"] = double(trajs.size() - kept.size());
  }
  return kept;
}

SrtMethod::SrtMethod(const AlgoConfig& cfg, const MethodContext& ctx) : Method(cfg, ctx, TeacherUpdate::Frozen) {
  default_samples(cfg.srt.initial_samples);
}

void SrtMethod::set_stage_steps(int64_t n) {
  SDZ_CHECK(n > 0, "SRT stage length must be > 0", "srt.stage_steps");
  cfg_.srt.stage_steps = n;
}

int SrtMethod::stages() const { return cfg_.srt.objective == SrtObjective::Sequential ? 2 : 1; }

int SrtMethod::stage_at(int64_t step) const {
  if (stages() == 1) return 0;
  SDZ_CHECK(cfg_.srt.stage_steps > 0, "srt.objective = sequential needs a stage length", "srt.stage_steps",
            "set srt.stage_steps, or train through the pipeline, which derives it from train.srt_epochs");
  return step < cfg_.srt.stage_steps ? 0 : 1;
}

std::pair<bool, bool> SrtMethod::terms_at(int64_t step) const {
  switch (cfg_.srt.objective) {
    case SrtObjective::Joint: return {true, true};
    case SrtObjective::Revision: return {true, false};
    case SrtObjective::Generation: return {false, true};
    case SrtObjective::Sequential: {
      const bool revision = (stage_at(step) == 0) == cfg_.srt.revision_first;
      return {revision, !revision};
    }
  }
  return {true, true};
}

TokenCounts SrtMethod::count_tokens(const Batch& b) const {
  TokenCounts c;
  for (const auto& tr : b.srt) {
    const SrtLayout l = srt_layout(tr.prompt_ids, tr.initial_ids, tr.cue_ids, tr.revision_ids, ctx_.stop_ids,
                                   cfg_.srt.max_tokens);
    for (size_t i = 0; i < l.ids.size(); ++i) {
      c.main += l.generation_mask[i];
      c.aux += l.revision_mask[i];
    }
  }
  return c;
}

LossOutput SrtMethod::loss(Scorer& student, const Batch& b, const TokenCounts& global, int64_t step) const {
  const auto [use_rev, use_gen] = terms_at(step);
  // One weighted NLL per token: w = [rev] / N_rev + [gen] / N_gen over the terms this step trains.
  const double w_rev = use_rev && global.aux > 0 ? 1.0 / global.aux : 0.0;
  const double w_gen = use_gen && global.main > 0 ? 1.0 / global.main : 0.0;
  const double w_ul = w_rev * cfg_.srt.unlikelihood;
  GradAccumulator grads(1.0);  // the per-term weights are inside each sequence's loss
  RowBatch rows(student, grads, cfg_.chunk_rows, cfg_.micro_batch_tokens);
  double rev = 0, gen = 0, unl = 0;
  int64_t ul_rows = 0;
  for (const auto& tr : b.srt) {
    const SrtLayout l = srt_layout(tr.prompt_ids, tr.initial_ids, tr.cue_ids, tr.revision_ids, ctx_.stop_ids,
                                   cfg_.srt.max_tokens);
    const int64_t begin = int64_t(tr.prompt_ids.size());
    const Targets tg = targets_from(l.ids, begin);
    if (tg.n <= 0) continue;
    const torch::Tensor rev_mask = mask_from(l.revision_mask, begin), gen_mask = mask_from(l.generation_mask, begin);
    auto weighted = [&, ids = tg.ids, rev_mask, gen_mask](const torch::Tensor& z, int64_t b, int64_t e) {
      auto nll = token_nll(z, ids.slice(0, b, e));
      auto rm = rev_mask.slice(0, b, e).to(nll.device()), gm = gen_mask.slice(0, b, e).to(nll.device());
      rev += (nll * rm).sum().item<double>();
      gen += (nll * gm).sum().item<double>();
      return (nll * (w_rev * rm + w_gen * gm)).sum();
    };
    rows.add(l.ids, tg.row, tg.n, weighted);
    // srt.unlikelihood: chat(x) ++ y0 ++ "wrong" cue ++ y0[:avoid_at] must not go on with y0's token
    // there. Weighted like w_ul revision tokens, so the term scales with the revision NLL it sits in.
    if (w_ul > 0 && tr.avoid_at >= 0 && tr.initial_reward <= 0.5f) {
      const Ids again(tr.initial_ids.begin(), tr.initial_ids.begin() + tr.avoid_at);
      const SrtLayout u = srt_layout(tr.prompt_ids, tr.initial_ids, tr.cue_ids, again, ctx_.stop_ids, 0);
      if (cfg_.srt.max_tokens > 0 && int64_t(u.ids.size()) > cfg_.srt.max_tokens) continue;
      const torch::Tensor avoid = torch::full({1}, int64_t(tr.avoid_token), torch::kInt64);
      rows.add(u.ids, int64_t(u.ids.size()) - 1, 1, [&, avoid](const torch::Tensor& z, int64_t, int64_t) {
        auto ul = token_unlikelihood(z, avoid.to(z.device())).sum();
        unl += ul.item<double>();
        ++ul_rows;
        return ul * w_ul;
      });
    }
  }
  const torch::Tensor total = rows.finish();
  LossOutput out;
  out.loss = total;
  out.backward = grads.result();
  out.stats = {{"loss/revision_nll_sum", rev}, {"loss/generation_nll_sum", gen},
               {"srt/revision_term", use_rev ? 1.0 : 0.0}, {"srt/generation_term", use_gen ? 1.0 : 0.0},
               {"samples/count", double(b.srt.size())}};
  if (w_ul > 0) out.stats["loss/revision_unlikelihood_sum"] = unl, out.stats["srt/unlikelihood_rows"] = double(ul_rows);
  return out;
}

std::optional<Ids> SrtMethod::revision_context(const Trajectory& initial) const {
  if (!should_revise(initial.reward, cfg_.srt.revise)) return std::nullopt;
  Ids ctx = initial.prompt_ids;
  const Ids body = strip_stop(initial.response_ids, ctx_.stop_ids);
  const Ids& cue = ctx_.cue_ids(initial.reward);
  ctx.insert(ctx.end(), body.begin(), body.end());
  ctx.insert(ctx.end(), cue.begin(), cue.end());
  return ctx;
}

SamplingParams SrtMethod::initial_sampling() const {
  SamplingParams p = sampling();
  if (cfg_.srt.initial_top_p > 0) p.top_p = cfg_.srt.initial_top_p;
  return p;
}

SamplingParams SrtMethod::revision_sampling() const {
  SamplingParams p = cfg_.sampling;
  p.samples_per_question = cfg_.srt.revisions;
  p.top_p = cfg_.srt.revision_top_p;
  return p;
}

}  // namespace sdz::algo
