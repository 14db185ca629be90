#include "sdzero/pipeline/srt.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <sstream>

#include "sdzero/algo/optim.hpp"
#include "sdzero/algo/train.hpp"
#include "sdzero/ckpt/cadence.hpp"
#include "sdzero/ckpt/checksum.hpp"
#include "sdzero/ckpt/run_dir.hpp"
#include "sdzero/ckpt/torch_state.hpp"
#include "sdzero/core/config.hpp"
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
#include "sdzero/pipeline/pretrain.hpp"
#include "sdzero/pipeline/rollout.hpp"
#include "sdzero/tasks/builtin.hpp"

namespace sdz::pipeline {

static void write_trace(ByteWriter& w, const algo::SrtTrace& t) {
  w.put<int64_t>(t.question_id);
  w.put_vec(t.prompt_ids);
  w.put_vec(t.initial_ids);
  w.put_vec(t.cue_ids);
  w.put_vec(t.revision_ids);
  w.put<float>(t.initial_reward);
  w.put<int64_t>(t.avoid_at);
  w.put<int32_t>(t.avoid_token);
}

static algo::SrtTrace read_trace(ByteReader& r) {
  algo::SrtTrace t;
  t.question_id = r.get<int64_t>();
  t.prompt_ids = r.get_vec<int32_t>();
  t.initial_ids = r.get_vec<int32_t>();
  t.cue_ids = r.get_vec<int32_t>();
  t.revision_ids = r.get_vec<int32_t>();
  t.initial_reward = r.get<float>();
  t.avoid_at = r.get<int64_t>();
  t.avoid_token = r.get<int32_t>();
  return t;
}

namespace {
// What is known correct for each question this rank collected: the task's own correct responses
// (built-in kinds), every verified initial response and every verified revision.
std::map<int64_t, std::vector<algo::Ids>> known_correct(const Components& c, const RolloutResult& initial,
                                                        const std::vector<algo::RevisionCandidate>& cands) {
  std::map<int64_t, std::vector<algo::Ids>> out;
  const algo::Ids& stops = c.method_context.stop_ids;
  std::map<std::string, std::unique_ptr<tasks::BuiltinTask>> tasks_by_kind;
  for (const auto& t : initial.trajectories) {
    auto& known = out[t.question_id];
    if (known.empty()) {
      const tasks::Question& q = c.questions[size_t(t.question_id)];
      if (tasks::is_builtin_task(q.kind)) {
        auto& task = tasks_by_kind[q.kind];
        if (!task) task = tasks::make_builtin_task(q.kind, c.data.knobs);
        for (const auto& r : task->correct_responses(tasks::Problem(q.prompt, q.target.answer, "")))
          known.push_back(c.tokenizer->encode(r));
      }
    }
    if (t.reward > 0.5f) known.push_back(algo::strip_stop(t.response_ids, stops));
  }
  for (const auto& rc : cands)
    if (rc.reward > 0.5f) out[rc.question_id].push_back(algo::strip_stop(rc.revision_ids, stops));
  return out;
}
}  // namespace

void mark_srt_avoid(std::vector<algo::RevisionCandidate>& cands, const std::map<int64_t, std::vector<algo::Ids>>& correct,
                    const algo::Ids& stop_ids) {
  SDZ_CHECK(!stop_ids.empty(), "no stop id to avoid", "pipeline::mark_srt_avoid");
  for (auto& rc : cands) {
    rc.avoid_at = -1, rc.avoid_token = -1;
    auto it = correct.find(rc.question_id);
    if (rc.initial_reward > 0.5f || it == correct.end() || it->second.empty()) continue;
    const algo::Ids y0 = algo::strip_stop(rc.initial_ids, stop_ids);
    const int64_t at = leaving_point(y0, it->second);
    if (at < 0) continue;  // y0 is one of them: the verifier and the known answers disagree
    rc.avoid_at = at;
    rc.avoid_token = at < int64_t(y0.size()) ? y0[size_t(at)] : stop_ids.front();
  }
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
  req.sampling = m.initial_sampling();
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
  if (c.algo.srt.unlikelihood > 0) mark_srt_avoid(cands, known_correct(c, initial, cands), c.method_context.stop_ids);

  // 3. Keep verified revisions, cleaned; a cut revision is re-encoded and ends with a stop id.
  algo::CollectStats st;
  const int32_t stop = c.method_context.stop_ids.front();
  auto retokenize = [&](const std::string& s) {
    algo::Ids ids = c.tokenizer->encode(s);
    ids.push_back(stop);
    return ids;
  };
  std::vector<algo::RevisionCandidate> kept = algo::clean_revisions(std::move(cands), c.algo.srt.cleanup, retokenize, &st);

  // 4. Rank 0 gathers every rank's traces (binary) and JSONL lines, sorts them by question (stable:
  // rank order within a question), writes the JSONL and tells every rank the same list.
  ByteWriter w;
  w.put<uint64_t>(kept.size());
  for (const auto& k : kept) {
    write_trace(w, algo::to_trace(k));
    w.put_str(algo::trace_json(k).dump());
  }
  SrtCollected out;
  std::vector<Bytes> all = gatherv(comm, 0, w.bytes());
  Bytes merged;
  if (rank == 0) {
    std::vector<std::pair<algo::SrtTrace, std::string>> items;
    for (const auto& b : all) {
      ByteReader r(b);
      uint64_t n = r.get<uint64_t>();
      for (uint64_t i = 0; i < n; ++i) {
        algo::SrtTrace t = read_trace(r);
        items.emplace_back(std::move(t), r.get_str());
      }
    }
    std::stable_sort(items.begin(), items.end(),
                     [](const auto& a, const auto& b) { return a.first.question_id < b.first.question_id; });
    std::string jsonl;
    ByteWriter m2;
    m2.put<uint64_t>(items.size());
    for (const auto& [t, line] : items) {
      write_trace(m2, t);
      jsonl += line + "\n";
    }
    if (!traces_path.empty()) write_file_atomic(traces_path, jsonl);
    nlohmann::json rec = {{"path", traces_path}, {"bytes", jsonl.size()},
                          {"crc32c", ckpt::crc32c(jsonl.data(), jsonl.size())}, {"traces", items.size()}};
    m2.put_str(rec.dump());
    merged = m2.bytes();
  }
  bcast(comm, 0, merged);
  ByteReader mr(merged);
  uint64_t n = mr.get<uint64_t>();
  for (uint64_t i = 0; i < n; ++i) out.traces.push_back(read_trace(mr));
  out.record = mr.get_str();
  out.stats.candidates = int64_t(allreduce_sum(comm, double(st.candidates)));
  out.stats.unverified = int64_t(allreduce_sum(comm, double(st.unverified)));
  out.stats.cut = int64_t(allreduce_sum(comm, double(st.cut)));
  out.stats.initial_cut = int64_t(allreduce_sum(comm, double(st.initial_cut)));
  out.stats.sycophantic = int64_t(allreduce_sum(comm, double(st.sycophantic)));
  out.stats.duplicates = int64_t(allreduce_sum(comm, double(st.duplicates)));
  out.stats.kept = int64_t(allreduce_sum(comm, double(st.kept)));
  out.generations = int64_t(allreduce_sum(comm, double(initial.trajectories.size() + revisions.size())));
  out.generated_tokens = int64_t(allreduce_sum(comm, double(tokens)));
  double init_reward = 0;
  for (const auto& t : initial.trajectories) init_reward += t.reward;
  double n_init = allreduce_sum(comm, double(initial.trajectories.size()));
  const double init_acc = n_init > 0 ? allreduce_sum(comm, init_reward) / n_init : 0.0;
  nlohmann::json rec = nlohmann::json::parse(out.record);
  rec["questions"] = questions.size();
  rec["initial_accuracy"] = init_acc;
  rec["candidates"] = out.stats.candidates;
  rec["unverified"] = out.stats.unverified;
  rec["cut"] = out.stats.cut;
  if (c.algo.srt.cleanup.clean_initial) rec["initial_cut"] = out.stats.initial_cut;
  rec["sycophantic"] = out.stats.sycophantic;
  rec["duplicates"] = out.stats.duplicates;
  rec["generations"] = out.generations;
  rec["generated_tokens"] = out.generated_tokens;
  int64_t marked = 0;
  for (const auto& t : out.traces) marked += t.avoid_at >= 0;
  if (c.algo.srt.unlikelihood > 0) rec["unlikelihood_rows"] = marked;
  out.record = rec.dump();
  log::info(strprintf("srt collect: %zu questions, initial accuracy %.3f, %lld revisions sampled, %lld verified, "
                      "%lld kept after clean-up, %lld generations in %s",
                      questions.size(), init_acc,
                      (long long)out.stats.candidates, (long long)(out.stats.candidates - out.stats.unverified),
                      (long long)out.stats.kept, (long long)out.generations, format_duration(timer.seconds()).c_str()) +
            (c.algo.srt.unlikelihood > 0
                 ? strprintf("; %lld kept revisions of wrong answers carry an unlikelihood row", (long long)marked)
                 : std::string()));
  return out;
}

std::vector<algo::SrtTrace> load_srt_traces(const std::string& path, const std::string& record) {
  const nlohmann::json rec = nlohmann::json::parse(record, nullptr, false);
  if (!rec.is_object() || !rec.contains("crc32c") || !rec.contains("bytes"))
    throw Error("the checkpoint's SRT traces record is malformed", "/state/text/srt_traces");
  if (!file_exists(path))
    throw Error("the SRT traces file this run trained on is missing", path,
                "it was written by the collection (train.srt_traces); resume needs it unchanged");
  const std::string text = read_file(path);
  const uint32_t crc = ckpt::crc32c(text.data(), text.size());
  if (text.size() != rec["bytes"].get<size_t>() || crc != rec["crc32c"].get<uint32_t>())
    throw Error(strprintf("the SRT traces file changed since the checkpoint (%zu bytes, crc32c %u; the checkpoint "
                          "recorded %zu bytes, crc32c %u)", text.size(), crc, rec["bytes"].get<size_t>(),
                          rec["crc32c"].get<uint32_t>()),
                path, "resume with the traces file the run collected, or start a fresh run");
  return parse_srt_traces(text, path);
}

std::vector<algo::SrtTrace> parse_srt_traces(const std::string& text, const std::string& path) {
  std::vector<algo::SrtTrace> out;
  std::istringstream in(text);
  std::string line;
  for (int64_t no = 1; std::getline(in, line); ++no) {
    if (line.empty()) continue;
    const std::string where = path + ":" + std::to_string(no);
    nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded()) throw Error("not a JSON line", where);
    out.push_back(algo::trace_from_json(j, where));
  }
  return out;
}

