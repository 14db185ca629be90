// defines: sdz::model::ModelConfig, the shape of a causal LM of the Qwen3 or Olmo-3 family, read from a
// Hugging Face config.json or from the [model] section of an INI file (tiny models). Torch-free.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace sdz {
class Config;
}

namespace sdz::model {

// Qwen3: pre-norm blocks, per-head QK-norm (RMSNorm over head_dim).
// Olmo3: Olmo-2 style post-norms, QK-norm over the full q/k projection, sliding-window layers.
enum class Family { Qwen3, Olmo3 };
const char* family_name(Family f);

struct RopeScaling {
  std::string type = "default";  // "default" | "yarn"
  double factor = 1.0;
  double attention_factor = 1.0;  // multiplies cos/sin (YaRN mscale)
  double beta_fast = 32.0, beta_slow = 1.0;
  int64_t original_max_position = 0;
};

struct ModelConfig {
  Family family = Family::Qwen3;
  int64_t vocab_size = 0;
  int64_t hidden_size = 0;
  int64_t intermediate_size = 0;
  int64_t num_layers = 0;
  int64_t num_heads = 0;
  int64_t num_kv_heads = 0;
  int64_t head_dim = 0;
  int64_t max_position = 0;
  double rope_theta = 10000.0;
  double rms_eps = 1e-6;
  bool tie_embeddings = false;
  bool attention_bias = false;
  RopeScaling rope_scaling;
  int64_t sliding_window = 0;        // tokens a sliding layer sees, self included (0: none)
  std::vector<bool> sliding_layers;  // per layer: true = sliding_attention
  std::vector<int32_t> eos_ids;
  int32_t bos_id = -1, pad_id = -1;
  std::string torch_dtype = "float32";

  // Olmo-3 applies RoPE scaling only on full-attention layers (see transformer.cpp).
  bool layer_uses_scaled_rope(int64_t layer) const;
  int64_t layer_window(int64_t layer) const;  // 0: full attention
  int64_t param_count() const;                // every weight, lm_head counted once when tied
  int64_t embedding_params() const;           // embed_tokens (+ lm_head when untied)
  // Throws sdz::Error(where=`where`) naming the first inconsistent field.
  void validate(const std::string& where) const;
  // A Hugging Face config.json that from_hf_json() reads back to the same config.
  std::string to_hf_json() const;
};

// Parses config.json text; `path` is used in error messages. Unsupported architectures, activation
// functions, RoPE types or features (MoE, quantization, partial rotary) are errors.
ModelConfig config_from_hf_json(const std::string& text, const std::string& path);
ModelConfig config_from_hf_dir(const std::string& dir);  // reads dir/config.json
// The [model] keys of a resolved configuration (tiny models trained from scratch).
ModelConfig config_from_keys(const Config& cfg, int64_t vocab_size);

}  // namespace sdz::model
