// HF export: checkpoint -> model directory, loaded back by the project's loader with identical logits.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "fixtures.hpp"
#include "sdzero/ckpt/checkpoint.hpp"
#include "sdzero/ckpt/export.hpp"
#include "sdzero/core/error.hpp"
#include "sdzero/core/files.hpp"
#include "sdzero/model/transformer.hpp"
#include "sdzero/model/weights.hpp"

using namespace sdz::ckpt;

namespace {

sdz::model::ModelConfig tiny_qwen3() {
  sdz::model::ModelConfig c;
  c.family = sdz::model::Family::Qwen3;
  c.vocab_size = 41;
  c.hidden_size = 32;
  c.intermediate_size = 48;
  c.num_layers = 2;
  c.num_heads = 4;
  c.num_kv_heads = 2;
  c.head_dim = 16;
  c.max_position = 64;
  c.tie_embeddings = false;
  c.sliding_layers.assign(2, false);
  c.eos_ids = {3, 4};
  c.bos_id = 1;
  c.pad_id = 0;
  return c;
}

TrainingState state_of(const sdz::model::Transformer& m) {
  TrainingState s;
  s.step = 12;
  s.phase = kPhaseDistill;
  s.model_config_json = m.config().to_hf_json();
  for (const auto& [name, p] : m.named_parameters()) s.model[name] = p.detach().clone();
  return s;
}

}  // namespace

TEST(Export, CheckpointToHfDirectoryGivesIdenticalLogits) {
  std::string dir = ckpt_test::temp_dir("export");
  sdz::model::Transformer m(tiny_qwen3());
  m.init_random(5);
  write_checkpoint_file(dir + "/c.h5", state_of(m));
  TrainingState loaded = load_checkpoint(dir + "/c.h5");

  sdz::make_dirs(dir + "/tok");
  sdz::write_file_atomic(dir + "/tok/tokenizer.json", "{\"model\":{}}\n");
  sdz::write_file_atomic(dir + "/tok/notes.txt", "not copied");
  ExportOptions opt;
  opt.tokenizer_dir = dir + "/tok";
  export_hf(loaded, dir + "/hf", opt);
  for (const char* f : {"config.json", "model.safetensors", "generation_config.json", "tokenizer.json"})
    EXPECT_TRUE(sdz::file_exists(dir + "/hf/" + f)) << f;
  EXPECT_FALSE(sdz::file_exists(dir + "/hf/notes.txt"));
  auto gen = nlohmann::json::parse(sdz::read_file(dir + "/hf/generation_config.json"));
  EXPECT_EQ(gen["eos_token_id"], nlohmann::json({3, 4}));
  EXPECT_EQ(gen["bos_token_id"], 1);

  auto back = sdz::model::load_model_dir(dir + "/hf");
  torch::Tensor ids = torch::tensor({{1, 7, 9, 30, 2, 40}}, torch::kLong);
  EXPECT_TRUE(torch::equal(m.logits(ids), back->logits(ids)));

  // bf16 export: the weights are the bf16 rounding of the policy's.
  opt.dtype = "bfloat16";
  export_hf(loaded, dir + "/hf16", opt);
  auto b16 = sdz::model::load_model_dir(dir + "/hf16");
  EXPECT_TRUE(torch::equal(b16->param("lm_head.weight").to(torch::kBFloat16),
                           m.param("lm_head.weight").to(torch::kBFloat16)));
  ckpt_test::remove_tree(dir);
}

TEST(Export, ClearErrorsAndNothingLeftBehind) {
  std::string dir = ckpt_test::temp_dir("export_err");
  sdz::model::Transformer m(tiny_qwen3());
  TrainingState s = state_of(m);
  TrainingState missing = s;
  missing.model.erase("lm_head.weight");
  EXPECT_THROW(export_hf(missing, dir + "/a"), sdz::Error);
  EXPECT_FALSE(sdz::file_exists(dir + "/a"));
  TrainingState wrong = s;
  wrong.model["lm_head.weight"] = torch::zeros({41, 31});
  EXPECT_THROW(export_hf(wrong, dir + "/b"), sdz::Error);
  TrainingState no_cfg = s;
  no_cfg.model_config_json.clear();
  EXPECT_THROW(export_hf(no_cfg, dir + "/c"), sdz::Error);
  ExportOptions teacher;
  teacher.teacher = true;  // the teacher has no weights of its own here
  EXPECT_THROW(export_hf(s, dir + "/d", teacher), sdz::Error);
  sdz::make_dirs(dir + "/full");
  sdz::write_file_atomic(dir + "/full/x", "x");
  EXPECT_THROW(export_hf(s, dir + "/full"), sdz::Error);
  for (const char* leftover : {"/a.tmp.", "/b.tmp."})
    EXPECT_FALSE(sdz::file_exists(dir + leftover + std::to_string(::getpid())));
  ckpt_test::remove_tree(dir);
}