std::vector<algo::SrtTrace> replay_share(const std::vector<algo::SrtTrace>& traces, int64_t step, int64_t per_step,
                                         int learner, int learners, uint64_t seed) {
  std::vector<algo::SrtTrace> out;
  const int64_t n = int64_t(traces.size());
  if (n == 0 || per_step <= 0) return out;
  std::vector<int64_t> order;
  int64_t epoch = -1;
  for (int64_t k = per_step * learner / learners; k < per_step * (learner + 1) / learners; ++k) {
    const int64_t g = step * per_step + k;
    if (g / n != epoch) {  // each pass over the traces in its own order, the same on every learner
      epoch = g / n;
      order.resize(size_t(n));
      std::iota(order.begin(), order.end(), int64_t(0));
      Rng rng(key_seed({seed, 0x5245504CULL /* "REPL" */, uint64_t(epoch)}));
      rng.shuffle(order);
    }
    out.push_back(traces[size_t(order[size_t(g % n)])]);
  }
  return out;
}

void check_trace_cues(const std::vector<algo::SrtTrace>& traces, const algo::MethodContext& ctx) {
  for (const auto& t : traces)
    if (t.cue_ids != ctx.cue_ids(t.initial_reward))
      throw Error(strprintf("SRT trace of question %lld carries another revision cue than this configuration",
                            (long long)t.question_id),
                  t.initial_reward > 0.5f ? "prompt.cue_correct" : "prompt.cue_wrong",
                  "the traces were collected with other [prompt] cue keys; SRT and phase 2 must use one cue");
}

