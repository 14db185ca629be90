// ModelConfig from the real Qwen3-4B-Instruct-2507 and Olmo-3-7B-Instruct config.json contents, from
// [model] keys, and the errors for what we do not support.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "sdzero/core/config.hpp"
#include "sdzero/core/error.hpp"
#include "sdzero/core/files.hpp"
#include "sdzero/model/config.hpp"
#include "sdzero/model/keys.hpp"

using namespace sdz::model;

namespace {

std::string fixture(const std::string& name) {
  return sdz::read_file(std::string(SDZ_SOURCE_DIR) + "/tests/model/fixtures/" + name);
}

std::string error_of(const std::string& json) {
  try {
    config_from_hf_json(json, "x/config.json");
  } catch (const sdz::Error& e) {
    return e.what();
  }
  return "";
}

TEST(ModelConfig, Qwen3_4B_Instruct_2507) {
  auto c = config_from_hf_json(fixture("qwen3-4b-instruct-2507.config.json"), "qwen3");
  EXPECT_EQ(c.family, Family::Qwen3);
  EXPECT_EQ(c.hidden_size, 2560);
  EXPECT_EQ(c.num_layers, 36);
  EXPECT_EQ(c.num_heads, 32);
  EXPECT_EQ(c.num_kv_heads, 8);
  EXPECT_EQ(c.head_dim, 128);  // explicit: 32 * 128 != 2560
  EXPECT_EQ(c.vocab_size, 151936);
  EXPECT_DOUBLE_EQ(c.rope_theta, 5e6);
  EXPECT_TRUE(c.tie_embeddings);
  EXPECT_EQ(c.rope_scaling.type, "default");
  for (int64_t i = 0; i < 36; ++i) EXPECT_EQ(c.layer_window(i), 0);
  EXPECT_EQ(c.eos_ids, std::vector<int32_t>{151645});
  // Published: 4.0B parameters, 3.6B non-embedding (model card); 4,022,468,096 by the weight shapes.
  EXPECT_EQ(c.param_count(), 4022468096LL);
  EXPECT_NEAR(double(c.param_count()) / 1e9, 4.0, 0.05);
  EXPECT_NEAR(double(c.param_count() - c.embedding_params()) / 1e9, 3.6, 0.05);
}

TEST(ModelConfig, Olmo3_7B_Instruct) {
  auto c = config_from_hf_json(fixture("olmo-3-7b-instruct.config.json"), "olmo3");
  EXPECT_EQ(c.family, Family::Olmo3);
  EXPECT_EQ(c.hidden_size, 4096);
  EXPECT_EQ(c.num_kv_heads, 32);
  EXPECT_EQ(c.head_dim, 128);
  EXPECT_FALSE(c.tie_embeddings);
  EXPECT_EQ(c.rope_scaling.type, "yarn");
  EXPECT_DOUBLE_EQ(c.rope_scaling.factor, 8.0);
  EXPECT_EQ(c.rope_scaling.original_max_position, 8192);
  EXPECT_EQ(c.layer_window(0), 4096);
  EXPECT_EQ(c.layer_window(3), 0);
  EXPECT_FALSE(c.layer_uses_scaled_rope(0));
  EXPECT_TRUE(c.layer_uses_scaled_rope(3));
  // Published: 7.3B; the Hub's safetensors count is 7,298,011,136.
  EXPECT_EQ(c.param_count(), 7298011136LL);
}

TEST(ModelConfig, Olmo3DefaultLayerTypes) {
  auto j = fixture("olmo-3-7b-instruct.config.json");
  auto s = j.find("\"layer_types\"");
  auto e = j.find(']', s);
  j.erase(s, e - s + 2);  // drop the key, its list and the comma
  auto c = config_from_hf_json(j, "olmo3");
  for (int64_t i = 0; i < 32; ++i) EXPECT_EQ(c.sliding_layers[size_t(i)], (i + 1) % 4 != 0) << i;
}

TEST(ModelConfig, HfJsonRoundTrip) {
  for (const char* f : {"qwen3-4b-instruct-2507.config.json", "olmo-3-7b-instruct.config.json"}) {
    auto a = config_from_hf_json(fixture(f), f);
    auto b = config_from_hf_json(a.to_hf_json(), "round trip");
    EXPECT_EQ(a.to_hf_json(), b.to_hf_json()) << f;
    EXPECT_EQ(a.param_count(), b.param_count());
  }
}

// transformers 5 reads Olmo-3's RoPE per layer type (rope_parameters) and, given only rope_theta,
// leaves the sliding layers at Olmo3Config's default base: the export says both (measured on an H100
// machine with transformers 5.17: logits differed by 0.1 without it, 2e-7 with it).
TEST(ModelConfig, RopeParametersPerLayerType) {
  auto c = config_from_hf_json(fixture("olmo-3-7b-instruct.config.json"), "olmo3");
  c.rope_theta = 12345;
  auto j = nlohmann::json::parse(c.to_hf_json());
  ASSERT_TRUE(j.contains("rope_parameters"));
  EXPECT_EQ(j["rope_parameters"]["sliding_attention"]["rope_theta"], 12345.0);
  EXPECT_EQ(j["rope_parameters"]["sliding_attention"]["rope_type"], "default");
  EXPECT_EQ(j["rope_parameters"]["full_attention"]["rope_theta"], 12345.0);
  EXPECT_EQ(j["rope_parameters"]["full_attention"]["rope_type"], c.rope_scaling.type);
  // A transformers-5 style config (rope_parameters, no rope_theta / rope_scaling) reads back the same.
  j.erase("rope_theta");
  j.erase("rope_scaling");
  auto b = config_from_hf_json(j.dump(), "v5");
  EXPECT_EQ(b.rope_theta, 12345);
  EXPECT_EQ(b.rope_scaling.type, c.rope_scaling.type);
  EXPECT_EQ(b.rope_scaling.factor, c.rope_scaling.factor);
  // Different bases per layer type: not representable here, a clear error.
  j["rope_parameters"]["sliding_attention"]["rope_theta"] = 500000.0;
  EXPECT_NE(error_of(j.dump()).find("different rope_theta"), std::string::npos);
  // Qwen3 keeps the plain fields (transformers 5 converts them itself; checked on the same machine).
  auto q = nlohmann::json::parse(config_from_hf_json(fixture("qwen3-4b-instruct-2507.config.json"), "q").to_hf_json());
  EXPECT_FALSE(q.contains("rope_parameters"));
}

TEST(ModelConfig, Errors) {
  const std::string base = R"({"architectures":["Qwen3ForCausalLM"],"vocab_size":10,"hidden_size":8,
    "intermediate_size":16,"num_hidden_layers":1,"num_attention_heads":2,"max_position_embeddings":32)";
  EXPECT_EQ(error_of(base + "}"), "");
  EXPECT_NE(error_of(R"({"architectures":["LlamaForCausalLM"]})").find("unsupported architecture \"LlamaForCausalLM\""),
            std::string::npos);
  EXPECT_NE(error_of(base + R"(,"hidden_act":"gelu"})").find("hidden_act"), std::string::npos);
  EXPECT_NE(error_of(base + R"(,"rope_scaling":{"rope_type":"linear","factor":2.0}})").find("linear"), std::string::npos);
  EXPECT_NE(error_of(base + R"(,"num_experts":8})").find("num_experts"), std::string::npos);
  EXPECT_NE(error_of(base + R"(,"num_key_value_heads":3})").find("num_key_value_heads"), std::string::npos);
  EXPECT_NE(error_of(base + R"(,"layer_types":["full_attention","full_attention"]})").find("layer_types"),
            std::string::npos);
  EXPECT_NE(error_of(base + R"(,"hidden_size":"8"})").find("expected an integer"), std::string::npos);
  EXPECT_NE(error_of(R"({"architectures":["Qwen3ForCausalLM"],"vocab_size":10})").find("hidden_size"),
            std::string::npos);
  EXPECT_NE(error_of("{not json").find("not valid JSON"), std::string::npos);
  EXPECT_NE(error_of(R"({"architectures":["X"]})").find("x/config.json"), std::string::npos);
}

TEST(ModelConfig, TinyDemoFromKeys) {
  sdz::Schema s;
  sdz::declare_model_keys(s);
  // The demo model of TOY-STUDY.md: char-level, d=128, 3 layers, 4 heads, RoPE, about 0.6M parameters.
  auto cfg = sdz::Config::load(s, "", {});
  auto c = config_from_keys(cfg, 24);
  EXPECT_EQ(c.family, Family::Qwen3);
  EXPECT_EQ(c.hidden_size, 128);
  EXPECT_EQ(c.num_layers, 3);
  EXPECT_EQ(c.num_heads, 4);
  EXPECT_EQ(c.head_dim, 32);
  EXPECT_NEAR(double(c.param_count()) / 1e6, 0.6, 0.1);
  auto bad = sdz::Config::load(s, "", {"--model.num_heads=5"});
  EXPECT_THROW(config_from_keys(bad, 24), sdz::Error);
}

}  // namespace
