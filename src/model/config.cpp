// ModelConfig from Hugging Face config.json and from [model] keys.
// Field names and defaults follow transformers' Qwen3Config (models/qwen3/configuration_qwen3.py) and
// Olmo3Config (models/olmo3/modular_olmo3.py: sliding_window 4096, layer_types defaulting to three
// sliding layers then one full layer); RoPE fields follow modeling_rope_utils.py (rope_scaling with
// rope_type "default" or "yarn").
#include "sdzero/model/config.hpp"

#include <cmath>
#include <nlohmann/json.hpp>
#include <set>

#include "sdzero/core/config.hpp"
#include "sdzero/core/error.hpp"
#include "sdzero/core/files.hpp"

namespace sdz::model {

using json = nlohmann::json;

const char* family_name(Family f) { return f == Family::Qwen3 ? "qwen3" : "olmo3"; }

bool ModelConfig::layer_uses_scaled_rope(int64_t layer) const {
  // Olmo-3: "RoPE scaling is not applied to sliding window attention layers" (modular_olmo3.py; the
  // transformers 4.57 Olmo3Model keeps one default and one scaled rotary embedding per layer type).
  if (family == Family::Olmo3) return !sliding_layers.at(size_t(layer));
  return true;
}

int64_t ModelConfig::layer_window(int64_t layer) const {
  return sliding_layers.at(size_t(layer)) ? sliding_window : 0;
}

int64_t ModelConfig::embedding_params() const {
  return vocab_size * hidden_size * (tie_embeddings ? 1 : 2);
}

int64_t ModelConfig::param_count() const {
  const int64_t q = num_heads * head_dim, kv = num_kv_heads * head_dim;
  int64_t attn = hidden_size * q + 2 * hidden_size * kv + q * hidden_size;
  if (attention_bias) attn += q + 2 * kv + hidden_size;
  const int64_t qk_norm = family == Family::Qwen3 ? 2 * head_dim : q + kv;
  const int64_t mlp = 3 * hidden_size * intermediate_size;
  const int64_t norms = 2 * hidden_size;  // two RMSNorms per block in both families
  return embedding_params() + num_layers * (attn + qk_norm + mlp + norms) + hidden_size;
}

void ModelConfig::validate(const std::string& where) const {
  auto need = [&](bool ok, const std::string& what) {
    if (!ok) throw Error("invalid model config: " + what, where);
  };
  need(vocab_size > 0, "vocab_size must be > 0");
  need(hidden_size > 0, "hidden_size must be > 0");
  need(intermediate_size > 0, "intermediate_size must be > 0");
  need(num_layers > 0, "num_hidden_layers must be > 0");
  need(num_heads > 0, "num_attention_heads must be > 0");
  need(num_kv_heads > 0 && num_heads % num_kv_heads == 0,
       "num_key_value_heads must divide num_attention_heads (" + std::to_string(num_heads) + ")");
  need(head_dim > 0 && head_dim % 2 == 0, "head_dim must be even and > 0 (RoPE rotates pairs)");
  need(max_position > 0, "max_position_embeddings must be > 0");
  need(rope_theta > 1.0, "rope_theta must be > 1");
  need(rms_eps > 0, "rms_norm_eps must be > 0");
  need(int64_t(sliding_layers.size()) == num_layers, "layer_types must list one type per layer (" +
                                                          std::to_string(num_layers) + ")");
  bool any_sliding = false;
  for (bool s : sliding_layers) any_sliding |= s;
  need(!any_sliding || sliding_window > 0, "sliding layers need sliding_window > 0");
  need(rope_scaling.type == "default" || rope_scaling.type == "yarn",
       "rope_scaling type '" + rope_scaling.type + "' is not supported (default, yarn)");
  if (rope_scaling.type == "yarn") {
    need(rope_scaling.factor >= 1.0, "rope_scaling.factor must be >= 1");
    need(rope_scaling.original_max_position > 0, "rope_scaling.original_max_position_embeddings must be > 0");
    need(rope_scaling.beta_fast >= rope_scaling.beta_slow, "rope_scaling.beta_fast must be >= beta_slow");
  }
}

// ---- config.json ----

namespace {

struct Reader {
  const json& j;
  std::string path;
  Error err(const std::string& field, const std::string& what) const {
    return Error(what, path + ": field \"" + field + "\"", "compare with the model's published config.json");
  }
  bool has(const std::string& k) const { return j.contains(k) && !j.at(k).is_null(); }
  int64_t integer(const std::string& k) const {
    if (!has(k)) throw err(k, "missing required field");
    const json& v = j.at(k);
    if (!v.is_number_integer()) throw err(k, "expected an integer, got " + v.dump());
    return v.get<int64_t>();
  }
  int64_t integer(const std::string& k, int64_t def) const { return has(k) ? integer(k) : def; }
  double number(const std::string& k, double def) const {
    if (!has(k)) return def;
    const json& v = j.at(k);
    if (!v.is_number()) throw err(k, "expected a number, got " + v.dump());
    return v.get<double>();
  }
  bool boolean(const std::string& k, bool def) const {
    if (!has(k)) return def;
    const json& v = j.at(k);
    if (!v.is_boolean()) throw err(k, "expected true or false, got " + v.dump());
    return v.get<bool>();
  }
  std::string string(const std::string& k, const std::string& def) const {
    if (!has(k)) return def;
    const json& v = j.at(k);
    if (!v.is_string()) throw err(k, "expected a string, got " + v.dump());
    return v.get<std::string>();
  }
};

std::vector<int32_t> id_list(const Reader& r, const std::string& k) {
  std::vector<int32_t> out;
  if (!r.has(k)) return out;
  const json& v = r.j.at(k);
  if (v.is_number_integer()) return {v.get<int32_t>()};
  if (!v.is_array()) throw r.err(k, "expected an id or a list of ids, got " + v.dump());
  for (const json& e : v) {
    if (!e.is_number_integer()) throw r.err(k, "expected integer ids, got " + e.dump());
    out.push_back(e.get<int32_t>());
  }
  return out;
}

}  // namespace

ModelConfig config_from_hf_json(const std::string& text, const std::string& path) {
  json j;
  try {
    j = json::parse(text);
  } catch (const json::parse_error& e) {
    throw Error(std::string("config.json is not valid JSON: ") + e.what(), path);
  }
  if (!j.is_object()) throw Error("config.json must hold a JSON object", path);
  Reader r{j, path};

  std::string arch;
  if (r.has("architectures")) {
    const json& a = j.at("architectures");
    if (!a.is_array() || a.size() != 1 || !a[0].is_string())
      throw r.err("architectures", "expected a list with one architecture name, got " + a.dump());
    arch = a[0].get<std::string>();
  } else {
    throw r.err("architectures", "missing required field");
  }
  ModelConfig c;
  if (arch == "Qwen3ForCausalLM") c.family = Family::Qwen3;
  else if (arch == "Olmo3ForCausalLM") c.family = Family::Olmo3;
  else
    throw Error("unsupported architecture \"" + arch + "\"", path + ": field \"architectures\"",
                "supported: Qwen3ForCausalLM, Olmo3ForCausalLM");

  // Features neither family has in the checkpoints we support: refuse instead of silently ignoring.
  for (const char* k : {"quantization_config", "num_experts", "num_local_experts", "moe_intermediate_size"})
    if (r.has(k)) throw r.err(k, std::string("unsupported feature (") + k + ")");
  if (r.number("partial_rotary_factor", 1.0) != 1.0) throw r.err("partial_rotary_factor", "partial RoPE is not supported");
  const std::string act = r.string("hidden_act", "silu");
  if (act != "silu") throw r.err("hidden_act", "unsupported activation \"" + act + "\" (SwiGLU with silu only)");

  c.vocab_size = r.integer("vocab_size");
  c.hidden_size = r.integer("hidden_size");
  c.intermediate_size = r.integer("intermediate_size");
  c.num_layers = r.integer("num_hidden_layers");
  c.num_heads = r.integer("num_attention_heads");
  c.num_kv_heads = r.integer("num_key_value_heads", c.num_heads);
  if (c.num_heads <= 0) throw r.err("num_attention_heads", "must be > 0");
  c.head_dim = r.integer("head_dim", c.hidden_size / c.num_heads);
  c.max_position = r.integer("max_position_embeddings");
  c.rope_theta = r.number("rope_theta", c.family == Family::Olmo3 ? 10000.0 : 10000.0);
  c.rms_eps = r.number("rms_norm_eps", c.family == Family::Olmo3 ? 1e-5 : 1e-6);
  c.tie_embeddings = r.boolean("tie_word_embeddings", false);
  c.attention_bias = r.boolean("attention_bias", false);
  c.torch_dtype = r.string("torch_dtype", r.string("dtype", "float32"));
  c.eos_ids = id_list(r, "eos_token_id");
  c.bos_id = r.has("bos_token_id") ? int32_t(r.integer("bos_token_id")) : -1;
  c.pad_id = r.has("pad_token_id") ? int32_t(r.integer("pad_token_id")) : -1;

  // transformers 5 writes rope_parameters (per layer type for Olmo-3) instead of rope_theta and
  // rope_scaling; one RoPE base for all layers is what this model supports.
  const json* rope = r.has("rope_scaling") ? &j.at("rope_scaling") : nullptr;
  std::string rope_field = "rope_scaling";
  if (!rope && r.has("rope_parameters")) {
    const json& rp = j.at("rope_parameters");
    if (!rp.is_object()) throw r.err("rope_parameters", "expected an object");
    rope = rp.contains("full_attention") ? &rp.at("full_attention") : &rp;
    rope_field = rp.contains("full_attention") ? "rope_parameters.full_attention" : "rope_parameters";
    if (!rope->is_object()) throw r.err(rope_field, "expected an object");
    c.rope_theta = Reader{*rope, path + ": " + rope_field}.number("rope_theta", c.rope_theta);
    if (rp.contains("sliding_attention") && rp.at("sliding_attention").is_object() &&
        Reader{rp.at("sliding_attention"), path}.number("rope_theta", c.rope_theta) != c.rope_theta)
      throw r.err("rope_parameters", "sliding and full attention layers with different rope_theta are not supported");
  }
  if (rope) {
    const json& rs = *rope;
    if (!rs.is_object()) throw r.err(rope_field, "expected an object or null");
    Reader s{rs, path + ": " + rope_field};
    c.rope_scaling.type = s.string("rope_type", s.string("type", "default"));
    if (c.rope_scaling.type != "default" && c.rope_scaling.type != "yarn")
      throw r.err("rope_scaling", "unsupported rope_type \"" + c.rope_scaling.type + "\" (default, yarn)");
    if (c.rope_scaling.type == "yarn") {
      c.rope_scaling.factor = s.number("factor", 0.0);
      if (!s.has("factor")) throw r.err("rope_scaling.factor", "yarn needs a factor");
      // modeling_rope_utils._compute_yarn_parameters: attention_factor defaults to 0.1 ln(factor) + 1,
      // beta_fast/beta_slow to 32/1, the original context to max_position_embeddings.
      c.rope_scaling.attention_factor =
          s.number("attention_factor", c.rope_scaling.factor > 1 ? 0.1 * std::log(c.rope_scaling.factor) + 1.0 : 1.0);
      c.rope_scaling.beta_fast = s.number("beta_fast", 32.0);
      c.rope_scaling.beta_slow = s.number("beta_slow", 1.0);
      c.rope_scaling.original_max_position = s.integer("original_max_position_embeddings", c.max_position);
    }
  }

  // Layer types. Olmo3Config: explicit layer_types, else sliding unless (i + 1) % 4 == 0.
  // Qwen3Config: sliding only when use_sliding_window, for layers i >= max_window_layers.
  c.sliding_layers.assign(size_t(std::max<int64_t>(c.num_layers, 0)), false);
  if (c.family == Family::Olmo3) c.sliding_window = r.integer("sliding_window", 4096);
  else if (r.boolean("use_sliding_window", false)) c.sliding_window = r.integer("sliding_window");
  if (r.has("layer_types")) {
    const json& lt = j.at("layer_types");
    if (!lt.is_array() || int64_t(lt.size()) != c.num_layers)
      throw r.err("layer_types", "expected a list of " + std::to_string(c.num_layers) + " layer types");
    for (size_t i = 0; i < lt.size(); ++i) {
      const std::string t = lt[i].is_string() ? lt[i].get<std::string>() : lt[i].dump();
      if (t == "sliding_attention") c.sliding_layers[i] = true;
      else if (t != "full_attention")
        throw r.err("layer_types", "unsupported layer type \"" + t + "\" at index " + std::to_string(i));
    }
    if (c.family == Family::Qwen3 && c.sliding_window == 0)
      for (auto&& s : c.sliding_layers) s = false;  // Qwen3: no window unless use_sliding_window
  } else if (c.family == Family::Olmo3) {
    for (int64_t i = 0; i < c.num_layers; ++i) c.sliding_layers[size_t(i)] = (i + 1) % 4 != 0;
  } else if (c.sliding_window > 0) {
    const int64_t from = r.integer("max_window_layers", c.num_layers);
    for (int64_t i = from; i < c.num_layers; ++i) c.sliding_layers[size_t(i)] = true;
  }
  c.validate(path);
  return c;
}

ModelConfig config_from_hf_dir(const std::string& dir) {
  const std::string p = dir + "/config.json";
  if (!file_exists(p))
    throw Error("no config.json in the model directory", p, "point at a Hugging Face model directory");
  return config_from_hf_json(read_file(p), p);
}

std::string ModelConfig::to_hf_json() const {
  json j;
  j["architectures"] = {family == Family::Qwen3 ? "Qwen3ForCausalLM" : "Olmo3ForCausalLM"};
  j["model_type"] = family_name(family);
  j["vocab_size"] = vocab_size;
  j["hidden_size"] = hidden_size;
  j["intermediate_size"] = intermediate_size;
  j["num_hidden_layers"] = num_layers;
  j["num_attention_heads"] = num_heads;
  j["num_key_value_heads"] = num_kv_heads;
  j["head_dim"] = head_dim;
  j["max_position_embeddings"] = max_position;
  j["rope_theta"] = rope_theta;
  j["rms_norm_eps"] = rms_eps;
  j["tie_word_embeddings"] = tie_embeddings;
  j["attention_bias"] = attention_bias;
  j["hidden_act"] = "silu";
  j["torch_dtype"] = torch_dtype;
  if (rope_scaling.type == "yarn")
    j["rope_scaling"] = {{"rope_type", "yarn"},
                         {"factor", rope_scaling.factor},
                         {"attention_factor", rope_scaling.attention_factor},
                         {"beta_fast", rope_scaling.beta_fast},
                         {"beta_slow", rope_scaling.beta_slow},
                         {"original_max_position_embeddings", rope_scaling.original_max_position}};
  else
    j["rope_scaling"] = nullptr;
  if (family == Family::Olmo3) {
    // transformers 5 reads Olmo-3's RoPE per layer type and, given only rope_theta, leaves the sliding
    // layers at Olmo3Config's default base (500000): say both explicitly (measured: logits differed
    // by 0.1 on a tiny model with rope_theta 10000 before this). Older versions ignore the field.
    json full = rope_scaling.type == "yarn" ? j["rope_scaling"] : json{{"rope_type", "default"}};
    full["rope_theta"] = rope_theta;
    j["rope_parameters"] = {{"full_attention", full},
                            {"sliding_attention", {{"rope_type", "default"}, {"rope_theta", rope_theta}}}};
  }
  json types = json::array();
  for (bool s : sliding_layers) types.push_back(s ? "sliding_attention" : "full_attention");
  j["layer_types"] = types;
  if (sliding_window > 0) j["sliding_window"] = sliding_window;
  if (family == Family::Qwen3) j["use_sliding_window"] = sliding_window > 0;
  if (!eos_ids.empty()) j["eos_token_id"] = eos_ids.size() == 1 ? json(eos_ids[0]) : json(eos_ids);
  if (bos_id >= 0) j["bos_token_id"] = bos_id;
  if (pad_id >= 0) j["pad_token_id"] = pad_id;
  return j.dump(2) + "\n";
}

// ---- [model] keys ----

ModelConfig config_from_keys(const Config& cfg, int64_t vocab_size) {
  ModelConfig c;
  const std::string fam = cfg.get_string("model.family");
  c.family = fam == "olmo3" ? Family::Olmo3 : Family::Qwen3;
  c.vocab_size = vocab_size > 0 ? vocab_size : cfg.get_int("model.vocab_size");
  c.hidden_size = cfg.get_int("model.hidden_size");
  c.intermediate_size = cfg.get_int("model.intermediate_size");
  c.num_layers = cfg.get_int("model.num_layers");
  c.num_heads = cfg.get_int("model.num_heads");
  c.num_kv_heads = cfg.get_int("model.num_kv_heads");
  if (c.num_kv_heads == 0) c.num_kv_heads = c.num_heads;
  c.head_dim = cfg.get_int("model.head_dim");
  if (c.head_dim == 0) c.head_dim = c.hidden_size / c.num_heads;
  c.max_position = cfg.get_int("model.max_position");
  c.rope_theta = cfg.get_float("model.rope_theta");
  c.rms_eps = cfg.get_float("model.rms_eps");
  c.tie_embeddings = cfg.get_bool("model.tie_embeddings");
  c.sliding_window = cfg.get_int("model.sliding_window");
  c.sliding_layers.assign(size_t(c.num_layers), false);
  if (c.sliding_window > 0)  // the Olmo-3 pattern: every 4th layer sees everything
    for (int64_t i = 0; i < c.num_layers; ++i) c.sliding_layers[size_t(i)] = (i + 1) % 4 != 0;
  const std::string where = cfg.source_file().empty() ? "[model]" : cfg.source_file() + " [model]";
  if (c.hidden_size % c.num_heads != 0 && cfg.get_int("model.head_dim") == 0)
    throw Error("model.hidden_size must be a multiple of model.num_heads when model.head_dim is 0", where);
  c.validate(where);
  return c;
}

}  // namespace sdz::model