SrtTrainOptions SrtTrainOptions::from_config(const Config& cfg, const std::string& run_dir) {
  SrtTrainOptions o;
  o.max_steps = cfg.get_int("train.steps");
  o.batch = cfg.get_int("train.questions_per_step");
  o.epochs = cfg.get_float("train.srt_epochs");
  o.seed = uint64_t(cfg.get_int("run.seed"));
  o.run_dir = run_dir;
  o.ckpt_every_steps = cfg.get_int("ckpt.every_steps");
  o.ckpt_every_minutes = cfg.get_float("ckpt.every_minutes");
  o.ckpt_keep_last = cfg.get_int("ckpt.keep_last");
  o.ckpt_on_signal = cfg.get_bool("ckpt.on_signal");
  o.config_text = cfg.to_ini();
  return o;
}

SrtTrainer::SrtTrainer(Components& c, algo::SrtMethod& m, const std::vector<algo::SrtTrace>& traces,
                       SrtTrainOptions o, MPI_Comm comm)
    : c_(c), m_(m), traces_(traces), o_(std::move(o)), comm_(comm) {
  MPI_Comm_rank(comm_, &rank_);
  MPI_Comm_size(comm_, &size_);
  if (traces_.empty()) throw Error("SRT collection kept no traces: nothing to train on", "srt",
                                   "more questions, more revisions (srt.revisions), or a base that can revise");
  const algo::SrtOptions& so = c_.algo.srt;
  sets_ = srt_stage_sets(traces_, m_.stages(), so.revision_first, so.revision_traces, o_.seed);
  // A stage is srt.stage_steps steps when set, else train.srt_epochs passes over its traces.
  for (const auto& set : sets_)
    stage_len_.push_back(so.stage_steps > 0 ? so.stage_steps
                                            : std::max<int64_t>(1, int64_t(std::ceil(o_.epochs * double(set.size()) /
                                                                                     double(o_.batch)))));
  if (m_.stages() > 1) m_.set_stage_steps(stage_len_[0]);  // the method switches terms there
  c_.policy->set_requires_grad(true);
}

