// The memory plan: parameter shapes against the real Transformer, hand-computed bytes for a tiny shape,
// the published parameter counts of the paper's models, the named shapes against the config.json
// fixtures, ZeRO-1 ownership, and fit decisions.
#include <gtest/gtest.h>

#include "sdzero/core/error.hpp"
#include "sdzero/core/files.hpp"
#include "sdzero/model/memory_plan.hpp"
#include "sdzero/model/transformer.hpp"

using namespace sdz::model;

namespace {

ModelConfig tiny(Family f) {
  ModelConfig c;
  c.family = f;
  c.vocab_size = 10;
  c.hidden_size = 4;
  c.intermediate_size = 6;
  c.num_layers = 1;
  c.num_heads = 2;
  c.num_kv_heads = 1;
  c.head_dim = 2;
  c.max_position = 64;
  c.tie_embeddings = true;
  c.sliding_layers.assign(1, false);
  return c;
}

RunSizes tiny_sizes() {
  RunSizes rs;
  rs.dtype_bytes = 4;
  rs.student_tokens = 8;
  rs.scored_tokens = 4;
  rs.chunk_rows = 1024;
  rs.top_k = 3;
  rs.slots = 2;
  rs.prompt_tokens = 3;
  rs.max_new_tokens = 5;
  rs.has_teacher = true;
  rs.teacher_tokens = 12;
  rs.teacher_scored = 4;
  rs.teacher_sequences = 1;
  rs.colocated = false;
  rs.overhead_bytes = 0;
  rs.gpu = false;
  return rs;
}

std::string fixture(const std::string& name) {
  return sdz::read_file(std::string(SDZ_SOURCE_DIR) + "/tests/model/fixtures/" + name);
}

}  // namespace

TEST(MemoryPlan, ParamShapesMatchTheTransformer) {
  for (Family f : {Family::Qwen3, Family::Olmo3}) {
    for (bool tie : {true, false}) {
      ModelConfig c = tiny(f);
      c.tie_embeddings = tie;
      c.num_layers = 2;
      c.sliding_layers.assign(2, false);
      Transformer m(c);
      auto shapes = param_shapes(c);
      ASSERT_EQ(shapes.size(), m.named_parameters().size());
      int64_t total = 0;
      for (size_t i = 0; i < shapes.size(); ++i) {
        EXPECT_EQ(shapes[i].name, m.named_parameters()[i].first);
        EXPECT_EQ(shapes[i].numel, m.named_parameters()[i].second.numel()) << shapes[i].name;
        total += shapes[i].numel;
      }
      EXPECT_EQ(total, c.param_count());
    }
  }
}

TEST(MemoryPlan, TinyShapeByHand) {
  const ModelConfig c = tiny(Family::Qwen3);
  // embed 10x4 = 40; q 4x4, k 2x4, v 2x4, o 4x4 = 48; q/k norms 2+2; gate/up/down 3x6x4 = 72;
  // two norms 8; final norm 4. Tied: no lm_head.
  EXPECT_EQ(c.param_count(), 176);
  EXPECT_EQ(block_param_count(c), 132);
  // Saved per token of the block, fp32 (e = 4), d = 4, q = 4, kv = 2, I = 6:
  //   input norm: fp32 input 16 + normalised 16; post-attention norm the same      64
  //   q/k/v input 16, gate/up input 16                                              32
  //   q-norm: input 16 + normalised 16; q-norm out, cat, rotated q, attn out 4x16   96
  //   k-norm: 8 + 8; k-norm out, cat, rotated k, v 4x8                              48
  //   MLP: gate out, silu out, up out, product 4 x 24                               96
  EXPECT_EQ(block_saved_bytes_per_token(c, 4), 336);
  EXPECT_EQ(attention_saved_bytes_per_score(4), 4);
  EXPECT_EQ(attention_saved_bytes_per_score(2), 6);

  const MemoryPlan p = plan_memory(c, tiny_sizes());
  const RolePlan* le = p.find("learner");
  ASSERT_NE(le, nullptr);
  EXPECT_EQ(le->part("weights"), 704);
  EXPECT_EQ(le->part("compute copy"), 0);  // fp32: the masters are the compute weights
  EXPECT_EQ(le->part("grads"), 704);
  EXPECT_EQ(le->part("optimizer"), 1408);
  // One graph: block 8 tokens x 336 + probs 4 B x 2 heads x 8 x 8 = 3200; final norm 12 x 8 x 4 = 384.
  // Working set: backward scores 12 x 2 x 64 = 1536 + tokens 8 x (16x6 + 16x4) = 1280 -> 2816
  // (forward: mask 256 + scores 512 = 768 is smaller).
  EXPECT_EQ(le->part("activations"), 3200 + 384 + 2816);
  // 4 scored rows <= chunk: the [4, 10] fp32 logits kept (160) + logits and grad (320).
  EXPECT_EQ(le->part("logits"), 480);
  EXPECT_EQ(le->part("batch data"), 4 * (3 * 12 + 4));
  EXPECT_EQ(le->part("comm buffers"), 0);

  const RolePlan* ro = p.find("rollout");
  ASSERT_NE(ro, nullptr);
  // 1 layer x 2 (k, v) x 2 slots x 2 (kv heads x head_dim) x capacity 8 x 4 B.
  EXPECT_EQ(ro->part("KV cache"), 1 * 2 * 2 * 2 * 8 * 4);
  EXPECT_EQ(ro->part("logits"), 2 * 10 * 12);
  const RolePlan* te = p.find("teacher");
  ASSERT_NE(te, nullptr);
  EXPECT_EQ(te->part("weights"), 704);
  EXPECT_EQ(te->part("logits"), 12 * 4 * 10);
  EXPECT_EQ(p.find("colocated"), nullptr);
}

