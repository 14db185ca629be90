// The [model] keys. model.path selects a Hugging Face directory; without it the shape keys describe a
// tiny model trained from scratch (the demo: char-level, d=128, 3 layers, 4 heads, RoPE).
#include "sdzero/model/keys.hpp"

#include "sdzero/core/config.hpp"

namespace sdz {

void declare_model_keys(Schema& s) {
  s.add_string("model.path", "", "Hugging Face model directory (config.json + *.safetensors). Empty: a tiny model from the keys below.");
  s.add_string("model.dtype", "fp32",
               "Compute precision: fp32, or bf16 (bf16 copies of the fp32 master weights in the blocks; norms, "
               "softmax, lm_head and losses in fp32; optimizer and checkpoints keep fp32). See docs/MODEL.md.",
               {"fp32", "bf16"});
  s.add_bool("model.activation_checkpointing", false,
             "Recompute each block's activations in backward instead of keeping them (training memory for long "
             "sequences and big models; about one extra forward of compute). See docs/MEMORY.md.");
  s.add_string("model.cpu_matmul", "onednn",
               "Library of the fp32 CPU weight matmuls: onednn (packed weights in inference; builds without "
               "libdnnl use blas) or blas (torch/OpenBLAS). Numbers differ in the last bits. See docs/MODEL.md.",
               {"onednn", "blas"});
  s.add_int("model.packed_weights_mb", 4096,
            "Most MiB of oneDNN-packed weight copies a process keeps (inference on the CPU); weights beyond it "
            "are multiplied unpacked. 0: never pack.",
            0);
  s.add_bool("model.cpu_fused_kernels", true,
             "fp32 CPU runs: the block's RMSNorms (with RoPE for q and k), SwiGLU and the lm_head's "
             "cross-entropy as fused hand-written kernels (one pass forward, one or two backward) instead of "
             "torch's operator chains. Numbers differ in the last bits; false gives the runs before session 17. "
             "See docs/MODEL.md.");
  s.add_string("model.family", "qwen3", "Architecture family of a tiny model.", {"qwen3", "olmo3"});
  s.add_int("model.vocab_size", 0, "Vocabulary of a tiny model; 0 = the tokenizer's size.", 0);
  s.add_int("model.hidden_size", 128, "Width of a tiny model.", 1);
  s.add_int("model.intermediate_size", 384, "SwiGLU hidden width of a tiny model.", 1);
  s.add_int("model.num_layers", 3, "Transformer blocks of a tiny model.", 1, 1024);
  s.add_int("model.num_heads", 4, "Query heads of a tiny model.", 1);
  s.add_int("model.num_kv_heads", 0, "Key/value heads of a tiny model (grouped-query attention); 0 = num_heads.", 0);
  s.add_int("model.head_dim", 0, "Per-head width of a tiny model; 0 = hidden_size / num_heads.", 0);
  s.add_int("model.max_position", 1024, "Longest sequence a tiny model is used with.", 1);
  s.add_float("model.rope_theta", 10000.0, "RoPE base of a tiny model.", 2.0);
  s.add_float("model.rms_eps", 1e-6, "RMSNorm epsilon of a tiny model.", 0.0);
  s.add_bool("model.tie_embeddings", true, "Tiny model: lm_head shares the embedding matrix.");
  s.add_int("model.sliding_window", 0, "Tiny model: window of sliding layers (every layer but each 4th); 0 = none.", 0);
  s.add_float("model.init_std", 0.02, "Standard deviation of a tiny model's initial weights.", 0.0);
}

}  // namespace sdz