SrtTrainer::~SrtTrainer() = default;

int64_t SrtTrainer::stage_start(int stage) const {
  int64_t start = 0;
  for (int s = 0; s < stage; ++s) start += stage_len_[size_t(s)];
  return start;
}

int64_t SrtTrainer::total_steps() const { return std::min<int64_t>(o_.max_steps, stage_start(m_.stages())); }

void SrtTrainer::set_collection(std::string record, int64_t generations, int64_t generated_tokens) {
  record_ = std::move(record);
  generations_ = generations;
  generated_tokens_ = generated_tokens;
}

void SrtTrainer::start_stage(int stage) {
  algo::OptimOptions oo = c_.algo.optim;
  if (oo.total_steps == 0) oo.total_steps = stage_len_[size_t(stage)];  // the cosine horizon is the stage (not the train.steps cap)
  opt_ = std::make_unique<algo::Optimizer>(c_.policy->parameters(), oo, stage_start(stage));
  opt_stage_ = stage;
}

std::vector<size_t> SrtTrainer::batch_indices(int64_t step) {
  const int stage = m_.stage_at(step);
  const std::vector<size_t>& set = sets_[size_t(stage)];
  const int64_t n = int64_t(set.size()), local = step - stage_start(stage);
  std::vector<size_t> out;
  for (int64_t i = 0; i < o_.batch; ++i) {
    const int64_t cursor = local * o_.batch + i, epoch = cursor / n;
    if (order_key_ != std::make_pair(stage, epoch)) {
      order_.resize(size_t(n));
      for (int64_t k = 0; k < n; ++k) order_[size_t(k)] = size_t(k);
      Rng rng(key_seed({o_.seed, 0x5173, uint64_t(stage), uint64_t(epoch)}));
      rng.shuffle(order_);
      order_key_ = {stage, epoch};
    }
    out.push_back(set[order_[size_t(cursor % n)]]);
  }
  return out;
}

