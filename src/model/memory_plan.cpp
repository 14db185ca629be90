// The memory plan (see memory_plan.hpp). Every term names the tensors it stands for; the byte counts
// follow what the code allocates and what libtorch's autograd saves (transformer.cpp block(),
// lm_head.cpp, algo/chunked.cpp, generate.cpp). docs/MEMORY.md lists the formulas.
#include "sdzero/model/memory_plan.hpp"

#include <algorithm>
#include <optional>

#include "sdzero/core/error.hpp"

namespace sdz::model {

int64_t RolePlan::total() const {
  int64_t t = 0;
  for (const auto& p : parts) t += p.bytes;
  return t;
}

int64_t RolePlan::part(const std::string& name) const {
  for (const auto& p : parts)
    if (p.name == name) return p.bytes;
  return 0;
}

const RolePlan* MemoryPlan::find(const std::string& role) const {
  for (const auto& r : roles)
    if (r.role == role) return &r;
  return nullptr;
}

const RolePlan& MemoryPlan::deciding() const {
  if (const RolePlan* c = find("colocated")) return *c;
  const RolePlan* best = &roles.front();
  for (const auto& r : roles)
    if (r.total() > best->total()) best = &r;
  return *best;
}

std::vector<ParamShape> param_shapes(const ModelConfig& cfg) {
  const int64_t d = cfg.hidden_size, q = cfg.num_heads * cfg.head_dim, kv = cfg.num_kv_heads * cfg.head_dim;
  const int64_t I = cfg.intermediate_size;
  const bool qwen = cfg.family == Family::Qwen3;
  std::vector<ParamShape> out;
  out.push_back({"model.embed_tokens.weight", cfg.vocab_size * d});
  for (int64_t i = 0; i < cfg.num_layers; ++i) {
    const std::string p = "model.layers." + std::to_string(i) + ".";
    out.push_back({p + "self_attn.q_proj.weight", q * d});
    if (cfg.attention_bias) out.push_back({p + "self_attn.q_proj.bias", q});
    out.push_back({p + "self_attn.k_proj.weight", kv * d});
    if (cfg.attention_bias) out.push_back({p + "self_attn.k_proj.bias", kv});
    out.push_back({p + "self_attn.v_proj.weight", kv * d});
    if (cfg.attention_bias) out.push_back({p + "self_attn.v_proj.bias", kv});
    out.push_back({p + "self_attn.o_proj.weight", d * q});
    if (cfg.attention_bias) out.push_back({p + "self_attn.o_proj.bias", d});
    out.push_back({p + "self_attn.q_norm.weight", qwen ? cfg.head_dim : q});
    out.push_back({p + "self_attn.k_norm.weight", qwen ? cfg.head_dim : kv});
    out.push_back({p + "mlp.gate_proj.weight", I * d});
    out.push_back({p + "mlp.up_proj.weight", I * d});
    out.push_back({p + "mlp.down_proj.weight", d * I});
    out.push_back({p + (qwen ? "input_layernorm.weight" : "post_attention_layernorm.weight"), d});
    out.push_back({p + (qwen ? "post_attention_layernorm.weight" : "post_feedforward_layernorm.weight"), d});
  }
  out.push_back({"model.norm.weight", d});
  if (!cfg.tie_embeddings) out.push_back({"lm_head.weight", cfg.vocab_size * d});
  return out;
}

int64_t block_param_count(const ModelConfig& cfg) {
  int64_t n = 0;
  for (const auto& p : param_shapes(cfg))
    if (p.name.rfind("model.layers.", 0) == 0) n += p.numel;
  return n;
}

int64_t zero1_max_owned(const ModelConfig& cfg, int learners) {
  const auto shapes = param_shapes(cfg);
  if (learners <= 1) {
    int64_t n = 0;
    for (const auto& p : shapes) n += p.numel;
    return n;
  }
  double total = 0;
  for (const auto& p : shapes) total += double(p.numel);
  std::vector<int64_t> owned(size_t(learners), 0);
  double before = 0;
  int last = 0;
  for (const auto& p : shapes) {
    // The same midpoint rule as dist::partition_owners (a tensor goes to the rank whose equal slice
    // of the total holds its midpoint; owners never decrease).
    const double mid = before + double(p.numel) / 2;
    int o = total > 0 ? int(mid * learners / total) : 0;
    o = std::min(std::max(o, last), learners - 1);
    owned[size_t(o)] += p.numel;
    last = o;
    before += double(p.numel);
  }
  return *std::max_element(owned.begin(), owned.end());
}

// Per token of one block, what autograd saves in training (transformer.cpp block(); both families
// come to the same sum). e = compute dtype bytes; RMSNorm statistics are fp32.
//   each RMSNorm over n: its fp32 input (4n: x.to(f32), the input itself under fp32) and the
//     normalised value before the weight (e n): norms over d (2x), q and kv
//   d:  the input of q/k/v (e d) and of gate/up (e d)
//   q:  the q-norm output RoPE multiplies (e q), rotate_half's cat (e q), the rotated query the score
//       matmul keeps (e q), the attention output o_proj keeps (e q)
//   kv: the same for keys (k-norm out, cat, rotated), plus v (kept by probs @ v)
//   I:  gate out (silu input), silu out, up out, their product (down's input): 4 e I
int64_t block_saved_bytes_per_token(const ModelConfig& cfg, int64_t e) {
  const int64_t d = cfg.hidden_size, q = cfg.num_heads * cfg.head_dim, kv = cfg.num_kv_heads * cfg.head_dim;
  return 2 * (4 * d + e * d) + 2 * e * d + (4 * q + e * q) + 4 * e * q + (4 * kv + e * kv) + 4 * e * kv +
         4 * e * cfg.intermediate_size;
}

// softmax's fp32 output is saved; under bf16 also the bf16 probabilities the value matmul keeps.
int64_t attention_saved_bytes_per_score(int64_t e) { return e == 2 ? 6 : 4; }

namespace {

struct Shape {
  int64_t L, d, q, kv, H, I, V, P, Pb, masks, e;
  int64_t Lx;  // layers that materialise [T, S] attention scores (the rest run the fused kernel)
  bool gpu;
};

Shape shape_of(const ModelConfig& c, const RunSizes& rs) {
  Shape s;
  s.L = c.num_layers;
  s.d = c.hidden_size;
  s.q = c.num_heads * c.head_dim;
  s.kv = c.num_kv_heads * c.head_dim;
  s.H = c.num_heads;
  s.I = c.intermediate_size;
  s.V = c.vocab_size;
  s.P = c.param_count();
  s.Pb = block_param_count(c);
  s.masks = c.sliding_window > 0 ? 2 : 1;  // full (and sliding) additive masks [T, S] fp32, built by run()
  s.e = rs.dtype_bytes;
  s.gpu = rs.gpu;
  s.Lx = 0;
  for (int64_t i = 0; i < s.L; ++i)
    if (!(rs.gpu && s.e == 2 && (c.layer_window(i) == 0 || rs.fused_sliding))) ++s.Lx;
  return s;
}

// Peak of one block's forward without gradient (teacher, prefill, checkpointed forward) for B rows
// of T queries over S keys: the explicit attention statement holds the fp32 scores, the softmax output
// and the compute-dtype probabilities at once (bf16 10 bytes per score, fp32 8); the MLP holds gate,
// up and their product. Plus the residual stream in and out. `explicit_scores`: false when every
// layer runs the fused kernel.
int64_t nograd_block_peak(const Shape& s, int64_t B, int64_t T, int64_t S, bool explicit_scores) {
  const int64_t per_score = explicit_scores ? (s.e == 2 ? 10 : 8) : 0;
  const int64_t attn = B * (per_score * s.H * T * S + T * s.e * 2 * (s.q + 2 * s.kv));
  const int64_t mlp = B * T * s.e * 3 * s.I;
  return std::max(attn, mlp) + 2 * B * T * s.e * s.d;
}

// Head rows held at once: chunked when the scored span is longer than a chunk (algo/chunked.cpp),
// else all scored rows in one logits tensor.
int64_t head_rows(int64_t n, int64_t chunk) { return (chunk > 0 && n > chunk) ? chunk : n; }

RolePlan learner_plan(const ModelConfig& cfg, const RunSizes& rs, const Shape& s) {
  RolePlan r;
  r.role = "learner";
  const int64_t T = rs.student_tokens, n = rs.scored_tokens, live = std::max<int64_t>(rs.live_sequences, 1);
  const bool ck = rs.activation_checkpointing, bf16 = s.e == 2, scores = s.Lx > 0;
  r.parts.push_back({"weights", 4 * s.P, "fp32 master parameters: 4 B x params"});
  if (bf16) {
    // Training forwards cast each block weight afresh (a differentiable master.to(bf16)) and every
    // graph keeps its casts; checkpointed forwards run without grad and use the cached copy.
    if (ck) r.parts.push_back({"compute copy", 2 * s.Pb + 2 * s.Pb / std::max<int64_t>(s.L, 1),
                               "cached bf16 block weights + one block's casts while it is recomputed"});
    else r.parts.push_back({"compute copy", live * 2 * s.Pb, "bf16 casts of the block weights kept by each live graph"});
  }
  r.parts.push_back({"grads", 4 * s.P,
                     "fp32 .grad of every parameter, from the first sequence's backward (full on each learner, also under ZeRO-1)"});
  const int64_t owned = rs.zero1 ? zero1_max_owned(cfg, int(rs.learners)) : s.P;
  r.parts.push_back({"optimizer", 8 * owned,
                     rs.zero1 ? "AdamW moments (2 x fp32) of the tensors this learner owns (ZeRO-1)"
                              : "AdamW moments: 2 x fp32 x params"});
  // Saved activations of one sequence, and the working set of the moment they peak. Fused layers keep
  // the kernel's fp32 log-sum-exp per head and token instead of the probabilities, and its output
  // (o_proj keeps a reshaped copy of it).
  const int64_t bpt = block_saved_bytes_per_token(cfg, s.e);
  const int64_t attn_x = attention_saved_bytes_per_score(s.e) * s.H * T * T, attn_f = (4 * s.H + s.e * s.q) * T;
  const int64_t final_norm = 12 * T * s.d;  // fp32 input, normalised value, output (the head's input)
  const int64_t bwd_scores = scores ? (bf16 ? 10 : 12) * s.H * T * T : 0;  // grad of probs, fp32 grad, softmax grad
  const int64_t bwd_tokens = T * (4 * s.e * s.I + 4 * s.e * s.d);
  int64_t per_seq, work;
  if (ck) {
    per_seq = s.L * T * s.e * s.d + 4 * T * T * s.masks + final_norm;
    const int64_t block = T * bpt + (scores ? attn_x : attn_f);
    work = std::max(nograd_block_peak(s, 1, T, T, scores), block + bwd_scores + bwd_tokens);
  } else {
    per_seq = s.L * T * bpt + s.Lx * attn_x + (s.L - s.Lx) * attn_f + final_norm;
    const int64_t fwd = 4 * T * T * s.masks + (scores ? (bf16 ? 6 : 4) * s.H * T * T : 0);
    work = std::max(fwd, bwd_scores + bwd_tokens);
  }
  r.parts.push_back({"activations", live * per_seq + work,
                     std::to_string(live) + " live graph(s) x " + (ck ? "block inputs + masks" : "every block's saved tensors") +
                         " + one block's working set"});
  // Head: chunked spans keep a [V, d] fp32 weight-gradient buffer per graph (chunked_head_loss's
  // w.grad, saved by the product that carries it); unchunked spans keep their [n, V] fp32 logits
  // (saved by gather in topk_kl). Working set: a chunk's logits and their gradient.
  const int64_t rows = head_rows(n, rs.chunk_rows);
  const int64_t head_keep = (rows < n) ? 4 * s.V * s.d + 4 * n * s.d : 4 * n * s.V;
  r.parts.push_back({"logits", live * head_keep + 8 * rows * s.V,
                     rows < n ? "per graph a [vocab, hidden] fp32 weight-grad buffer + a chunk's [rows, vocab] logits and grad"
                              : "per graph its [scored, vocab] fp32 logits + their grad"});
  // Teacher signals arrive for the learner's whole share before its step and stay until it ends.
  if (rs.has_teacher)
    r.parts.push_back({"batch data", std::max<int64_t>(rs.learner_sequences, 1) * n * (rs.top_k * 12 + 4),
                       "teacher top-k ids (int64) + logits (fp32) per scored token of every sequence of the learner's share"});
  if (rs.learners > 1) r.parts.push_back({"comm buffers", 2 * rs.bucket_bytes, "two flat buckets of dist.bucket_mb"});
  return r;
}

RolePlan rollout_plan(const RunSizes& rs, const Shape& s, const ModelConfig& cfg) {
  RolePlan r;
  r.role = "rollout";
  const int64_t B = std::max<int64_t>(rs.slots, 1), P = rs.prompt_tokens;
  const int64_t cap = std::min<int64_t>(rs.prompt_tokens + rs.max_new_tokens, cfg.max_position);
  r.parts.push_back({"weights", 4 * s.P, "fp32 master parameters"});
  if (s.e == 2) r.parts.push_back({"compute copy", 2 * s.Pb, "cached bf16 block weights"});
  r.parts.push_back({"KV cache", s.L * 2 * B * s.kv * cap * s.e,
                     "layers x 2 x slots x kv_heads x (prompt + max_new) x head_dim x dtype"});
  // The first refill prefills every slot's prompt in one batch (generate.cpp); decode steps read the
  // cache through the explicit path (one query per slot).
  const int64_t prefill = nograd_block_peak(s, B, P, P, s.Lx > 0) + 4 * B * P * P * s.masks + 12 * B * P * s.d;
  const int64_t decode = B * ((s.e == 2 ? 10 : 8) * s.H * cap + 4 * cap * s.masks);
  r.parts.push_back({"activations", std::max(prefill, decode), "one batched prefill of all slots (largest block step)"});
  // Host sampler: logits, log-probs, probabilities (sorted fp64 + int64 ids when filtering); the
  // device sampler (GPU, unfiltered): logits, two log-softmaxes, exp, fp64 copy and its cumsum.
  const int64_t per = rs.sampling_filter ? 28 : (s.gpu ? 32 : 12);
  r.parts.push_back({"logits", B * s.V * per, "[slots, vocab] sampler buffers (" + std::to_string(per) + " B each)"});
  return r;
}

RolePlan teacher_plan(const RunSizes& rs, const Shape& s) {
  RolePlan r;
  r.role = "teacher";
  const int64_t T = rs.teacher_tokens, n = rs.teacher_scored;
  r.parts.push_back({"weights", 4 * s.P, "fp32 parameters of the teacher copy"});
  if (s.e == 2) r.parts.push_back({"compute copy", 2 * s.Pb, "cached bf16 block weights"});
  r.parts.push_back({"activations",
                     nograd_block_peak(s, 1, T, T, s.Lx > 0) + 4 * T * T * s.masks + T * (s.e * s.d + 12 * s.d),
                     "one sequence without grad: the largest block step + masks + fp32 final hidden"});
  const int64_t rows = head_rows(n, rs.chunk_rows);
  r.parts.push_back({"logits", 12 * rows * s.V, "a chunk's [rows, vocab] fp32 logits, / temperature, log-softmax"});
  r.parts.push_back({"batch data", std::max<int64_t>(rs.teacher_sequences, 1) * n * (rs.top_k * 12 + 4),
                     "top-k signals of the step's sequences until sent"});
  return r;
}

RolePlan colocated_plan(const RolePlan& ro, const RolePlan* te, const RolePlan& le, const Shape& s) {
  // One process: the policy serves rollout and learner; phases run one after another and the
  // generation engine (KV cache) is freed after each rollout call, so the working sets do not add up.
  RolePlan r;
  r.role = "colocated";
  r.parts.push_back({"weights", le.part("weights") + (te ? te->part("weights") : 0), "policy (+ teacher copy)"});
  const int64_t copies = ro.part("compute copy") + (te ? te->part("compute copy") : 0);
  if (copies > 0) r.parts.push_back({"compute copy", copies, "cached bf16 block weights of policy (+ teacher)"});
  r.parts.push_back({"grads", le.part("grads"), ""});
  r.parts.push_back({"optimizer", le.part("optimizer"), ""});
  const int64_t ro_work = ro.part("KV cache") + ro.part("activations") + ro.part("logits");
  const int64_t te_work = te ? te->part("activations") + te->part("logits") + te->part("batch data") : 0;
  // The learner's graph-held casts are working set here (the cached copy is already counted).
  const int64_t le_work = le.part("activations") + le.part("logits") + le.part("batch data") +
                          std::max<int64_t>(0, le.part("compute copy") - 2 * s.Pb);
  std::string which = "learner";
  int64_t work = le_work;
  if (ro_work > work) work = ro_work, which = "rollout";
  if (te_work > work) work = te_work, which = "teacher";
  r.parts.push_back({"working set", work, "the largest phase (" + which + "); phases do not overlap"});
  if (le.part("comm buffers") > 0) r.parts.push_back({"comm buffers", le.part("comm buffers"), ""});
  return r;
}

}  // namespace

MemoryPlan plan_memory(const ModelConfig& cfg, const RunSizes& rs) {
  SDZ_CHECK(rs.dtype_bytes == 2 || rs.dtype_bytes == 4, "memory plan: dtype bytes must be 2 (bf16) or 4 (fp32)");
  SDZ_CHECK(rs.student_tokens >= 1 && rs.scored_tokens >= 1 && rs.scored_tokens <= rs.student_tokens,
            "memory plan: need 1 <= scored tokens <= student tokens");
  const Shape s = shape_of(cfg, rs);
  MemoryPlan plan;
  plan.params = s.P;
  plan.block_params = s.Pb;
  RolePlan ro = rollout_plan(rs, s, cfg);
  RolePlan le = learner_plan(cfg, rs, s);
  std::optional<RolePlan> te;
  if (rs.has_teacher) te = teacher_plan(rs, s);
  const Part overhead{"CUDA context", rs.overhead_bytes, "fixed allowance: context, library workspaces, allocator slack"};
  RolePlan co;
  if (rs.colocated) co = colocated_plan(ro, te ? &*te : nullptr, le, s);
  for (RolePlan* p : {&ro, te ? &*te : nullptr, &le}) {
    if (!p) continue;
    if (rs.overhead_bytes > 0) p->parts.push_back(overhead);
    plan.roles.push_back(*p);
  }
  if (rs.colocated) {
    if (rs.overhead_bytes > 0) co.parts.push_back(overhead);
    plan.roles.push_back(co);
  }
  return plan;
}

// ---- named shapes: the published config.json values (huggingface.co/<repo>/blob/main/config.json) ----

namespace {
struct NamedShape {
  const char* name;
  const char* repo;
  const char* json;
};

const NamedShape kShapes[] = {
    {"qwen3-0.6b", "Qwen/Qwen3-0.6B",
     R"({"architectures":["Qwen3ForCausalLM"],"model_type":"qwen3","hidden_size":1024,"intermediate_size":3072,
"num_hidden_layers":28,"num_attention_heads":16,"num_key_value_heads":8,"head_dim":128,"vocab_size":151936,
"max_position_embeddings":40960,"rope_theta":1000000,"rms_norm_eps":1e-06,"tie_word_embeddings":true,
"attention_bias":false,"hidden_act":"silu","rope_scaling":null,"sliding_window":null,"use_sliding_window":false,
"bos_token_id":151643,"eos_token_id":151645,"torch_dtype":"bfloat16"})"},
    {"qwen3-4b", "Qwen/Qwen3-4B-Instruct-2507",
     R"({"architectures":["Qwen3ForCausalLM"],"model_type":"qwen3","hidden_size":2560,"intermediate_size":9728,
"num_hidden_layers":36,"num_attention_heads":32,"num_key_value_heads":8,"head_dim":128,"vocab_size":151936,
"max_position_embeddings":262144,"rope_theta":5000000,"rms_norm_eps":1e-06,"tie_word_embeddings":true,
"attention_bias":false,"hidden_act":"silu","rope_scaling":null,"sliding_window":null,"use_sliding_window":false,
"bos_token_id":151643,"eos_token_id":151645,"torch_dtype":"bfloat16"})"},
    {"olmo3-7b", "allenai/Olmo-3-7B-Instruct",
     R"({"architectures":["Olmo3ForCausalLM"],"model_type":"olmo3","hidden_size":4096,"intermediate_size":11008,
"num_hidden_layers":32,"num_attention_heads":32,"num_key_value_heads":32,"vocab_size":100278,
"max_position_embeddings":65536,"rope_theta":500000,"rms_norm_eps":1e-06,"tie_word_embeddings":false,
"attention_bias":false,"hidden_act":"silu","sliding_window":4096,
"layer_types":["sliding_attention","sliding_attention","sliding_attention","full_attention",
"sliding_attention","sliding_attention","sliding_attention","full_attention",
"sliding_attention","sliding_attention","sliding_attention","full_attention",
"sliding_attention","sliding_attention","sliding_attention","full_attention",
"sliding_attention","sliding_attention","sliding_attention","full_attention",
"sliding_attention","sliding_attention","sliding_attention","full_attention",
"sliding_attention","sliding_attention","sliding_attention","full_attention",
"sliding_attention","sliding_attention","sliding_attention","full_attention"],
"rope_scaling":{"rope_type":"yarn","factor":8.0,"original_max_position_embeddings":8192,
"attention_factor":1.2079441541679836,"beta_fast":32.0,"beta_slow":1.0},
"eos_token_id":100257,"pad_token_id":100277,"torch_dtype":"bfloat16"})"},
};
}  // namespace

std::vector<std::string> shape_names() {
  std::vector<std::string> out;
  for (const auto& s : kShapes) out.push_back(s.name);
  return out;
}

std::string shape_config_json(const std::string& name) {
  for (const auto& s : kShapes)
    if (name == s.name) return s.json;
  std::string names;
  for (const auto& s : kShapes) names += std::string(names.empty() ? "" : ", ") + s.name;
  throw Error("unknown model shape '" + name + "'", "--shape", "use one of: " + names);
}

ModelConfig shape_config(const std::string& name) {
  for (const auto& s : kShapes)
    if (name == s.name) return config_from_hf_json(s.json, std::string("built-in shape ") + s.name + " (" + s.repo + ")");
  shape_config_json(name);  // throws the listing error
  return {};
}

}  // namespace sdz::model
