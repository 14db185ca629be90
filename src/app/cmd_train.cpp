// `sdzero train`: one method, one run, on any number of MPI ranks.
#include <nlohmann/json.hpp>

#include "sdzero/algo/method.hpp"
#include "sdzero/app/command.hpp"
#include "sdzero/app/setup.hpp"
#include "sdzero/core/log.hpp"
#include "sdzero/core/strings.hpp"
#include "sdzero/core/timer.hpp"
#include "sdzero/dist/groups.hpp"
#include "sdzero/pipeline/components.hpp"
#include "sdzero/pipeline/trainer.hpp"

namespace sdz::app {

// Whether the method ever asks a teacher, asked of the method itself (the pipeline never switches on
// method names): a minimal trajectory with a prompt, a response and a demonstration prompt.
static bool method_needs_teacher(const algo::Method& m) {
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

static int train(const std::vector<std::string>& args) {
  CommandLine cl = parse_command_line(args, {});
  Session s = start_session(cl, /*write_run_dir=*/true);
  Timer total;
  pipeline::Components c = pipeline::build_components(s.cfg, /*needs_teacher=*/true);
  bool needs_teacher = method_needs_teacher(*c.method);
  if (!needs_teacher) c.teacher.reset();
  Layout layout = make_layout(s.cfg, s.world->size(), needs_teacher);
  Groups groups(s.world->comm(), layout);
  log::info(strprintf("train: method %s, model %s (%lld parameters), %zu questions (%s), layout %s",
                      c.method->name().c_str(), c.model_source.c_str(),
                      (long long)[&] {
                        int64_t n = 0;
                        for (auto& p : c.policy->parameters()) n += p.numel();
                        return n;
                      }(),
                      c.questions.size(), s.cfg.get_string("train.split").c_str(), layout.describe().c_str()));

  pipeline::Trainer trainer(pipeline::TrainOptions::from_config(s.cfg, s.run_dir), c, groups);
  int64_t steps = trainer.run();
  std::string out = s.cfg.get_string("train.save");
  if (out.empty()) out = s.run_dir + "/final";
  if (groups.is_learner_root()) pipeline::save_policy(*c.policy, *c.tokenizer, out);
  log::info(strprintf("train: %lld steps, %lld generations, %lld generated tokens in %s; policy saved to %s",
                      (long long)steps, (long long)trainer.budget().generations(),
                      (long long)trainer.budget().generated_tokens(), format_duration(total.seconds()).c_str(),
                      out.c_str()));
  return 0;
}

SDZ_COMMAND("train", "train a model with one method (sdzero, sft, rft, grpo, sdft) on any number of ranks",
            "usage: [mpirun -np N] sdzero train [--config FILE] [--section.key=value ...]\n"
            "Writes runs/<run.name>/config.ini, metrics.jsonl (one record per step), samples.jsonl and the\n"
            "final policy (train.save, default run_dir/final). The layout of roles comes from [layout].\n"
            "See `sdzero help config` for every key.",
            train);

}  // namespace sdz::app
