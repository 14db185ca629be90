#include "sdzero/pipeline/run.hpp"

#include <cmath>

#include "sdzero/algo/budget.hpp"
#include "sdzero/algo/methods.hpp"
#include "sdzero/core/config.hpp"
#include "sdzero/core/error.hpp"
#include "sdzero/core/files.hpp"
#include "sdzero/core/log.hpp"
#include "sdzero/core/strings.hpp"
#include "sdzero/core/timer.hpp"
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

TrainedRun train_run(const Config& cfg, MPI_Comm world, const std::string& run_dir, const AfterStep& after_step) {
  TrainedRun r;
  Timer total;
  int size = 1;
  MPI_Comm_size(world, &size);
  int rank = 0;
  MPI_Comm_rank(world, &rank);
  if (rank == 0 && !run_dir.empty()) {
    make_dirs(run_dir);
    write_file_atomic(run_dir + "/config.ini", cfg.to_ini());
  }
  r.c = build_components(cfg, /*needs_teacher=*/true);
  if (auto* srt = dynamic_cast<algo::SrtMethod*>(r.c.method.get())) {
    // Phase 1 (SRT) has no teacher and no online loop: collect traces once, then train on them,
    // data-parallel over every rank whatever [layout] says.
    r.c.teacher.reset();
    algo::Budget budget(r.c.algo.budget);
    const int64_t per_question = r.c.algo.srt.initial_samples * (1 + r.c.algo.srt.revisions);
    std::vector<int64_t> qs;
    int64_t fit = budget.questions_that_fit(int64_t(r.c.questions.size()), per_question);
    for (int64_t i = 0; i < fit; ++i) qs.push_back(i);
    std::string traces = cfg.get_string("train.srt_traces");
    if (traces.empty()) traces = run_dir + "/srt_traces.jsonl";
    log::info(strprintf("srt: collecting on %zu questions (%lld initial x (1 + %lld revisions) each at most), "
                        "data-parallel over %d rank(s)", qs.size(), (long long)r.c.algo.srt.initial_samples,
                        (long long)r.c.algo.srt.revisions, size));
    SrtCollected col = collect_srt(r.c, *srt, qs, uint64_t(cfg.get_int("run.seed")), cfg.get_int("train.slots"), world, traces);
    SrtTrainOptions so;
    so.batch = cfg.get_int("train.questions_per_step");
    so.steps = std::min<int64_t>(cfg.get_int("train.steps"),
                                 std::max<int64_t>(1, int64_t(std::ceil(cfg.get_float("train.srt_epochs") *
                                                                        double(col.traces.size()) / double(so.batch)))));
    so.seed = uint64_t(cfg.get_int("run.seed"));
    so.metrics_path = run_dir.empty() ? "" : run_dir + "/metrics.jsonl";
    r.steps = train_srt(r.c, *srt, col.traces, so, world);
    r.generations = col.generations;
    r.generated_tokens = col.generated_tokens;
    r.saved_to = cfg.get_string("train.save");
    if (r.saved_to.empty()) r.saved_to = run_dir + "/final";
    if (rank == 0) save_policy(*r.c.policy, *r.c.tokenizer, r.saved_to);
    MPI_Barrier(world);
    r.seconds = total.seconds();
    log::info(strprintf("srt: %zu traces, %lld steps, %lld generations in %s; policy saved to %s", col.traces.size(),
                        (long long)r.steps, (long long)r.generations, format_duration(r.seconds).c_str(),
                        r.saved_to.c_str()));
    return r;
  }
  bool needs_teacher = method_needs_teacher(*r.c.method);
  if (!needs_teacher) r.c.teacher.reset();
  Layout layout = make_layout(cfg, size, needs_teacher);
  Groups groups(world, layout);
  int64_t params = 0;
  for (auto& p : r.c.policy->parameters()) params += p.numel();
  log::info(strprintf("train: method %s, model %s (%lld parameters), %zu questions (%s), layout %s",
                      r.c.method->name().c_str(), r.c.model_source.c_str(), (long long)params, r.c.questions.size(),
                      cfg.get_string("train.split").c_str(), layout.describe().c_str()));

  Trainer trainer(TrainOptions::from_config(cfg, run_dir), r.c, groups);
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