nlohmann::json SrtTrainer::train_one(int64_t step) {
  Timer t;
  const int stage = m_.stage_at(step);
  if (stage != opt_stage_) start_stage(stage);
  algo::Batch b;
  std::vector<size_t> idx = batch_indices(step);
  for (size_t i = 0; i < idx.size(); ++i)
    if (int(i % size_t(size_)) == rank_) b.srt.push_back(traces_[idx[i]]);
  algo::TokenCounts local = m_.count_tokens(b), global;
  global.main = allreduce_sum(comm_, local.main);
  global.aux = allreduce_sum(comm_, local.aux);
  auto reduce = [&] {
    if (size_ == 1) return;
    std::vector<torch::Tensor> grads;
    for (auto& p : opt_->params()) grads.push_back(p.mutable_grad());
    allreduce_tensors(comm_, grads, size_t(64) << 20, false);
  };
  ModelScorer student(*c_.policy);
  algo::StepResult r = algo::train_step(m_, student, *opt_, b, global, step, reduce);
  nlohmann::json rec = r.stats;
  rec["step"] = step + 1;
  rec["method"] = "srt";
  rec["phase"] = ckpt::kPhaseSrtTrain;
  rec["stage"] = stage + 1;
  rec["epoch"] = double((step - stage_start(stage) + 1) * o_.batch) / double(sets_[size_t(stage)].size());
  rec["loss"] = allreduce_sum(comm_, r.loss);
  rec["t_step"] = t.seconds();
  return rec;
}

int64_t SrtTrainer::run() {
  MetricsWriter metrics;
  if (rank_ == 0 && !o_.run_dir.empty()) metrics = MetricsWriter(o_.run_dir + "/metrics.jsonl");
  if (o_.ckpt_on_signal) ckpt::install_stop_handlers();
  ckpt::Cadence cadence(o_.ckpt_every_steps, o_.ckpt_every_minutes, ckpt::monotonic_seconds());
  const int64_t total = total_steps();
  Progress progress("train srt", total, "step");
  int64_t done = start_step_;
  for (int64_t step = start_step_; step < total; ++step) {
    nlohmann::json rec = train_one(step);
    done = step + 1;
    if (metrics.is_open()) metrics.write(rec);
    progress.update(done, strprintf("loss %.4f stage %d", rec["loss"].get<double>(), rec["stage"].get<int>()));
    // As the Trainer: rank 0's clock decides the cadence, a signal on any rank stops every rank.
    int flags[2] = {!o_.run_dir.empty() && cadence.due(done, ckpt::monotonic_seconds()) ? 1 : 0,
                    ckpt::stop_signal() != 0 ? 1 : 0};
    MPI_Bcast(&flags[0], 1, MPI_INT, 0, comm_);
    MPI_Allreduce(MPI_IN_PLACE, &flags[1], 1, MPI_INT, MPI_MAX, comm_);
    if (flags[0] || (flags[1] && !o_.run_dir.empty())) {
      checkpoint(done);
      cadence.saved(done, ckpt::monotonic_seconds());
    }
    if (flags[1]) {
      log::warn(strprintf("stop signal: checkpointed after SRT step %lld; exiting for requeue", (long long)done));
      stopped_by_signal_ = true;
      break;
    }
  }
  progress.finish();
  return done;
}

