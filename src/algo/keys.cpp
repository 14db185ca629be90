// The algo/ configuration keys and their resolution into option structs (see keys.hpp).
#include "sdzero/algo/keys.hpp"

#include "sdzero/core/error.hpp"

namespace sdz {

void declare_algo_keys(Schema& s) {
  s.add_string("method.name", "sdzero", "Post-training method.", {"sdzero", "srt", "sft", "rft", "grpo", "sdft"});
  s.add_int("method.samples_per_question", 0,
            "Responses sampled per question; 0 = the method's default (sdzero/sdft 1, rft 4, grpo 8).", 0, 1024);
  s.add_float("method.temperature", 1.0, "Sampling temperature (paper 0.7, released code 1.0).", 0.0, 10.0);
  s.add_float("method.top_p", 1.0, "Nucleus sampling mass (1.0 in phase 2; SRT collection uses srt.top_p).", 0.0, 1.0);
  s.add_int("method.max_new_tokens", 512, "Most tokens generated per response.", 1);
  s.add_int("method.student_max_tokens", 8192, "Longest student sequence (prompt + response) trained on; "
            "every method trains only the response tokens inside it.", 1);
  s.add_int("method.chunk_rows", 1024,
            "Token rows per chunk of vocabulary projection + loss (bounds [rows x vocab] memory); 0: no chunking.", 0);
  s.add_int("method.micro_batch_tokens", 8192,
            "Learner micro-batches: short sequences share one padded forward and backward of at most this many "
            "tokens (and method.chunk_rows scored rows); <= 1: one sequence at a time. See docs/MEMORY.md.", 0);

  s.add_string("distill.mode", "topk", "Teacher signal: top-k logits, or full-vocabulary log-probs (small vocabularies).",
               {"topk", "full"});
  s.add_int("distill.top_k", 64, "Teacher top-k kept per scored position.", 1, 1 << 20);
  s.add_string("distill.kl", "mixed", "Per-token KL: forward, reverse (the paper's equation), or mixed (released code).",
               {"forward", "reverse", "mixed"});
  s.add_float("distill.forward_weight", 0.5, "Mixed KL: weight of the forward term (the reverse term gets 1 - w).", 0.0, 1.0);
  s.add_float("distill.temperature", 0.0, "Teacher logits are divided by this before the softmax; 0: the sampling "
              "temperature method.temperature (1 when that is 0), as the released code does.", 0.0, 100.0);
  s.add_float("distill.student_temperature", 0.0, "Student logits are divided by this in the distillation loss; 0: "
              "method.temperature (1 when that is 0), so student and teacher are compared at the temperature the "
              "student samples at. Different values make the KL non-zero between identical models.", 0.0, 100.0);
  s.add_int("distill.teacher_max_tokens", 32768, "Teacher sequence limit; longer responses are truncated (same y for both).", 0);
  s.add_float("distill.srt_replay", 0.0,
              "SD-Zero phase 2: weight of the SRT revision NLL on replayed SRT traces, added to the KL so the "
              "reviser (the teacher after a sync) keeps what SRT taught it (0 = off, the paper; not in the paper).", 0.0);
  s.add_string("distill.replay_traces", "",
               "distill.srt_replay: the SRT traces JSONL to replay (sdzero demo sets it to its SRT run's file).");
  s.add_int("distill.replay_per_step", 0,
            "distill.srt_replay: traces replayed per optimizer step over all learners; 0: train.questions_per_step.", 0);

  s.add_float("grpo.clip_low", 0.2, "Ratio floor 1 - clip_low.", 0.0, 0.999);
  s.add_float("grpo.clip_high", 0.28, "Ratio ceiling 1 + clip_high (DAPO clip-higher).", 0.0, 10.0);
  s.add_float("grpo.kl_coef", 0.0, "Weight of the k3 KL to the reference policy (the frozen teacher); 0: none.", 0.0);
  s.add_bool("grpo.dynamic_sampling", true, "Drop groups whose rewards are all equal.");
  s.add_int("grpo.minibatches", 1, "Optimizer steps per rollout batch, each on a 1/n slice of it (PPO/DAPO minibatches; "
            "the toy study used 2). With 1 the policy ratio is 1 and the clip never acts.", 1, 64);
  s.add_int("grpo.refill_rounds", 0, "DAPO's dynamic sampling: up to this many more sampling rounds per step, on "
            "fresh questions, until train.questions_per_step groups with mixed rewards are kept (the surplus of the "
            "last round is spent budget, not trained). 0: dropped groups are not replaced. On-policy runs only.", 0, 64);
  s.add_bool("grpo.scale_by_std", true, "Divide group advantages by the group's reward std.");
  s.add_float("grpo.adv_eps", 1e-6, "Added to the std in the advantage denominator.", 0.0);

  s.add_string("srt.objective", "joint",
               "SRT loss: joint (revision + generation, paper), revision, generation, or sequential (two stages, released code).",
               {"joint", "revision", "generation", "sequential"});
  s.add_string("srt.sequential_first", "revision", "Sequential objective: the first stage.", {"revision", "generation"});
  s.add_int("srt.stage_steps", 0,
            "Sequential objective: optimizer steps of each stage; 0: derived by the pipeline from train.srt_epochs "
            "(each stage that many epochs over the traces, as the released code).", 0);
  s.add_int("srt.revision_traces", 0,
            "Sequential objective: 0 trains both stages on every trace; N > 0 splits them as the released code: "
            "the revision stage takes N traces (correct y0 first, then wrong), the generation stage every other "
            "trace with a wrong y0 (released: 1000, with srt.sequential_first = generation).", 0);
  s.add_int("srt.initial_samples", 1, "Initial responses y0 per question in collection (paper 1, code 3).", 1, 1024);
  s.add_int("srt.revisions", 3, "Revisions K sampled after each revised y0.", 1, 1024);
  s.add_string("srt.revise", "both", "Which initial responses get revised (paper both, code wrong).", {"wrong", "correct", "both"});
  s.add_float("srt.top_p", 0.9, "Nucleus sampling mass of the revisions during collection.", 0.0, 1.0);
  s.add_float("srt.initial_top_p", 0.0,
              "Nucleus sampling mass of the initial responses y0 during collection; 0: method.top_p (the released "
              "code samples y0 at 0.9 too).", 0.0, 1.0);
  s.add_bool("srt.cut_repeats", true, "Cut degenerate repeated tails of revisions.");
  s.add_int("srt.min_repeats", 4, "Back-to-back copies of a block that make a tail degenerate.", 2, 1000);
  s.add_int("srt.min_period", 1, "Shortest repeated block, in characters (released code 10).", 1, 100000);
  s.add_int("srt.max_period", 200, "Longest repeated block, in characters (released code 1500).", 1, 100000);
  s.add_int("srt.cut_passes", 1, "Repeated-tail cuts per revision while each pass still cuts (released code 5).", 1, 100);
  s.add_bool("srt.clean_initial", false,
             "Cut the initial answer y0's repeated tail too, with the revisions' rule (the released code cleans y0 before "
             "training; off: y0 is trained as sampled).");
  s.add_string("srt.sycophantic_openings",
               "You're absolutely right|You are absolutely right|You're right|You are right",
               "Revisions starting with one of these ('|'-separated, case-insensitive) are dropped.");
  s.add_string("srt.sycophantic", "drop",
               "A revision opening with one of srt.sycophantic_openings: drop it, or strip its opening sentence "
               "and keep the rest (the released code).", {"drop", "strip"});
  s.add_bool("srt.dedupe", true, "Drop duplicate revisions of the same question.");
  s.add_string("srt.dedupe_by", "question",
               "What makes two revisions duplicates: the same text for the same question, or also after the same y0 "
               "(initial; the released code).", {"question", "initial"});
  s.add_int("srt.max_tokens", 8192, "Longest SRT training sequence; the tail is cut.", 1);
  s.add_float("srt.unlikelihood", 0.0,
              "Weight of an unlikelihood on writing a wrong y0 again after the 'wrong' cue, at the token where y0 "
              "leaves every known correct response (0 = off, the paper's SRT; not in the paper).", 0.0);

  s.add_float("optim.lr", 5e-6, "AdamW peak learning rate.", 0.0);
  s.add_float("optim.weight_decay", 0.01, "AdamW decoupled weight decay.", 0.0);
  s.add_float("optim.beta1", 0.9, "AdamW beta1.", 0.0, 0.999999);
  s.add_float("optim.beta2", 0.999, "AdamW beta2.", 0.0, 0.999999);
  s.add_float("optim.eps", 1e-8, "AdamW epsilon.", 0.0);
  s.add_string("optim.schedule", "constant", "After linear warmup: constant, or cosine decay to min_lr_ratio.",
               {"constant", "cosine"});
  s.add_int("optim.warmup_steps", 20, "Linear warmup steps.", 0);
  s.add_bool("optim.decay_1d", true,
             "AdamW weight decay on 1-D parameters (norm weights, biases) too; false: on matrices only, as the HF "
             "Trainer (the released SRT code) does.");
  s.add_float("optim.warmup_start_factor", 0.0,
              "Warmup's first rate as a fraction of optim.lr, rising linearly to optim.lr at the end of warmup "
              "(NeMo-RL's LinearLR, the released phase-2 code: 0.1); 0: optim.lr x (step + 1) / warmup.", 0.0, 1.0);
  s.add_float("optim.warmup_fraction", 0.0, "Warmup as a fraction of total_steps (the longer of the two wins).", 0.0, 1.0);
  s.add_int("optim.total_steps", 0, "Cosine horizon in optimizer steps; 0: derived from the budget by the pipeline.", 0);
  s.add_float("optim.min_lr_ratio", 0.0, "Cosine floor as a fraction of optim.lr.", 0.0, 1.0);
  s.add_float("optim.grad_clip", 1.0, "Max global gradient norm; 0: no clipping.", 0.0);
  s.add_string("optim.foreach", "on",
               "AdamW update as multi-tensor list operations over all parameters (few kernel launches): on, off "
               "(torch's per-parameter loop), auto (on for GPU parameters only). Same arithmetic. On a GPU, on/auto "
               "take torch's fused AdamW kernel (one pass per tensor chunk; equal up to rounding).", {"auto", "on", "off"});

  s.add_int("budget.max_generations", 0, "Stop after this many sampled responses (all methods count alike); 0: no limit.", 0);
  s.add_int("budget.max_generated_tokens", 0, "Stop after this many generated tokens; 0: no limit.", 0);

  s.add_string("teacher.update", "auto",
               "How the teacher changes: auto (the method's default: sdft ema, else frozen), frozen, sync_every, "
               "plateau (needs train.validate_every), ema.",
               {"auto", "frozen", "sync_every", "plateau", "ema"});
  s.add_int("teacher.sync_every", 0, "sync_every: hard-copy the student into the teacher every K optimizer steps.", 0);
  s.add_float("teacher.ema_rate", 0.01, "ema: teacher <- (1 - rate) teacher + rate student after every step.", 0.0, 1.0);
  s.add_int("teacher.plateau_patience", 1, "plateau: validations without improvement before a sync.", 1);
  s.add_float("teacher.plateau_min_delta", 0.0, "plateau: least validation gain that counts as improvement.", 0.0);
}

}  // namespace sdz

