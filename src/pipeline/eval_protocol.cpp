// Sampling, generate-then-revise and hindsight evaluation of a policy (see eval_protocol.hpp).
#include "sdzero/pipeline/eval_protocol.hpp"

#include <algorithm>
#include <optional>

#include "sdzero/algo/layout.hpp"
#include "sdzero/core/error.hpp"
#include "sdzero/core/progress.hpp"
#include "sdzero/core/rng.hpp"
#include "sdzero/core/strings.hpp"
#include "sdzero/core/timer.hpp"
#include "sdzero/dist/collectives.hpp"
#include "sdzero/model/generate.hpp"
#include "sdzero/pipeline/rollout.hpp"

namespace sdz::pipeline {

namespace {

// Sample index of the revision after the "correct" cue; indices below it are "wrong"-cue revisions.
constexpr uint64_t kRephraseIndex = uint64_t(1) << 20;

// Rank 0 gets every rank's objects as JSONL, ordered by question index; other ranks get "".
std::string gather_samples(const std::vector<nlohmann::json>& kept, MPI_Comm comm) {
  std::string mine;
  for (const auto& j : kept) mine += j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  std::vector<std::pair<int64_t, std::string>> lines;
  for (std::string& line : gather_lines(comm, 0, mine))
    lines.emplace_back(nlohmann::json::parse(line).at("index").get<int64_t>(), std::move(line));
  std::sort(lines.begin(), lines.end());
  std::string out;
  for (auto& l : lines) out += l.second + "\n";
  return out;
}

}  // namespace

bool self_revises(const text::PromptConfig& pc, const std::string& response_text) {
  for (const std::string* cue : {&pc.cue_correct, &pc.cue_wrong})
    if (!cue->empty() && response_text.find(*cue) != std::string::npos) return true;
  return false;
}

std::vector<double> allreduce_sum_values(MPI_Comm comm, std::vector<double> v) {
  if (!v.empty()) MPI_Allreduce(MPI_IN_PLACE, v.data(), int(v.size()), MPI_DOUBLE, MPI_SUM, comm);
  return v;
}

nlohmann::json EvalReport::to_json() const {
  nlohmann::json j = {{"sampling", sampling.to_json()}, {"generated_tokens", generated_tokens}, {"seconds", seconds}};
  if (revised) {
    j["revision"]["oracle"] = oracle.to_json();
    if (has_rephrase) j["revision"]["rephrase"] = rephrase.to_json();
    j["hindsight"] = hindsight.to_json();
  }
  return j;
}

EvalReport EvalReport::from_json(const nlohmann::json& j) {
  EvalReport r;
  r.sampling = SamplingMetrics::from_json(j.at("sampling"));
  r.generated_tokens = j.at("generated_tokens"), r.seconds = j.at("seconds");
  if (j.contains("revision")) {
    r.revised = true;
    r.oracle = RevisionMetrics::from_json(j.at("revision").at("oracle"));
    r.has_rephrase = j.at("revision").contains("rephrase");
    if (r.has_rephrase) r.rephrase = RevisionMetrics::from_json(j.at("revision").at("rephrase"));
    r.hindsight = HindsightMetrics::from_json(j.at("hindsight"));
  }
  return r;
}

std::string EvalReport::table(const std::string& title) const {
  const auto& s = sampling;
  std::string out = strprintf("%s: %lld questions, k = %lld\n", title.c_str(), (long long)s.questions, (long long)s.k);
  out += strprintf("  avg@%lld %.3f  pass@%lld %.3f  greedy %.3f  mean length %.1f  self-revision %.3f\n",
                   (long long)s.k, s.avg_at_k, (long long)s.k, s.pass_at_k, s.greedy, s.mean_length,
                   s.self_revision_rate);
  if (!revised) return out;
  auto row = [&](const RevisionMetrics& r) {
    return strprintf("  revise (%-8s cue)  first %.3f  revised %.3f  correction %.3f (%lld/%lld)  breakage %.3f (%lld/%lld)\n",
                     r.cue.c_str(), r.first_accuracy, r.revised_accuracy, r.correction_rate, (long long)r.fixed,
                     (long long)r.wrong_first, r.breakage_rate, (long long)r.broken, (long long)r.right_first);
  };
  out += row(oracle);
  if (has_rephrase) out += row(rephrase);
  const auto& h = hindsight;
  out += strprintf("  hindsight (n = %lld failed)  revision %.3f  fresh %.3f  difference %+.3f +- %.3f  "
                   "repeat the attempt: revision %.3f fresh %.3f\n",
                   (long long)h.questions, h.revision_accuracy, h.fresh_accuracy, h.difference, h.difference_stderr,
                   h.revision_repeat_rate, h.fresh_repeat_rate);
  return out;
}

EvalReport evaluate_policy(const Components& c, const model::Transformer& policy,
                           const std::vector<tasks::Question>& questions, const EvalProtocol& opt, MPI_Comm comm) {
  SDZ_CHECK(opt.k >= 1, "evaluation needs k >= 1 samples per question", "eval.k");
  int rank = 0, size = 1;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &size);
  Timer timer;
  const int64_t m = opt.hindsight();
  const int64_t n = opt.revise ? std::max<int64_t>(opt.k, 1 + m) : opt.k;

