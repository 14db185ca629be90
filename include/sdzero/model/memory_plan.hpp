// defines: the memory plan — bytes each role (rollout, teacher, learner) holds on its device for a
// model shape and a run's sizes, part by part, from the tensors this code base allocates (see
// docs/MEMORY.md for every formula and where in the code it comes from). Torch-free arithmetic, so
// `sdzero plan --memory` answers for 4B-7B models on a laptop without weights.
// Also the Hugging Face shapes of the paper's models (named shapes) for plans without a model dir.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "sdzero/model/config.hpp"

namespace sdz::model {

// What a run config says about sizes (resolved by the caller from the config keys).
struct RunSizes {
  int64_t dtype_bytes = 4;                // model.dtype: 4 fp32, 2 bf16 (block compute copies)
  bool activation_checkpointing = false;  // keep only each block's input; recompute in backward
  // The CUDA build's paths (transformer.cpp, generate.cpp): with bf16 on torch >= 2.5, full-attention
  // layers run the fused kernel (no [T, S] scores; sliding layers and fp32 still materialise them), and
  // unfiltered sampling runs on the device. false: the CPU paths.
  bool gpu = true;
  // A what-if for the hints only: plan sliding-window layers as if they also ran a fused kernel.
  // The model does not do that yet (transformer.cpp materialises their scores), so plans of real
  // runs leave this false.
  bool fused_sliding = false;
  // Learner.
  int64_t learners = 1;
  bool zero1 = false;
  // Sequences whose autograd graphs are alive at once: algo::train_step back-propagates each
  // sequence as soon as its loss is computed (GradAccumulator, algo/chunked.hpp), so one.
  int64_t live_sequences = 1;
  // Sequences in the learner's share of the step: their teacher signals are all held during it.
  int64_t learner_sequences = 1;
  int64_t student_tokens = 0;  // T of one student sequence (prompt + response)
  int64_t scored_tokens = 0;   // rows of it with a loss (the response)
  int64_t chunk_rows = 1024;   // method.chunk_rows (0: no chunking)
  int64_t bucket_bytes = 64LL << 20;
  // Rollout (one rank).
  int64_t slots = 0;            // sequences decoded at once (and prefilled together at the start)
  int64_t prompt_tokens = 0;    // longest prompt
  int64_t max_new_tokens = 0;
  bool sampling_filter = false;  // top_p < 1 or top_k > 0: the sampler sorts [slots, vocab]
  // Teacher (one rank): scores one sequence at a time, keeps its batch's signals until sent.
  bool has_teacher = false;
  int64_t teacher_tokens = 0;
  int64_t teacher_scored = 0;
  int64_t teacher_sequences = 0;  // sequences one teacher rank scores per step
  int64_t top_k = 64;
  bool colocated = true;
  int64_t overhead_bytes = 2LL << 30;  // CUDA context, library workspaces, allocator slack
};

struct Part {
  std::string name;  // weights | compute copy | grads | optimizer | activations | KV cache | logits | ...
  int64_t bytes = 0;
  std::string note;  // the formula in words, for the report
};

struct RolePlan {
  std::string role;  // rollout | teacher | learner | colocated
  std::vector<Part> parts;
  int64_t total() const;
  int64_t part(const std::string& name) const;  // 0 when absent
};

struct MemoryPlan {
  std::vector<RolePlan> roles;  // split: rollout, [teacher,] learner; colocated adds "colocated" (one device)
  int64_t params = 0, block_params = 0;
  // The role whose total decides a device: the colocated column, else the largest role.
  const RolePlan& deciding() const;
  const RolePlan* find(const std::string& role) const;
};

// Parameter tensors (Hugging Face name, element count) in the order the Transformer creates them.
struct ParamShape {
  std::string name;
  int64_t numel = 0;
};
std::vector<ParamShape> param_shapes(const ModelConfig& cfg);
// Elements per block parameter set, i.e. what the bf16 compute copies cover (no embedding, final norm
// or lm_head: those stay fp32).
int64_t block_param_count(const ModelConfig& cfg);
// ZeRO-1: the most elements any learner owns (whole tensors, dist::partition_owners' midpoint rule).
int64_t zero1_max_owned(const ModelConfig& cfg, int learners);

// Bytes autograd keeps per token of one block (all but the attention probabilities), and per score
// element (heads x T x S) of the attention probabilities, for compute dtype bytes `e`.
int64_t block_saved_bytes_per_token(const ModelConfig& cfg, int64_t e);
int64_t attention_saved_bytes_per_score(int64_t e);

MemoryPlan plan_memory(const ModelConfig& cfg, const RunSizes& rs);

// Built-in shapes (published config.json values): "qwen3-0.6b", "qwen3-4b", "olmo3-7b".
std::vector<std::string> shape_names();
// The config.json text of a named shape; an sdz::Error listing the names otherwise.
std::string shape_config_json(const std::string& name);
ModelConfig shape_config(const std::string& name);

constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;

}  // namespace sdz::model
