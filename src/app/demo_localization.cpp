// The demo's self-localization figure: on a task with long scratchpad responses (demo.localization_task,
// default mul), a base pretrained like the demo's (cached in <run>/localization/base) plays the student
// and, with the cue its reward picks, the reviser (the SD-Zero teacher before any post-training). Per
// token: g_t = log p_student - log p_teacher; the figure compares wrong and correct responses and
// asks how often the largest gap falls on the first error.
#include "sdzero/app/demo.hpp"
#include "sdzero/core/error.hpp"
#include "sdzero/core/files.hpp"
#include "sdzero/core/log.hpp"
#include "sdzero/core/metrics.hpp"
#include "sdzero/core/strings.hpp"
#include "sdzero/pipeline/eval_localization.hpp"

namespace sdz::app {

Config localization_config(const Config& cfg) {
  const std::string task = cfg.get_string("demo.localization_task");
  std::vector<std::string> ov = {"--data.task=" + task,
                                 "--demo.pretrain_steps=" + cfg.text("demo.localization_pretrain_steps"),
                                 "--method.max_new_tokens=" + cfg.text("demo.localization_max_new_tokens"),
                                 // the figure is about a plain base (the toy study's); chains would
                                 // also cost 1024 sampled scratchpads (localization_overrides may add them)
                                 "--demo.self_chain_steps=0"};
  for (const std::string& o : split(cfg.get_string("demo.localization_overrides"), ' ')) {
    if (trim(o).empty()) continue;
    if (!starts_with(trim(o), "--") || trim(o).find('=') == std::string::npos)
      throw Error("'" + o + "' is not an override of the form --section.key=value", "demo.localization_overrides");
    ov.push_back(trim(o));
  }
  DemoContext d;
  d.cfg = cfg;
  return d.stage(ov);
}

nlohmann::json run_localization(Session& s, const Config& cfg, MPI_Comm comm, bool leader) {
  const std::string task = cfg.get_string("demo.localization_task");
  if (task.empty() || task == "none") return nlohmann::json();
  DemoContext d;
  d.s = &s;
  d.seed = uint64_t(cfg.get_int("run.seed"));
  d.dir = s.run_dir + "/localization";
  d.cfg = localization_config(cfg);
  d.comm = comm, d.leader = leader;
  make_dirs(d.dir);
  pipeline::Components probe = pipeline::build_components(d.stage({"--method.name=sft"}), false);
  std::vector<tasks::Question> held = pipeline::load_questions(probe.data, "eval");
  const size_t nval = std::min(held.size(), size_t(cfg.get_int("demo.pick_questions")));
  d.val.assign(held.begin(), held.begin() + long(nval));
  d.test.assign(held.begin() + long(nval), held.end());
  d.test.resize(std::min(d.test.size(), size_t(cfg.get_int("demo.localization_questions"))));
  log::info("demo: self-localization on task " + task);
  DemoRow base = ensure_base(d);

  pipeline::Components c = pipeline::build_components(d.stage({"--train.init=" + d.dir + "/base", "--method.name=sft"}), false);
  pipeline::LocalizationOptions lo;
  lo.samples = cfg.get_int("demo.eval_k");
  lo.temperature = cfg.get_float("method.temperature");
  lo.max_new_tokens = d.cfg.get_int("method.max_new_tokens");
  lo.slots = cfg.get_int("train.slots");
  lo.seed = d.seed;
  pipeline::LocalizationResult r = pipeline::evaluate_localization(c, *c.policy, *c.policy, d.test, lo, comm);
  nlohmann::json summary = r.metrics.to_json();
  summary["task"] = task;
  summary["base_test_avg_at_k"] = base.test.sampling.avg_at_k;
  summary["base_picked_at_step"] = base.info.value("picked_at_step", int64_t(-1));
  if (leader) {
    std::string lines;
    for (const auto& resp : r.responses) lines += resp.to_json().dump() + "\n";
    write_file_atomic(d.dir + "/scores.jsonl", lines);
    write_file_atomic(d.dir + "/summary.json", summary.dump(2) + "\n");
  }
  return summary;
}

}  // namespace sdz::app