  RolloutRequest req;
  req.questions = &questions;
  for (int64_t p = 0; p < int64_t(questions.size()); ++p)
    if (p % size == rank) req.question_indices.push_back(p);
  req.slots = opt.slots;
  req.version = -1;
  req.sampling.max_new_tokens = opt.max_new_tokens;
  req.sampling.top_p = opt.top_p;
  const size_t local = req.question_indices.size();

  SamplingCounts sc;
  RevisionCounts oracle, rephrase;
  HindsightCounts hind;
  double tokens = 0;
  // keep_samples: one JSON object per local question, filled as the phases run.
  std::vector<nlohmann::json> kept(opt.keep_samples ? local : 0);
  auto sample_json = [](const std::string& text, bool ok) { return nlohmann::json{{"text", text}, {"reward", ok ? 1 : 0}}; };
  if (local > 0) {
    std::vector<int> greedy(local, -1);
    if (opt.greedy) {
      req.sampling.samples_per_question = 1;
      req.sampling.temperature = 0.0;
      req.seed = key_seed({opt.seed, 0xe7a1});
      if (opt.progress) req.progress_label = "eval greedy";
      RolloutResult g = rollout(c, policy, req);
      tokens += double(g.generated_tokens);
      for (size_t i = 0; i < local; ++i) {
        greedy[i] = g.trajectories[i].reward > 0.5f;
        if (opt.keep_samples) kept[i]["greedy"] = sample_json(g.texts[i], greedy[i] == 1);
      }
    }
    req.sampling.samples_per_question = n;
    req.sampling.temperature = opt.temperature;
    req.seed = key_seed({opt.seed, 0x5a11});
    if (opt.progress) req.progress_label = "eval samples";
    RolloutResult rr = rollout(c, policy, req);
    tokens += double(rr.generated_tokens);
    auto at = [&](size_t i, int64_t j) { return size_t(i) * size_t(n) + size_t(j); };
    auto correct = [&](size_t i, int64_t j) { return rr.trajectories[at(i, j)].reward > 0.5f; };
    for (size_t i = 0; i < local; ++i) {
      QuestionSamples qs;
      for (int64_t j = 0; j < opt.k; ++j)
        qs.samples.push_back({correct(i, j), int64_t(rr.trajectories[at(i, j)].response_ids.size()),
                              self_revises(c.prompts, rr.texts[at(i, j)])});
      qs.greedy = greedy[i];
      sc.add(qs, opt.k);
      if (opt.keep_samples) {
        const tasks::Question& q = questions[size_t(req.question_indices[i])];
        kept[i]["index"] = req.question_indices[i];
        kept[i]["question"] = q.prompt;
        kept[i]["samples"] = nlohmann::json::array();
        for (int64_t j = 0; j < n; ++j) kept[i]["samples"].push_back(sample_json(rr.texts[at(i, j)], correct(i, j)));
      }
    }

    if (opt.revise) {
      // Revisions of the first attempt (sample 0): m after the "wrong" cue when it failed (the first
      // is the oracle revision, all m feed the hindsight test), one after the "correct" cue when it
      // passed (oracle) or when the rephrase row asks for it.
      std::vector<model::GenRequest> gen;
      for (size_t i = 0; i < local; ++i) {
        const algo::Trajectory& t0 = rr.trajectories[at(i, 0)];
        const algo::Ids body = algo::strip_stop(t0.response_ids, c.method_context.stop_ids);
        auto context = [&](bool cue_correct) {
          algo::Ids ctx = t0.prompt_ids;
          ctx.insert(ctx.end(), body.begin(), body.end());
          const algo::Ids& cue = cue_correct ? c.method_context.cue_correct_ids : c.method_context.cue_wrong_ids;
          ctx.insert(ctx.end(), cue.begin(), cue.end());
          return ctx;
        };
        const uint64_t qid = uint64_t(req.question_indices[i]);
        if (!correct(i, 0)) {
          const algo::Ids w = context(false);
          for (int64_t j = 0; j < m; ++j) gen.push_back({qid, uint64_t(j), w});
        }
        if (correct(i, 0) || opt.rephrase_row) gen.push_back({qid, kRephraseIndex, context(true)});
      }
      model::SamplingParams sp;
      sp.temperature = opt.temperature;
      sp.top_p = opt.top_p;
      sp.max_new_tokens = opt.revision_max_new_tokens > 0 ? opt.revision_max_new_tokens : opt.max_new_tokens;
      sp.stop_ids = c.method_context.stop_ids;
      sp.seed = key_seed({opt.seed, 0x4e71});
      std::vector<model::GenResult> revs;
      {
        torch::NoGradGuard no_grad;
        model::GenerationEngine engine(policy, std::max<int64_t>(1, std::min<int64_t>(opt.slots, int64_t(gen.size()))));
        std::optional<Progress> progress;
        if (opt.progress) {
          progress.emplace("eval revisions", int64_t(gen.size()), "resp");
          engine.on_finished([&](size_t done, size_t) { progress->update(int64_t(done)); });
        }
        revs = engine.generate(gen, sp);
        if (progress) progress->finish();
      }
      std::vector<tasks::VerifyItem> items;
      for (const auto& r : revs) {
        const tasks::Question& q = questions[size_t(r.question_id)];
        items.push_back({q.kind, response_text(c, r.tokens), q.target});
        tokens += double(r.tokens.size());
      }
      std::vector<tasks::Verdict> verdicts = c.verifier->verify_batch(items);
      // Results come back in request order: walk them with the same plan.
      size_t next = 0;
      size_t local_i = 0;  // the question `take` is reading for
      auto take = [&] {
        const bool ok = verdicts.at(next).reward > 0.5;
        if (opt.keep_samples) {
          const bool after_wrong = revs[next].sample_index != kRephraseIndex;
          kept[local_i]["revisions"][after_wrong ? "wrong" : "correct"].push_back(sample_json(items[next].response, ok));
        }
        ++next;
        return ok;
      };
      for (size_t i = 0; i < local; ++i) {
        local_i = i;
        const bool first = correct(i, 0);
        if (!first) {
          HindsightRecord h;
          const std::string& attempt = rr.texts[at(i, 0)];
          for (int64_t j = 0; j < m; ++j) {
            h.revised_repeats.push_back(items.at(next).response == attempt);
            h.revised.push_back(take());
          }
          for (int64_t j = 1; j <= m; ++j) {
            h.fresh.push_back(correct(i, j));
            h.fresh_repeats.push_back(rr.texts[at(i, j)] == attempt);
          }
          oracle.add({false, h.revised[0]});
          hind.add(h);
          if (opt.rephrase_row) rephrase.add({false, take()});
        } else {
          const bool again = take();
          oracle.add({true, again});
          rephrase.add({true, again});  // the oracle cue of a correct attempt is the "correct" cue
        }
      }
      SDZ_CHECK(next == verdicts.size(), "revision results out of step with their requests",
                "pipeline::evaluate_policy");
    }
  }

