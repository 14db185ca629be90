#include "sdzero/pipeline/srt.hpp"

#include <algorithm>

#include "sdzero/algo/optim.hpp"
#include "sdzero/algo/train.hpp"
#include "sdzero/core/error.hpp"
#include "sdzero/core/files.hpp"
#include "sdzero/core/log.hpp"
#include "sdzero/core/metrics.hpp"
#include "sdzero/core/progress.hpp"
#include "sdzero/core/rng.hpp"
#include "sdzero/core/strings.hpp"
#include "sdzero/core/timer.hpp"
#include "sdzero/dist/bytes.hpp"
#include "sdzero/dist/collectives.hpp"
#include "sdzero/dist/tensor_sync.hpp"
#include "sdzero/model/generate.hpp"
#include "sdzero/pipeline/model_scorer.hpp"
#include "sdzero/pipeline/rollout.hpp"

namespace sdz::pipeline {

static void write_trace(ByteWriter& w, const algo::SrtTrace& t) {
  w.put<int64_t>(t.question_id);
  w.put_vec(t.prompt_ids);
  w.put_vec(t.initial_ids);
  w.put_vec(t.cue_ids);
  w.put_vec(t.revision_ids);
  w.put<float>(t.initial_reward);
}

static algo::SrtTrace read_trace(ByteReader& r) {
  algo::SrtTrace t;
  t.question_id = r.get<int64_t>();
  t.prompt_ids = r.get_vec<int32_t>();
  t.initial_ids = r.get_vec<int32_t>();
  t.cue_ids = r.get_vec<int32_t>();
  t.revision_ids = r.get_vec<int32_t>();
  t.initial_reward = r.get<float>();
  return t;
}

SrtCollected collect_srt(const Components& c, const algo::SrtMethod& m, const std::vector<int64_t>& questions,
                         uint64_t seed, int64_t slots, MPI_Comm comm, const std::string& traces_path) {
  int rank = 0, size = 1;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &size);
  Timer timer;
  // 1. Initial responses y0 to this rank's questions, verified.
  RolloutRequest req;
  for (size_t p = 0; p < questions.size(); ++p)
    if (int(p % size_t(size)) == rank) req.question_indices.push_back(questions[p]);
  req.sampling = m.sampling();
  req.seed = key_seed({seed, 0x5171});
  req.slots = slots;
  RolloutResult initial = rollout(c, *c.policy, req);

  // 2. K revisions of each y0 the method revises, sampled from chat(x) ++ y0 ++ cue(r0).
  algo::SamplingParams rs = m.revision_sampling();
  model::SamplingParams sp;
  sp.temperature = rs.temperature;
  sp.top_p = rs.top_p;
  sp.max_new_tokens = rs.max_new_tokens;
  sp.stop_ids = c.method_context.stop_ids;
  sp.seed = key_seed({seed, 0x5172});
  std::vector<model::GenRequest> gen;
  std::vector<size_t> source;  // which initial each request revises
  for (size_t i = 0; i < initial.trajectories.size(); ++i) {
    const algo::Trajectory& t = initial.trajectories[i];
    auto ctx = m.revision_context(t);
    if (!ctx) continue;
    for (int64_t k = 0; k < rs.samples_per_question; ++k) {
      // Keyed by (question, initial sample, revision): independent of rank and slot.
      gen.push_back({uint64_t(t.question_id) * 1024 + uint64_t(t.sample_index), uint64_t(k), *ctx});
      source.push_back(i);
    }
  }
  std::vector<model::GenResult> revisions;
  {
    torch::NoGradGuard no_grad;
    model::GenerationEngine engine(*c.policy, std::max<int64_t>(1, std::min<int64_t>(slots, int64_t(gen.size()))));
    if (!gen.empty()) revisions = engine.generate(gen, sp);
  }
  std::vector<tasks::VerifyItem> items;
  std::vector<algo::RevisionCandidate> cands;
  int64_t tokens = initial.generated_tokens;
  for (size_t j = 0; j < revisions.size(); ++j) {
    const algo::Trajectory& t = initial.trajectories[source[j]];
    const tasks::Question& q = c.questions[size_t(t.question_id)];
    algo::RevisionCandidate rc;
    rc.question_id = t.question_id;
    rc.prompt_text = q.prompt;
    rc.initial_text = initial.texts[source[j]];
    rc.prompt_ids = t.prompt_ids;
    rc.initial_ids = t.response_ids;
    rc.cue_ids = c.method_context.cue_ids(t.reward);
    rc.revision_ids = revisions[j].tokens;
    rc.revision_text = response_text(c, rc.revision_ids);
    rc.initial_reward = t.reward;
    tokens += int64_t(rc.revision_ids.size());
    items.push_back({q.kind, rc.revision_text, q.target});
    cands.push_back(std::move(rc));
  }
  std::vector<tasks::Verdict> verdicts = c.verifier->verify_batch(items);
  for (size_t j = 0; j < cands.size(); ++j) cands[j].reward = float(verdicts[j].reward);

  // 3. Keep verified revisions, cleaned; a cut revision is re-encoded and ends with a stop id.
  algo::CollectStats st;
  const int32_t stop = c.method_context.stop_ids.front();
  auto retokenize = [&](const std::string& s) {
    algo::Ids ids = c.tokenizer->encode(s);
    ids.push_back(stop);
    return ids;
  };
  std::vector<algo::RevisionCandidate> kept = algo::clean_revisions(std::move(cands), c.algo.srt.cleanup, retokenize, &st);

