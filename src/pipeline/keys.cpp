#include "sdzero/pipeline/keys.hpp"

#include "sdzero/core/config.hpp"

namespace sdz {

void declare_pipeline_keys(Schema& s) {
  s.add_int("train.steps", 16, "Optimizer steps of the run (the generation budget may end it earlier).", 0);
  s.add_int("train.questions_per_step", 32, "Questions sampled per step, over all rollout ranks.", 1);
  s.add_string("train.split", "train", "Questions trained on: q1 (the SRT set), q2 (the distillation set) or train (both).",
               {"q1", "q2", "train"});
  s.add_int("train.slots", 64, "Sequences decoded at once by each rollout rank (continuous batching).", 1, 65536);
  s.add_int("train.samples_per_step", 2, "Completions per step written to samples.jsonl (0: none).", 0);
  s.add_string("train.init", "", "A model directory (config.json + safetensors + tokenizer.json) to start from; "
               "empty: model.path, or a random tiny model from [model].");
  s.add_string("train.save", "", "Write the trained policy here as a model directory at the end (empty: run_dir/final).");
  s.add_string("train.srt_traces", "", "SRT traces JSONL (method srt): collected into run_dir/srt_traces.jsonl when empty.");
}

}  // namespace sdz