  // One reduction for every count.
  std::vector<double> all = sc.values();
  for (const auto* part : {&oracle, &rephrase}) {
    auto v = part->values();
    all.insert(all.end(), v.begin(), v.end());
  }
  auto hv = hind.values();
  all.insert(all.end(), hv.begin(), hv.end());
  all.push_back(tokens);
  all = allreduce_sum_values(comm, all);
  auto slice = [&](size_t from, size_t count) {
    return std::vector<double>(all.begin() + long(from), all.begin() + long(from + count));
  };
  const size_t ns = sc.values().size(), nr = oracle.values().size(), nh = hv.size();
  EvalReport r;
  r.sampling = sampling_metrics(SamplingCounts::from_values(slice(0, ns)), opt.k);
  r.revised = opt.revise;
  r.has_rephrase = opt.revise && opt.rephrase_row;
  r.oracle = revision_metrics(RevisionCounts::from_values(slice(ns, nr)), "oracle");
  r.rephrase = revision_metrics(RevisionCounts::from_values(slice(ns + nr, nr)), "rephrase");
  r.hindsight = hindsight_metrics(HindsightCounts::from_values(slice(ns + 2 * nr, nh)));
  r.generated_tokens = int64_t(all.back());
  if (opt.keep_samples) r.samples_jsonl = gather_samples(kept, comm);
  r.seconds = timer.seconds();
  return r;
}

EvalReport evaluate_revision(const Components& c, const model::Transformer& policy,
                             const std::vector<tasks::Question>& questions, EvalProtocol opt, MPI_Comm comm) {
  opt.revise = true;
  opt.greedy = false;
  return evaluate_policy(c, policy, questions, opt, comm);
}

}  // namespace sdz::pipeline