  // 4. Every rank gets every trace (in rank order); rank 0 writes the JSONL.
  ByteWriter w;
  w.put<uint64_t>(kept.size());
  for (const auto& k : kept) write_trace(w, algo::to_trace(k));
  std::string lines;
  for (const auto& k : kept) lines += algo::trace_json(k).dump() + "\n";
  SrtCollected out;
  std::vector<Bytes> all = gatherv(comm, 0, w.bytes());
  Bytes merged;
  if (rank == 0) {
    ByteWriter m2;
    m2.put<uint64_t>(all.size());
    for (const auto& b : all) m2.put_vec(b);
    merged = m2.bytes();
  }
  bcast(comm, 0, merged);
  ByteReader mr(merged);
  uint64_t parts = mr.get<uint64_t>();
  for (uint64_t p = 0; p < parts; ++p) {
    Bytes b = mr.get_vec<uint8_t>();
    ByteReader r(b);
    uint64_t n = r.get<uint64_t>();
    for (uint64_t i = 0; i < n; ++i) out.traces.push_back(read_trace(r));
  }
  std::stable_sort(out.traces.begin(), out.traces.end(),
                   [](const algo::SrtTrace& a, const algo::SrtTrace& b) { return a.question_id < b.question_id; });
  std::vector<Bytes> texts = gatherv(comm, 0, Bytes(lines.begin(), lines.end()));
  if (rank == 0 && !traces_path.empty()) {
    std::string all_lines;
    for (const auto& t : texts) all_lines.append(t.begin(), t.end());
    write_file_atomic(traces_path, all_lines);
  }
  out.stats.candidates = int64_t(allreduce_sum(comm, double(st.candidates)));
  out.stats.unverified = int64_t(allreduce_sum(comm, double(st.unverified)));
  out.stats.cut = int64_t(allreduce_sum(comm, double(st.cut)));
  out.stats.sycophantic = int64_t(allreduce_sum(comm, double(st.sycophantic)));
  out.stats.duplicates = int64_t(allreduce_sum(comm, double(st.duplicates)));
  out.stats.kept = int64_t(allreduce_sum(comm, double(st.kept)));
  out.generations = int64_t(allreduce_sum(comm, double(initial.trajectories.size() + revisions.size())));
  out.generated_tokens = int64_t(allreduce_sum(comm, double(tokens)));
  double init_reward = 0;
  for (const auto& t : initial.trajectories) init_reward += t.reward;
  double n_init = allreduce_sum(comm, double(initial.trajectories.size()));
  log::info(strprintf("srt collect: %zu questions, initial accuracy %.3f, %lld revisions sampled, %lld verified, "
                      "%lld kept after clean-up, %lld generations in %s",
                      questions.size(), n_init > 0 ? allreduce_sum(comm, init_reward) / n_init : 0.0,
                      (long long)out.stats.candidates, (long long)(out.stats.candidates - out.stats.unverified),
                      (long long)out.stats.kept, (long long)out.generations, format_duration(timer.seconds()).c_str()));
  return out;
}

int64_t train_srt(Components& c, algo::SrtMethod& m, const std::vector<algo::SrtTrace>& traces,
                  const SrtTrainOptions& o, MPI_Comm comm) {
  int rank = 0, size = 1;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &size);
  if (traces.empty()) throw Error("SRT collection kept no traces: nothing to train on", "srt",
                                  "more questions, more revisions (srt.revisions), or a base that can revise");
  c.policy->set_requires_grad(true);
  algo::Optimizer opt(c.policy->parameters(), c.algo.optim);
  ModelScorer student(*c.policy);
  MetricsWriter metrics;
  if (rank == 0 && !o.metrics_path.empty()) metrics = MetricsWriter(o.metrics_path);
  Progress progress("train srt", o.steps, "step");
  for (int64_t step = 0; step < o.steps; ++step) {
    Timer t;
    Rng rng(key_seed({o.seed, 0x5173, uint64_t(step)}));
    algo::Batch b;
    for (int64_t i = 0; i < o.batch; ++i) {
      size_t k = size_t(rng.randint(0, int64_t(traces.size()) - 1));
      if (i % size == rank) b.srt.push_back(traces[k]);
    }
    algo::TokenCounts local = m.count_tokens(b), global;
    global.main = allreduce_sum(comm, local.main);
    global.aux = allreduce_sum(comm, local.aux);
    auto reduce = [&] {
      if (size == 1) return;
      std::vector<torch::Tensor> grads;
      for (auto& p : opt.params()) grads.push_back(p.mutable_grad());
      allreduce_tensors(comm, grads, size_t(64) << 20, false);
    };
    algo::StepResult r = algo::train_step(m, student, opt, b, global, step, reduce);
    double loss = allreduce_sum(comm, r.loss);
    if (rank == 0 && metrics.is_open()) {
      nlohmann::json rec = r.stats;
      rec["step"] = step + 1;
      rec["method"] = "srt";
      rec["loss"] = loss;
      rec["t_step"] = t.seconds();
      metrics.write(rec);
    }
    progress.update(step + 1, strprintf("loss %.4f", loss));
  }
  progress.finish();
  return o.steps;
}

}  // namespace sdz::pipeline
