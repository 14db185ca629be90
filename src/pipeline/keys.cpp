#include "sdzero/pipeline/keys.hpp"

#include "sdzero/core/config.hpp"

namespace sdz {

void declare_pipeline_keys(Schema& s) {
  s.add_int("train.steps", 16, "Optimizer steps of the run (the generation budget may end it earlier).", 0);
  s.add_int("train.questions_per_step", 32, "Questions sampled per step, over all rollout ranks.", 1);
  s.add_string("train.split", "train", "Questions trained on: q1 (the SRT set), q2 (the distillation set) or train (both).",
               {"q1", "q2", "train"});
  s.add_int("train.slots", 64, "Sequences decoded at once by each rollout rank (continuous batching).", 1, 65536);
  s.add_int("train.log_every", 1, "Print the step line every this many steps (metrics.jsonl gets every step).", 1);
  s.add_int("train.samples_per_step", 2, "Completions per step written to samples.jsonl (0: none).", 0);
  s.add_int("train.validate_every", 0,
            "Every this many steps, sample one answer per held-out question (data eval split) and log the mean "
            "reward as validation/reward (t_validate: its seconds); feeds teacher.update = plateau. Not counted in the budget. "
            "0 = never.", 0);
  s.add_int("train.validate_questions", 64, "Held-out questions per validation (the first of the eval split).", 1);
  s.add_string("train.init", "", "A model directory (config.json + safetensors + tokenizer.json) to start from; "
               "empty: model.path, or a random tiny model from [model].");
  s.add_string("train.save", "", "Write the trained policy here as a model directory at the end (empty: run_dir/final).");
  s.add_int("demo.pretrain_steps", 1500, "Most supervised pretraining steps of the demo's base model.", 1);
  s.add_int("demo.pretrain_batch", 64, "Worked solutions per pretraining step.", 1);
  s.add_float("demo.pretrain_lr", 1e-3, "AdamW learning rate of base pretraining.", 0.0);
  s.add_int("demo.pretrain_group_tokens", 64, "Pretraining batches are cut into groups of similar length, each padded to "
            "its own longest document, pricing each extra group at this many padded tokens (one more forward and "
            "backward); 0: one padded batch.", 0);
  s.add_int("demo.self_chain_steps", 300,
            "After the base is picked: steps on self chains (its own answer to each pretraining question, the cue "
            "its verdict picks, then the worked solution), so the reviser reads failures like its own. 0 = off.", 0);
  s.add_bool("demo.anneal", false, "The self-chain stage ends the base's training with a fresh AdamW whose rate decays "
             "from demo.pretrain_lr to zero (10 warmup steps, cosine), so the base is a finished model rather than a "
             "mid-training one.");
  s.add_string("demo.pretrain_on", "train", "The base's pretraining and self-chain questions: train (the Q1 and Q2 "
               "questions the methods train on) or other (as many other questions of the same training side, so the "
               "base has read none of the methods' answers).", {"train", "other"});
  s.add_int("demo.self_chain_rounds", 1, "The self chains' own answers are sampled afresh this many times, evenly over "
            "demo.self_chain_steps, so the failures the reviser reads stay the ones the model makes now.", 1, 1000);
  s.add_string("demo.self_chain_on", "pretraining", "The self chains' questions: pretraining (the ones the base "
               "pretrains on) or fresh (each round, as many other training-side questions, none of Q1/Q2, so the base "
               "cannot recall what follows \"wrong\" and learns what its failure rules out).", {"pretraining", "fresh"});
  s.add_float("demo.self_chain_unlikelihood", 3.0, "Weight of an unlikelihood term in the self chains: after "
              "\"wrong\", at the token where the base's own failed answer leaves every correct one (the operator of "
              "3+7=21 for 3,7,2>21), writing that answer again is penalised by -log(1 - p). 0 = off.", 0.0, 100.0);
  s.add_float("demo.chain_unlikelihood", 3.0, "The same unlikelihood on the pretraining chains' wrong attempts "
              "(synthetic: other equations, slips, false claims), from the first pretraining step. 0 = off.", 0.0, 100.0);
  s.add_float("demo.self_chain_mix", 0.5, "Share of each self-chain batch drawn from the self chains (the rest: the "
              "usual documents).", 0.0, 1.0);
  s.add_float("demo.chain_fraction", 0.6, "Share of pretraining documents that are revision chains (0: plain solutions only).", 0.0, 1.0);
  s.add_bool("demo.correction_uses_attempt", false, "After a wrong attempt, the chain's next attempt (and the self chains' revision) corrects it (vs a fresh solution).");
  s.add_bool("demo.cue_loss", false, "Loss on the cue after each chain attempt too: the base learns to judge its own "
             "attempts and revise within one response.");
  s.add_bool("demo.wrong_value_loss", true, "Loss on the value digits of wrong chain attempts with true arithmetic "
             "(55*8=440): the base then writes honest products, so a failed attempt shows its miss.");
  s.add_float("demo.claim_fraction", 0.0, "Share of the chains' wrong attempts that are false claims: a wrong guess "
              "written with the right answer's value (3+7=21 for 3,7,2>21), the base's own commonest failure; the "
              "rest are split by demo.slip_fraction.", 0.0, 1.0);
  s.add_float("demo.slip_fraction", 0.5, "Share of the chains' wrong attempts that are arithmetic slips of the right "
              "answer (42*9=376) instead of wrong guesses (the base makes both kinds).", 0.0, 1.0);
  s.add_int("demo.pick_every", 100, "Evaluate the base every this many pretraining steps.", 1);
  s.add_float("demo.band_low", 0.25, "The base is taken once its avg@k on held-out questions reaches this ...", 0.0, 1.0);
  s.add_float("demo.band_high", 0.45, "... and kept while below this (an early-stopped base, as in the toy study).", 0.0, 1.0);
  s.add_int("demo.pick_questions", 100, "Held-out questions of the validation slice (base pick, lr choice, curves); the rest are the test slice.", 1);
  s.add_string("demo.methods", "sft,sft_other,rft,grpo,sdft,sdft_other,sdzero", "Post-training methods compared from the same base, "
               "comma-separated (sft sft_other rft grpo sdft sdft_other sdzero). sdzero = SRT (at most "
               "demo.srt_budget_fraction of the budget) then phase-2 distillation from the SRT model (the rest); "
               "sft_other and sdft_other = sft and sdft reading demonstrations of data.demo_style = other; sft reads "
               "demo.budget demonstrations and samples nothing.");
  s.add_float("demo.srt_budget_fraction", 0.75, "Most of demo.budget that SD-Zero may spend on SRT collection (the rest, including what "
              "collection leaves unused: phase 2).",
              0.0, 1.0);
  s.add_string("demo.srt_split", "q1", "Questions of SD-Zero's SRT collection: q1 (the paper) or train (Q1 and Q2; the "
               "collection stops at demo.srt_budget_fraction of the budget).",
               {"q1", "train"});
  s.add_string("demo.distill_split", "q2", "Questions of SD-Zero's phase 2: q2 (the paper: SRT on Q1, distillation on Q2) or "
               "train (Q1 and Q2, the baselines' set: phase 2 then also revisits the SRT questions).",
               {"q2", "train"});
  s.add_int("demo.budget", 4096, "Generations every method may use (budget.max_generations of each run).", 1);
  s.add_int("demo.seeds", 3, "Seeds of the demo (run.seed, run.seed + 1, ...): each its own base and runs; the table "
             "shows mean and spread.", 1, 100);
  s.add_string("demo.lr_grid", "1e-4,3e-4", "Learning rates every method tries (comma-separated); each method is reported at "
               "its best mean validation avg@k.");
  s.add_int("demo.curve_points", 4, "Validation evaluations per run at even fractions of its budget (the "
            "accuracy-vs-generations plot).", 1, 100);
  s.add_string("demo.localization_task", "mul", "Task of the self-localization figure (long scratchpad responses); "
               "none: skip it.");
  s.add_string("demo.localization_overrides", "--data.mul_digits=2", "Space-separated --section.key=value overrides of "
               "the localization stage (a shorter scratchpad keeps its pretraining within the demo's time).");
  s.add_int("demo.localization_pretrain_steps", 600, "Most pretraining steps of the localization task's base.", 1);
  s.add_int("demo.localization_max_new_tokens", 48, "Response length limit on the localization task.", 1);
  s.add_int("demo.localization_questions", 200, "Test questions scored for the localization figure.", 1);
  s.add_int("demo.ranks", 0, "Started directly (not by mpirun or srun), the demo runs itself again under mpirun with this "
            "many ranks, one thread each (the tiny models run faster on one thread, and the rank groups run stages side by "
            "side). 0 = one per core, at most demo.seeds + 1; 1 = stay one process.", 0, 1024);
  s.add_int("demo.groups", 0, "Rank groups of the demo: each group runs whole stages (a seed's base, one method at one rate, "
            "the localization figure) with its ranks sharing the work, and the groups run different stages at once. "
            "0 = one group per rank; 1 = every rank shares every stage. Must divide the number of ranks.", 0, 1024);
  s.add_int("demo.eval_k", 4, "Samples per held-out question for avg@k and pass@k.", 1);
  s.add_float("train.srt_epochs", 3.0, "SRT trains min(train.steps, epochs x traces / questions_per_step) steps "
              "(the released code: 3 epochs).", 0.0);
  s.add_string("train.srt_traces", "", "Where SRT collection writes its traces JSONL (method srt; resume reads them back): a new file, never an "
               "existing one; empty: run_dir/srt_traces.jsonl.");
}

}  // namespace sdz