std::string SrtTrainer::checkpoint(int64_t steps_done) {
  std::string path;
  if (rank_ == 0 && !o_.run_dir.empty()) {
    path = ckpt::save_checkpoint(o_.run_dir, capture(steps_done), {o_.ckpt_keep_last, {}});
    log::info("checkpoint: " + path);
  }
  MPI_Barrier(comm_);
  return path;
}

ckpt::TrainingState SrtTrainer::capture(int64_t steps_done) const {
  ckpt::TrainingState s;
  s.step = steps_done;
  s.policy_version = steps_done;
  s.phase = ckpt::kPhaseSrtTrain;
  s.config_text = o_.config_text;
  s.model_config_json = c_.policy->config().to_hf_json();
  for (const auto& [name, t] : c_.policy->named_parameters()) s.model[name] = t.detach().clone();
  // The moments belong to the stage of the next step; at a stage boundary (and after collection)
  // there are none: the next stage starts a fresh optimizer.
  const int stage = steps_done < stage_start(m_.stages()) ? m_.stage_at(steps_done) : m_.stages() - 1;
  if (opt_ && opt_stage_ == stage) s.optimizer = ckpt::capture_adamw(opt_->adamw(), c_.policy->named_parameters());
  s.teacher.rule = "none";
  s.budget["generations"] = generations_;
  s.budget["generated_tokens"] = generated_tokens_;
  const int64_t consumed_in_stage = (steps_done - stage_start(stage)) * o_.batch;
  const int64_t n = int64_t(sets_[size_t(stage)].size());
  s.data["srt_traces"] = {consumed_in_stage / n, consumed_in_stage % n, steps_done * o_.batch};
  s.texts["srt_traces"] = record_;
  nlohmann::json traces_per_stage = nlohmann::json::array();
  for (const auto& set : sets_) traces_per_stage.push_back(set.size());
  s.metrics_json = nlohmann::json{{"srt_stage", stage + 1}, {"srt_stages", m_.stages()},
                                  {"srt_stage_steps", stage_len_}, {"srt_stage_traces", traces_per_stage},
                                  {"traces", traces_.size()}}.dump();
  return s;
}

void SrtTrainer::restore(const ckpt::TrainingState& s) {
  if (s.phase != ckpt::kPhaseSrtTrain)
    throw Error("the checkpoint is phase '" + s.phase + "', not SRT training", "ckpt.resume",
                "resume it with the method that wrote it, or use another run directory");
  auto it = s.data.find("srt_traces");
  if (it == s.data.end() || it->second.consumed != s.step * o_.batch)
    throw Error(strprintf("the checkpoint's SRT data cursor does not match %lld steps of %lld traces",
                          (long long)s.step, (long long)o_.batch),
                "train.questions_per_step", "resume with the batch size the run started with");
  ckpt::copy_into(c_.policy->named_parameters(), s.model, "checkpoint /model");
  start_step_ = s.step;
  if (start_step_ < stage_start(m_.stages())) {
    start_stage(m_.stage_at(start_step_));
    if (!s.optimizer.params.empty()) ckpt::restore_adamw(opt_->adamw(), c_.policy->named_parameters(), s.optimizer);
  }
  auto get = [&](const char* k) { auto b = s.budget.find(k); return b == s.budget.end() ? int64_t(0) : b->second; };
  generations_ = get("generations");
  generated_tokens_ = get("generated_tokens");
  auto rec = s.texts.find("srt_traces");
  record_ = rec == s.texts.end() ? "" : rec->second;
}

}  // namespace sdz::pipeline
