#include "sdzero/pipeline/run.hpp"

#include <cmath>
#include <optional>

#include "sdzero/algo/budget.hpp"
#include "sdzero/algo/methods.hpp"
#include "sdzero/ckpt/cadence.hpp"
#include "sdzero/ckpt/run_dir.hpp"
#include "sdzero/core/config.hpp"
#include "sdzero/core/error.hpp"
#include "sdzero/core/files.hpp"
#include "sdzero/core/log.hpp"
#include "sdzero/core/metrics.hpp"
#include "sdzero/core/strings.hpp"
#include "sdzero/core/timer.hpp"
#include "sdzero/dist/collectives.hpp"
#include "sdzero/dist/groups.hpp"
#include "sdzero/dist/tensor_sync.hpp"
#include "sdzero/pipeline/srt.hpp"
#include "sdzero/pipeline/trainer.hpp"

namespace sdz::pipeline {

bool method_needs_teacher(const algo::Method& m) {
  // A minimal trajectory with a prompt, a response and a demonstration prompt.
  algo::Trajectory t;
  t.prompt_ids = {0};
  t.response_ids = {0};
  t.teacher_prompt_ids = {0};
  try {
    return m.uses_teacher(t);
  } catch (const Error&) {
    return true;
  }
}

namespace {

const char* kCueFile = "srt_cues.json";  // next to an SRT model: the cue it was trained with

nlohmann::json cue_json(const text::PromptConfig& p) {
  return {{"prompt.format", text::chat_format_name(p.format)}, {"prompt.cue_correct", p.cue_correct},
          {"prompt.cue_wrong", p.cue_wrong}, {"prompt.cue_separator", p.cue_separator}};
}

// Phase 2 must use exactly the cue SRT trained on: an SRT model directory says which it was.
void check_phase2_cues(const Config& cfg, const Components& c) {
  if (c.method->name() != "sdzero") return;
  std::string dir = cfg.get_string("train.init");
  if (dir.empty()) dir = cfg.get_string("model.path");
  if (dir.empty() || !file_exists(dir + "/" + kCueFile)) return;
  const nlohmann::json want = nlohmann::json::parse(read_file(dir + "/" + kCueFile), nullptr, false);
  if (!want.is_object()) throw Error("malformed cue record", dir + "/" + kCueFile);
  const nlohmann::json have = cue_json(c.prompts);
  for (const auto& item : want.items()) {
    const std::string& key = item.key();
    const nlohmann::json& v = item.value();
    if (have.contains(key) && have.at(key) != v)
      throw Error("the teacher's cue differs from the one SRT trained on: " + key + " is " + have.at(key).dump() +
                      " here, " + v.dump() + " in " + dir + "/" + kCueFile,
                  key, "set " + key + " = " + v.dump() + " (phase 2 must use exactly phase 1's cue)");
  }
}

// A run directory holds one phase's checkpoints; resuming another method's phase from them would
// load the wrong state silently.
void guard_resume_phase(const Config& cfg, const std::string& run_dir, const std::string& method) {
  const std::string spec = cfg.get_string("ckpt.resume");
  if (spec.empty() || spec == "none") return;
  std::vector<std::string> files;
  if (spec == "auto") {
    for (const auto& [step, path] : ckpt::list_checkpoints(run_dir)) files.push_back(path);
  } else {
    files.push_back(spec);
  }
  for (const auto& f : files) {
    std::string phase;
    try {
      phase = ckpt::read_phase(f);
    } catch (const Error&) {
      continue;  // damaged or missing: the resume itself reports it or falls back
    }
    if (starts_with(phase, "srt_"))
      throw Error("checkpoint of phase " + phase + " cannot resume method " + method, f,
                  "SRT checkpoints resume with method.name = srt; phase 2 starts from the SRT model "
                  "(train.init) in its own run directory");
  }
}

// Phase 1 (SRT) has no teacher and no online loop: collect traces once (or read them back on
// resume), then train on them, data-parallel over every rank whatever [layout] says.
void train_srt_run(const Config& cfg, MPI_Comm world, const std::string& run_dir, algo::SrtMethod& srt,
                   TrainedRun& r) {
  int rank = 0, size = 1;
  MPI_Comm_rank(world, &rank);
  MPI_Comm_size(world, &size);
  r.c.teacher.reset();
  std::string traces_path = cfg.get_string("train.srt_traces");
  if (traces_path.empty()) traces_path = run_dir + "/srt_traces.jsonl";
  SrtTrainOptions so = SrtTrainOptions::from_config(cfg, run_dir);
  if (so.ckpt_on_signal) ckpt::install_stop_handlers();  // a signal during collection waits for its end

  std::optional<ckpt::ResumePoint> point;
  const std::string spec = cfg.get_string("ckpt.resume");
  if (!spec.empty() && spec != "none") point = ckpt::resolve_resume(spec, run_dir);
  std::vector<algo::SrtTrace> traces;
  SrtCollected col;
  if (point) {
    for (const auto& skipped : point->skipped) log::warn("resume: skipped " + skipped);
    if (point->state.phase != ckpt::kPhaseSrtTrain)
      throw Error("checkpoint of phase '" + point->state.phase + "' cannot resume SRT", point->path,
                  "SRT resumes from its own run directory's checkpoints (phase srt_train)");
    auto rec = point->state.texts.find("srt_traces");
    if (rec == point->state.texts.end())
      throw Error("the SRT checkpoint does not record its traces file", point->path + ": /state/text/srt_traces");
    traces = load_srt_traces(traces_path, rec->second);
    check_trace_cues(traces, r.c.method_context);
    if (rank == 0 && !run_dir.empty())
      if (const int64_t n = trim_metrics_after(run_dir + "/metrics.jsonl", point->state.step))
        log::warn(strprintf("resume: dropped %lld metrics record(s) after step %lld (or torn)", (long long)n,
                            (long long)point->state.step));
    log::info(strprintf("resume: SRT continuing after step %lld from %s (%zu traces from %s)",
                        (long long)point->state.step, point->path.c_str(), traces.size(), traces_path.c_str()));
  } else {
    // The traces path is an output of collection: never replace a file the user named, and find out
    // now, not after the sampling, that it cannot be written.
    if (is_directory(traces_path))
      throw Error("is a directory, and SRT collection writes its traces to this path", "train.srt_traces = " + traces_path,
                  "name a file (empty: run_dir/srt_traces.jsonl)");
    if (!cfg.get_string("train.srt_traces").empty() && file_exists(traces_path))
      throw Error("exists, and SRT collection would replace it with this run's traces",
                  "train.srt_traces = " + traces_path,
                  "the key names where collection writes (resume reads it back); choose a new path or delete the file");
    algo::Budget budget(r.c.algo.budget);
    // At most: every initial response revised (srt.revise = both).
    const int64_t initial = srt.sampling().samples_per_question;
    const int64_t per_question = initial * (1 + r.c.algo.srt.revisions);
    std::vector<int64_t> qs;
    int64_t fit = budget.questions_that_fit(int64_t(r.c.questions.size()), per_question);
    for (int64_t i = 0; i < fit; ++i) qs.push_back(i);
    log::info(strprintf("srt: collecting on %zu questions (%lld initial x (1 + %lld revisions) each at most), "
                        "data-parallel over %d rank(s)", qs.size(), (long long)initial,
                        (long long)r.c.algo.srt.revisions, size));
    col = collect_srt(r.c, srt, qs, uint64_t(cfg.get_int("run.seed")), cfg.get_int("train.slots"), world, traces_path);
    traces = std::move(col.traces);
    if (rank == 0 && !run_dir.empty()) {
      nlohmann::json rec = nlohmann::json::parse(col.record);
      rec["step"] = 0;
      rec["method"] = "srt";
      rec["phase"] = ckpt::kPhaseSrtCollect;
      MetricsWriter(run_dir + "/metrics.jsonl").write(rec);
    }
  }

  SrtTrainer trainer(r.c, srt, traces, so, world);
  if (point) {
    try {
      trainer.restore(point->state);
    } catch (const Error& e) {  // e.g. a model of another shape: say which file
      throw Error(e.what(), point->path, "resume with the configuration the checkpoint was written with");
    }
  } else {
    trainer.set_collection(col.record, col.generations, col.generated_tokens);
    if (!run_dir.empty()) trainer.checkpoint(0);  // the collection is the expensive part: keep it
  }
  int stop = ckpt::stop_signal() != 0;
  MPI_Allreduce(MPI_IN_PLACE, &stop, 1, MPI_INT, MPI_MAX, world);
  if (stop && so.ckpt_on_signal && !point) {
    log::warn("stop signal during SRT collection: checkpointed the traces; exiting for requeue");
    r.stopped_by_signal = true;
  } else {
    // "12" when every stage has the same figure, else "40 + 24" (the stages of srt.revision_traces).
    auto per_stage = [&](auto value) {
      std::string all = std::to_string(value(0));
      bool same = true;
      for (int st = 1; st < srt.stages(); ++st) all += " + " + std::to_string(value(st)), same &= value(st) == value(0);
      return same ? std::to_string(value(0)) : all;
    };
    const std::string steps = per_stage([&](int st) { return trainer.stage_steps(st); });
    std::string on = per_stage([&](int st) { return trainer.stage_traces(st); });
    if (on == std::to_string(traces.size())) on.clear();  // every stage on every trace: said once
    log::info(strprintf("srt: %zu traces%s, %s steps per stage x %d stage(s), %lld to run", traces.size(),
                        on.empty() ? "" : (" (" + on + " per stage)").c_str(), steps.c_str(), srt.stages(),
                        (long long)trainer.total_steps()));
    r.steps = trainer.run();
    r.stopped_by_signal = trainer.stopped_by_signal();
  }
  r.generations = trainer.generations();
  r.generated_tokens = trainer.generated_tokens();
  if (r.stopped_by_signal) return;
  r.saved_to = cfg.get_string("train.save");
  if (r.saved_to.empty()) r.saved_to = run_dir + "/final";
  if (rank == 0) {
    save_policy(*r.c.policy, *r.c.tokenizer, r.saved_to);
    write_file_atomic(r.saved_to + "/" + kCueFile, cue_json(r.c.prompts).dump(2) + "\n");
  }
  MPI_Barrier(world);
  log::info(strprintf("srt: %zu traces, %lld steps, %lld generations; policy saved to %s", traces.size(),
                      (long long)r.steps, (long long)r.generations, r.saved_to.c_str()));
}

}  // namespace

TrainedRun train_run(const Config& cfg, MPI_Comm world, const std::string& run_dir, const AfterStep& after_step) {
  TrainedRun r;
  Timer total;
  int size = 1;
  MPI_Comm_size(world, &size);
  int rank = 0;
  MPI_Comm_rank(world, &rank);
  // The trained policy's destination is checked now: finding it unusable after training loses the run.
  if (const std::string save = cfg.get_string("train.save"); !save.empty() && file_exists(save) && !is_directory(save))
    throw Error("exists and is not a directory", "train.save = " + save, "train.save names a model directory");
  if (rank == 0 && !run_dir.empty()) {
    make_dirs(run_dir);
    write_file_atomic(run_dir + "/config.ini", cfg.to_ini());
  }
  r.c = build_components(cfg, /*needs_teacher=*/true);
  if (auto* srt = dynamic_cast<algo::SrtMethod*>(r.c.method.get())) {
    train_srt_run(cfg, world, run_dir, *srt, r);
    r.seconds = total.seconds();
    return r;
  }
  check_phase2_cues(cfg, r.c);
  guard_resume_phase(cfg, run_dir, r.c.method->name());
  bool needs_teacher = method_needs_teacher(*r.c.method);
  if (!needs_teacher) r.c.teacher.reset();
  Layout layout = make_layout(cfg, size, needs_teacher);
  Groups groups(world, layout);
  int64_t params = 0;
  for (auto& p : r.c.policy->parameters()) params += p.numel();
  log::info(strprintf("train: method %s, model %s (%lld parameters), prompt format %s, %zu questions (%s), layout %s",
                      r.c.method->name().c_str(), r.c.model_source.c_str(), (long long)params,
                      text::chat_format_name(r.c.prompts.format), r.c.questions.size(),
                      cfg.get_string("train.split").c_str(), layout.describe().c_str()));

  TrainOptions to = TrainOptions::from_config(cfg, run_dir);
  if (r.c.method->name() == "sdzero") to.phase = ckpt::kPhaseDistill;  // SD-Zero's phase 2 (checkpoints, inspect)
  Trainer trainer(to, r.c, groups);
  if (after_step) trainer.set_after_step([&](int64_t s, nlohmann::json& rec) { return after_step(s, rec, r.c); });
  r.steps = trainer.run();
  if (trainer.stopped_by_signal()) {
    r.stopped_by_signal = true;
    return r;
  }
  // Every rank leaves with the trained policy (rollout ranks lag one sync behind otherwise).
  if (!layout.colocated)
    broadcast_tensors(world, layout.learner_root(), r.c.policy->parameters(), size_t(cfg.get_int("dist.bucket_mb")) << 20);
  r.saved_to = cfg.get_string("train.save");
  if (r.saved_to.empty()) r.saved_to = run_dir + "/final";
  if (groups.is_learner_root()) save_policy(*r.c.policy, *r.c.tokenizer, r.saved_to);
  MPI_Barrier(world);
  r.generations = trainer.budget().generations();
  r.generated_tokens = trainer.budget().generated_tokens();
  r.seconds = total.seconds();
  log::info(strprintf("train: %lld steps, %lld generations, %lld generated tokens in %s; policy saved to %s",
                      (long long)r.steps, (long long)r.generations, (long long)r.generated_tokens,
                      format_duration(r.seconds).c_str(), r.saved_to.c_str()));
  return r;
}

}  // namespace sdz::pipeline
