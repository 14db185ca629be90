// `sdzero train`: one method, one run, on any number of MPI ranks.
#include "sdzero/app/command.hpp"
#include "sdzero/app/setup.hpp"
#include "sdzero/ckpt/cadence.hpp"
#include "sdzero/core/error.hpp"
#include "sdzero/core/strings.hpp"
#include "sdzero/pipeline/run.hpp"

namespace sdz::app {

static int train(const std::vector<std::string>& args) {
  CommandLine cl = parse_command_line(args, {"resume="});
  // --resume auto|PATH is --ckpt.resume, spelled the way people expect it.
  if (cl.flags.count("resume")) {
    for (const auto& o : cl.overrides)  // two spellings of one key: whichever came last would win silently
      if (o == "--ckpt.resume" || starts_with(o, "--ckpt.resume="))
        throw Error("--resume and --ckpt.resume are the same key, given twice", "command line", "give one of them");
    cl.overrides.push_back("--ckpt.resume=" + cl.flags["resume"]);
  }
  Session s = start_session(cl, RunDir::Fresh);
  pipeline::TrainedRun r = pipeline::train_run(s.cfg, s.world->comm(), s.run_dir);
  // A preempted run has checkpointed; this exit code asks Slurm's wrapper to requeue it.
  return r.stopped_by_signal ? ckpt::kExitRequeue : 0;
}

SDZ_COMMAND("train", "train a model with one method (sdzero, srt, sft, rft, grpo, sdft) on any number of ranks",
            "usage: [mpirun -np N] sdzero train [--config FILE] [--resume auto|PATH] [--section.key=value ...]\n"
            "Writes runs/<run.name>/config.ini, metrics.jsonl (one record per step), samples.jsonl and the\n"
            "final policy (train.save, default run_dir/final). The layout of roles comes from [layout].\n"
            "Checkpoints: [ckpt] every_steps / every_minutes / keep_last into run_dir/checkpoints;\n"
            "--resume auto (= --ckpt.resume=auto) continues from the newest valid one, falling back past\n"
            "damaged files; --resume PATH must load. SIGTERM or SIGUSR1 checkpoints and\n"
            "exits with code 75 (requeue). See `sdzero help config` for every key.",
            train);

}  // namespace sdz::app