TEST(MemoryPlan, Bf16AndCheckpointing) {
  const ModelConfig c = tiny(Family::Qwen3);
  RunSizes rs = tiny_sizes();
  rs.dtype_bytes = 2;
  rs.live_sequences = 3;
  MemoryPlan p = plan_memory(c, rs);
  // Without checkpointing each live graph keeps its own bf16 casts of the block weights.
  EXPECT_EQ(p.find("learner")->part("compute copy"), 3 * 2 * 132);
  EXPECT_EQ(p.find("rollout")->part("compute copy"), 2 * 132);
  rs.activation_checkpointing = true;
  MemoryPlan q = plan_memory(c, rs);
  EXPECT_EQ(q.find("learner")->part("compute copy"), 2 * 132 + 2 * 132);  // cached + one block (1 layer)
  EXPECT_LT(q.find("learner")->part("activations"), p.find("learner")->part("activations"));
}

TEST(MemoryPlan, OneLiveGraphButTheWholeShareOfSignals) {
  // algo::train_step back-propagates sequence by sequence: graphs (activations, the head's kept
  // buffers, bf16 casts) scale with the live graphs, the teacher signals with the learner's share.
  const ModelConfig c = tiny(Family::Qwen3);
  RunSizes rs = tiny_sizes();
  EXPECT_EQ(rs.live_sequences, 1);  // the default
  rs.learner_sequences = 5;
  const RolePlan one = *plan_memory(c, rs).find("learner");
  EXPECT_EQ(one.part("batch data"), 5 * 4 * (3 * 12 + 4));
  rs.live_sequences = 3;
  const RolePlan three = *plan_memory(c, rs).find("learner");
  EXPECT_EQ(three.part("batch data"), one.part("batch data"));
  EXPECT_EQ(three.part("activations") - one.part("activations"), 2 * (3200 + 384));  // per graph, see above
  EXPECT_EQ(three.part("logits") - one.part("logits"), 2 * 160);                  // [4, 10] fp32 kept per graph
  EXPECT_EQ(three.part("grads"), one.part("grads"));
  // No teacher (sft, grpo without a reference): no signals held.
  rs.has_teacher = false;
  EXPECT_EQ(plan_memory(c, rs).find("learner")->part("batch data"), 0);
}