namespace sdz::algo {

SrtObjective parse_srt_objective(const std::string& s) {
  if (s == "joint") return SrtObjective::Joint;
  if (s == "revision") return SrtObjective::Revision;
  if (s == "generation") return SrtObjective::Generation;
  if (s == "sequential") return SrtObjective::Sequential;
  throw Error("unknown SRT objective '" + s + "'", "srt.objective", "use joint, revision, generation or sequential");
}

AlgoConfig algo_config(const Config& c) {
  AlgoConfig a;
  a.method = c.get_string("method.name");
  a.sampling.samples_per_question = c.get_int("method.samples_per_question");
  a.sampling.temperature = c.get_float("method.temperature");
  a.sampling.top_p = c.get_float("method.top_p");
  a.sampling.max_new_tokens = c.get_int("method.max_new_tokens");
  a.student_max_tokens = c.get_int("method.student_max_tokens");
  a.chunk_rows = c.get_int("method.chunk_rows");
  a.micro_batch_tokens = c.get_int("method.micro_batch_tokens");

  a.teacher_scoring.mode = parse_teacher_mode(c.get_string("distill.mode"));
  a.teacher_scoring.top_k = c.get_int("distill.top_k");
  // Both sides of the distillation KL at the sampling temperature unless set: with a student at 1 and
  // a teacher at 0.7 the loss would sharpen the student even where the teacher agrees with it.
  const double sampled_at = a.sampling.temperature > 0 ? a.sampling.temperature : 1.0;
  auto or_sampled = [&](const char* key) { return c.get_float(key) > 0 ? c.get_float(key) : sampled_at; };
  a.teacher_scoring.temperature = or_sampled("distill.temperature");
  a.teacher_scoring.chunk_rows = a.chunk_rows;
  a.teacher_scoring.micro_batch_tokens = a.micro_batch_tokens;
  a.kl.kind = parse_kl_kind(c.get_string("distill.kl"));
  a.kl.forward_weight = c.get_float("distill.forward_weight");
  a.kl.teacher_temperature = a.teacher_scoring.temperature;
  a.kl.student_temperature = or_sampled("distill.student_temperature");
  a.teacher_max_tokens = c.get_int("distill.teacher_max_tokens");
  a.srt_replay = c.get_float("distill.srt_replay");
  if (a.srt_replay > 0 && a.method != "sdzero")
    throw Error("replays SRT traces in SD-Zero's phase 2 only, and method.name is " + a.method, "distill.srt_replay",
                "set distill.srt_replay = 0, or method.name = sdzero");

  a.clip.eps_low = c.get_float("grpo.clip_low");
  a.clip.eps_high = c.get_float("grpo.clip_high");
  a.clip.kl_coef = c.get_float("grpo.kl_coef");
  a.dynamic_sampling = c.get_bool("grpo.dynamic_sampling");
  a.grpo_minibatches = c.get_int("grpo.minibatches");
  a.grpo_refill_rounds = c.get_int("grpo.refill_rounds");
  if (a.method == "grpo" && a.grpo_refill_rounds > 0 && !a.dynamic_sampling)
    throw Error("grpo.refill_rounds replaces the groups dynamic sampling drops, and grpo.dynamic_sampling is off",
                "grpo.refill_rounds", "set grpo.dynamic_sampling = true, or grpo.refill_rounds = 0");
  a.scale_by_std = c.get_bool("grpo.scale_by_std");
  a.adv_eps = c.get_float("grpo.adv_eps");

  a.srt.objective = parse_srt_objective(c.get_string("srt.objective"));
  a.srt.revision_first = c.get_string("srt.sequential_first") == "revision";
  a.srt.stage_steps = c.get_int("srt.stage_steps");
  a.srt.revision_traces = c.get_int("srt.revision_traces");
  if (a.srt.revision_traces > 0 && a.srt.objective != SrtObjective::Sequential)
    throw Error("srt.revision_traces splits the traces between the two stages of the sequential objective, and "
                "srt.objective is " + c.get_string("srt.objective"), "srt.revision_traces",
                "set srt.objective = sequential, or srt.revision_traces = 0");
  a.srt.initial_samples = c.get_int("srt.initial_samples");
  a.srt.revisions = c.get_int("srt.revisions");
  a.srt.revise = parse_revise_which(c.get_string("srt.revise"));
  a.srt.revision_top_p = c.get_float("srt.top_p");
  a.srt.initial_top_p = c.get_float("srt.initial_top_p");
  a.srt.cleanup.cut_repeats = c.get_bool("srt.cut_repeats");
  a.srt.cleanup.min_repeats = int(c.get_int("srt.min_repeats"));
  a.srt.cleanup.min_period = int(c.get_int("srt.min_period"));
  a.srt.cleanup.max_period = int(c.get_int("srt.max_period"));
  a.srt.cleanup.cut_passes = int(c.get_int("srt.cut_passes"));
  a.srt.cleanup.clean_initial = c.get_bool("srt.clean_initial");
  if (a.srt.cleanup.min_period > a.srt.cleanup.max_period)
    throw Error("srt.min_period is " + std::to_string(a.srt.cleanup.min_period) + ", above srt.max_period " +
                    std::to_string(a.srt.cleanup.max_period), "srt.min_period", "make min_period <= max_period");
  a.srt.cleanup.sycophantic_openings = split_list(c.get_string("srt.sycophantic_openings"));
  a.srt.cleanup.strip_sycophantic = c.get_string("srt.sycophantic") == "strip";
  a.srt.cleanup.dedupe = c.get_bool("srt.dedupe");
  a.srt.cleanup.dedupe_per_initial = c.get_string("srt.dedupe_by") == "initial";
  a.srt.max_tokens = c.get_int("srt.max_tokens");
  a.srt.unlikelihood = c.get_float("srt.unlikelihood");

  a.optim.lr = c.get_float("optim.lr");
  a.optim.weight_decay = c.get_float("optim.weight_decay");
  a.optim.beta1 = c.get_float("optim.beta1");
  a.optim.beta2 = c.get_float("optim.beta2");
  a.optim.eps = c.get_float("optim.eps");
  a.optim.schedule = parse_lr_schedule(c.get_string("optim.schedule"));
  a.optim.warmup_steps = c.get_int("optim.warmup_steps");
  a.optim.warmup_fraction = c.get_float("optim.warmup_fraction");
  a.optim.warmup_start_factor = c.get_float("optim.warmup_start_factor");
  a.optim.decay_1d = c.get_bool("optim.decay_1d");
  a.optim.total_steps = c.get_int("optim.total_steps");
  a.optim.min_lr_ratio = c.get_float("optim.min_lr_ratio");
  a.optim.grad_clip = c.get_float("optim.grad_clip");
  a.optim.foreach = parse_foreach_mode(c.get_string("optim.foreach"));

  a.budget.max_generations = c.get_int("budget.max_generations");
  a.budget.max_generated_tokens = c.get_int("budget.max_generated_tokens");

  a.teacher_update = c.get_string("teacher.update");
  a.teacher.sync_every = c.get_int("teacher.sync_every");
  a.teacher.ema_rate = c.get_float("teacher.ema_rate");
  a.teacher.plateau_patience = c.get_int("teacher.plateau_patience");
  a.teacher.plateau_min_delta = c.get_float("teacher.plateau_min_delta");
  if (a.teacher_update != "auto") a.teacher.update = parse_teacher_update(a.teacher_update);
  // Other methods ignore grpo.minibatches (one config serves every method of the demo).
  if (a.method == "grpo" && a.grpo_minibatches > 1 && a.teacher_update != "auto" && a.teacher_update != "frozen")
    throw Error("grpo.minibatches > 1 with teacher.update = " + a.teacher_update, "grpo.minibatches",
                "the teacher rule counts optimizer steps; use a frozen reference (teacher.update = auto or frozen)");
  return a;
}

}  // namespace sdz::algo
