// The pipeline tests' random tiny model: two layers of width 32, grouped-query attention (4 heads,
// 2 KV heads), no sliding layers. Small enough that a forward is microseconds, wide enough that
// every code path of a real Qwen3 layer runs.
#pragma once

#include <cstdint>

#include "sdzero/model/config.hpp"  // defines: ModelConfig

namespace sdz::test {

inline model::ModelConfig tiny_model_config(int64_t vocab_size, int64_t max_position = 64) {
  model::ModelConfig mc;
  mc.vocab_size = vocab_size;
  mc.hidden_size = 32;
  mc.intermediate_size = 64;
  mc.num_layers = 2;
  mc.num_heads = 4;
  mc.num_kv_heads = 2;
  mc.head_dim = 8;
  mc.max_position = max_position;
  mc.sliding_layers.assign(2, false);
  return mc;
}

}  // namespace sdz::test