TEST(MemoryPlan, FusedAttentionDropsTheScores) {
  // GPU + bf16: full-attention layers keep no [T, T] probabilities; Olmo-3's sliding layers still do.
  RunSizes rs = tiny_sizes();
  rs.dtype_bytes = 2;
  rs.student_tokens = 4096, rs.scored_tokens = 2048;
  for (const char* name : {"qwen3-4b", "olmo3-7b"}) {
    const ModelConfig c = shape_config(name);
    rs.gpu = false;
    const int64_t cpu = plan_memory(c, rs).find("learner")->part("activations");
    rs.gpu = true;
    const int64_t gpu = plan_memory(c, rs).find("learner")->part("activations");
    EXPECT_LT(gpu, cpu) << name;
    // A fused layer keeps 4 B of log-sum-exp per head and token and its bf16 output instead of 6 B
    // per score.
    const int64_t q = c.num_heads * c.head_dim;
    const int64_t saved = 6 * c.num_heads * 4096LL * 4096LL - (4 * c.num_heads + 2 * q) * 4096LL;
    if (c.family == Family::Qwen3) EXPECT_GE(cpu - gpu, 36 * saved) << name;  // every layer (and the working set)
    else EXPECT_EQ(cpu - gpu, 8 * saved) << name;                              // the 8 full layers only
  }
}

TEST(MemoryPlan, PaperModelsParameterCounts) {
  const ModelConfig q = shape_config("qwen3-4b");
  EXPECT_EQ(q.param_count(), 4022468096);  // published: 4.02B (tied embeddings counted once)
  const ModelConfig o = shape_config("olmo3-7b");
  EXPECT_EQ(o.param_count(), 7298011136);  // 7.3B, untied lm_head
  EXPECT_EQ(shape_config("qwen3-0.6b").param_count(), 596049920);  // published: 0.6B
  // The named shapes are the fixtures' config.json values.
  for (auto [name, file] : {std::pair<const char*, const char*>{"qwen3-4b", "qwen3-4b-instruct-2507.config.json"},
                            {"olmo3-7b", "olmo-3-7b-instruct.config.json"}}) {
    const ModelConfig a = shape_config(name), b = config_from_hf_json(fixture(file), file);
    EXPECT_EQ(a.to_hf_json(), b.to_hf_json()) << name;
  }
  EXPECT_THROW(shape_config("llama-70b"), sdz::Error);
}

TEST(MemoryPlan, Zero1OwnsWholeTensors) {
  const ModelConfig o = shape_config("olmo3-7b");
  const int64_t P = o.param_count(), biggest = o.vocab_size * o.hidden_size;
  EXPECT_EQ(zero1_max_owned(o, 1), P);
  for (int n : {2, 4, 8}) {
    const int64_t m = zero1_max_owned(o, n);
    EXPECT_GE(m, P / n);
    EXPECT_LE(m, P / n + biggest);
  }
  RunSizes rs = tiny_sizes();
  rs.student_tokens = 64, rs.scored_tokens = 32;
  rs.zero1 = true, rs.learners = 4;
  EXPECT_EQ(plan_memory(o, rs).find("learner")->part("optimizer"), 8 * zero1_max_owned(o, 4));
  EXPECT_GT(plan_memory(o, rs).find("learner")->part("comm buffers"), 0);
}

TEST(MemoryPlan, FitDecisions) {
  const ModelConfig q = shape_config("qwen3-4b");
  RunSizes rs;
  rs.dtype_bytes = 2;
  rs.activation_checkpointing = true;
  rs.live_sequences = 1;
  rs.student_tokens = 2048, rs.scored_tokens = 1536;
  rs.slots = 64, rs.prompt_tokens = 512, rs.max_new_tokens = 1536;
  rs.colocated = false;
  const int64_t gib80 = int64_t(80 * kGiB);
  // fp32 masters + bf16 copy + grads + AdamW = 18 B/param ~ 67 GiB: one short sequence fits on 80 GB.
  EXPECT_LE(plan_memory(q, rs).find("learner")->total(), gib80);
  // 64 graphs of 8K tokens without checkpointing (a single backward over the batch) do not.
  RunSizes big = rs;
  big.activation_checkpointing = false;
  big.live_sequences = 64;
  big.student_tokens = 8192, big.scored_tokens = 7680;
  EXPECT_GT(plan_memory(q, big).find("learner")->total(), gib80);
  // Colocated: the device holds policy, teacher copy, grads and moments at once.
  RunSizes co = rs;
  co.colocated = true;
  co.has_teacher = true;
  co.teacher_tokens = 4096, co.teacher_scored = 1536, co.teacher_sequences = 1;
  MemoryPlan cp = plan_memory(q, co);
  ASSERT_NE(cp.find("colocated"), nullptr);
  EXPECT_EQ(&cp.deciding(), cp.find("colocated"));
  EXPECT_GT(cp.find("colocated")->total(), cp.find("learner")->total());
  EXPECT_GT(cp.find("colocated")->total(), gib80);
}
