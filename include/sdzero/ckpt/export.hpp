// defines: export_hf(), a checkpoint's policy (or teacher) as a Hugging Face model directory:
// config.json and model.safetensors (or shards + index) from the model layer's writers,
// generation_config.json, and the tokenizer files. The project's loader (model::load_model_dir)
// and transformers' from_pretrained both read it.
#pragma once
#include <cstddef>
#include <string>

#include "sdzero/ckpt/state.hpp"

namespace sdz::ckpt {

struct ExportOptions {
  bool teacher = false;            // export /teacher/params instead of /model
  std::string dtype = "float32";   // float32 | bfloat16 | float16
  std::string tokenizer_dir;       // tokenizer files copied from here ("" = none)
  size_t max_shard_bytes = size_t(5) << 30;
};

// `out_dir` must not exist or be empty; it is written under a temporary name and renamed, so a
// failed export leaves nothing behind. Throws Error naming the first missing or mis-shaped tensor.
void export_hf(const TrainingState& s, const std::string& out_dir, const ExportOptions& opt = {});

}  // namespace sdz::ckpt
