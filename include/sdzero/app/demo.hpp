// defines: the built-in demo's pieces. DemoContext (the session, the demo config, the validation and
// test slices of the held-out questions), ensure_base (pretrain a base into its band, or reuse it),
// run_method (one method from a base at one learning rate, with its accuracy-vs-generations curve),
// evaluate_row (the full evaluation of one model), and the report (results.md, results.jsonl,
// curves.json, plots). cmd_demo.cpp reads top-down over seeds x methods x learning rates.
#pragma once
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "sdzero/app/setup.hpp"
#include "sdzero/pipeline/eval_protocol.hpp"

namespace sdz::app {

// Held-out questions are split once: the first demo.pick_questions are the validation slice (base
// picking, learning-rate choice, curves), the rest the test slice (the table). No number in the table
// comes from a question that chose anything.
struct DemoContext {
  Session* s = nullptr;
  Config cfg;  // the demo's configuration with this seed's run.seed
  uint64_t seed = 0;
  std::string dir;  // <run>/seed-<seed>
  std::vector<tasks::Question> val, test;
  MPI_Comm comm = MPI_COMM_NULL;  // the ranks that run this stage together (the demo's rank group)
  bool leader = true;             // rank 0 of comm: it writes the stage's files
  // The demo's config with a few keys changed (origins kept, so keys left at their defaults still
  // take the toy prompt values).
  Config stage(const std::vector<std::string>& overrides) const;
};

struct CurvePoint {
  int64_t generations = 0;
  double avg_k = 0;  // on the validation slice
};

struct DemoRow {
  std::string model;  // base, srt, sdzero, rft, grpo, sdft, ...
  uint64_t seed = 0;
  double lr = 0;      // 0 for the base
  pipeline::EvalReport test;  // the full evaluation on the test slice
  double val_avg_k = 0;       // picks the learning rate
  int64_t generations = 0;    // used in training (budget counters)
  int64_t demonstrations = 0;  // gold demonstrations trained on (samples/demonstrations; SDFT, SFT)
  double seconds = 0;
  std::vector<CurvePoint> curve;          // accuracy against generations used
  std::vector<double> length_curve;       // phase 2 (sdzero): mean response length per step
  nlohmann::json info = nlohmann::json::object();  // stage facts (base step, SRT traces, ...)
  nlohmann::json to_json() const;
  static DemoRow from_json(const nlohmann::json& j);  // the inverse (rows travel between rank groups)
};

pipeline::EvalProtocol demo_protocol(const Config& cfg, bool full);

// The base model of this seed in <dir>/base: pretrained until the validation avg@k reaches the band,
// or reused when already there. Returns its row (evaluated on the test slice).
// True when `dir` holds a finished base (its weights' config and picked.json): ensure_base reuses it.
bool base_cached(const std::string& dir);
DemoRow ensure_base(DemoContext& d);

// One method from the base at one learning rate. sdzero returns two rows: srt (phase 1 alone) and
// sdzero (both phases, one budget).
std::vector<DemoRow> run_method(DemoContext& d, const std::string& method, double lr);

// The evaluation of one model (a directory written by save_policy) on the test slice.
pipeline::EvalReport evaluate_model_dir(DemoContext& d, const std::string& model_dir, const pipeline::EvalProtocol& p,
                                        const std::vector<tasks::Question>& questions);

// Self-localization on demo.localization_task (long scratchpad responses): a base for that task
// (pretrained like the demo's, cached), then per-token gaps of the base as its own reviser.
// Writes <run>/localization/{scores.jsonl,summary.json}; returns the summary (empty when disabled).
nlohmann::json run_localization(Session& s, const Config& cfg, MPI_Comm comm, bool leader);
// The localization base's config: the demo's with the task, steps and demo.localization_overrides.
Config localization_config(const Config& cfg);

// The demo's rank groups (picotron's process grid, one dimension): demo.groups groups of consecutive
// ranks (0 = one per rank), each running whole stages with its ranks sharing the work.
struct DemoGroups {
  MPI_Comm comm = MPI_COMM_NULL;  // this rank's group
  int index = 0, count = 1;
  bool leader = true;  // rank 0 of the group
};
DemoGroups carve_groups(MPI_Comm world, int64_t requested);
// A static schedule: item i (cost costs[i]) goes to the group returned at i. Longest first, each to
// the least loaded group (ties: the lowest index), so every rank computes the same answer.
std::vector<int> schedule(const std::vector<double>& costs, int groups);
// The methods' stages without a barrier behind the bases: stage j (cost costs2[j]) needs wave-1 item
// needs[j], which group owner1[i] finishes at the sum of its own wave-1 costs up to i (each group runs
// its wave-1 items in list order first). Stages are taken by the time their item is ready (then
// longest first) and each goes to the group that would finish it first (ties: the lowest index).
// owner[j] is its group; order lists the stages in the order every group runs its own.
struct StagePlan {
  std::vector<int> owner;
  std::vector<size_t> order;
};
StagePlan schedule_after(const std::vector<double>& costs1, const std::vector<int>& owner1,
                         const std::vector<double>& costs2, const std::vector<size_t>& needs, int groups);

// Point-to-point "wave-1 item i is on disk" from the leader of the group that made it to the leader
// of each other group with a stage that needs it; the waiting group's ranks then meet. Replaces a
// world barrier: a group starts a method as soon as its own seed's base exists.
class StageSignals {
 public:
  // users[i]: the groups with a stage that needs item i (the owner's own group is skipped).
  StageSignals(MPI_Comm world, const DemoGroups& g, std::vector<int> owner1, std::vector<std::vector<int>> users);
  void done(size_t item);  // by every rank of the owner group, once the item is written
  void wait(size_t item);  // by every rank of a user group before the first stage that reads it
  void finish();           // completes this rank's sends (before the rows are gathered)

 private:
  MPI_Comm world_;
  DemoGroups g_;
  int per_group_ = 1;
  std::vector<int> owner1_;
  std::vector<std::vector<int>> users_;
  std::vector<bool> ready_;
  std::vector<MPI_Request> sends_;
  std::vector<int> token_;
};

// Rows (each with its place in the serial order) and the localization summary from every group's
// leader, at world rank 0 in serial order; other ranks get nothing.
struct GroupResult {
  std::vector<std::pair<int64_t, DemoRow>> rows;
  nlohmann::json localization;
};
GroupResult gather_results(MPI_Comm world, const GroupResult& mine);

// results.md / results.jsonl / curves.json and plots/*.png (tools/plot-demo). Returns the table text.
std::string write_report(Session& s, const Config& cfg, const std::vector<DemoRow>& rows,
                         const nlohmann::json& localization, double total_seconds);

}  // namespace sdz::app
