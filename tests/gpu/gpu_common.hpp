// defines: what the GPU test files share: the visible GPU, a relative difference, and the small
// random-weight model shape they compare against the CPU.
#pragma once
#include <gtest/gtest.h>

#include <algorithm>

#include <torch/torch.h>

#include "sdzero/dist/device.hpp"
#include "sdzero/model/config.hpp"

namespace sdz::gputest {

inline torch::Device gpu() {
  EXPECT_GT(cuda_device_count(), 0) << "no GPU visible";
  return pick_device("cuda", 0, 1);
}

// |a - b| / |b| over all elements, in fp64 on the host.
inline double rel(const torch::Tensor& a, const torch::Tensor& b) {
  auto x = a.cpu().to(torch::kFloat64), y = b.cpu().to(torch::kFloat64);
  return ((x - y).norm() / y.norm()).item<double>();
}

// A 256-wide model of `layers` layers, 8 query and 4 key/value heads of 32. With `sliding`, Olmo-3's
// first three layers use a window of 16: they take the hand-written attention next to the fused one.
inline model::ModelConfig small_config(model::Family fam, int64_t layers, bool sliding) {
  model::ModelConfig c;
  c.family = fam;
  c.vocab_size = 512;
  c.hidden_size = 256;
  c.intermediate_size = 512;
  c.num_layers = layers;
  c.num_heads = 8;
  c.num_kv_heads = 4;
  c.head_dim = 32;
  c.rope_theta = 10000;
  c.rms_eps = 1e-6;
  c.max_position = 512;
  c.tie_embeddings = fam == model::Family::Qwen3;
  c.sliding_layers.assign(size_t(c.num_layers), false);
  if (sliding && fam == model::Family::Olmo3) {
    c.sliding_window = 16;
    for (int64_t i = 0; i < std::min<int64_t>(3, layers); ++i) c.sliding_layers[size_t(i)] = true;
  }
  return c;
}

}  // namespace sdz::gputest
