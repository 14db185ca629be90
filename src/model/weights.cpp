// Weights by Hugging Face names, through the torch-free safetensors reader/writer.
#include "sdzero/model/weights.hpp"

#include <set>

#include "sdzero/core/error.hpp"
#include "sdzero/core/files.hpp"

namespace sdz::model {

torch::ScalarType scalar_type(DType d) {
  return d == DType::F32 ? torch::kFloat32 : d == DType::BF16 ? torch::kBFloat16 : torch::kFloat16;
}

namespace {
std::string shape_text(const std::vector<int64_t>& s) {
  std::string o = "[";
  for (size_t i = 0; i < s.size(); ++i) o += (i ? ", " : "") + std::to_string(s[i]);
  return o + "]";
}
}  // namespace

torch::Tensor tensor_from_info(const TensorInfo& t) {
  // from_blob does not copy; clone() so the result outlives the mapping and is aligned.
  return torch::from_blob(const_cast<uint8_t*>(t.data), t.shape, torch::TensorOptions().dtype(scalar_type(t.dtype)))
      .clone();
}

void load_weights(Transformer& m, const SafetensorsSet& set) {
  torch::NoGradGuard ng;
  std::set<std::string> used;
  for (const auto& [name, p] : m.named_parameters()) {
    const TensorInfo* t = set.find(name);
    if (!t)
      throw Error("missing tensor \"" + name + "\"", set.dir(),
                  "the checkpoint does not match config.json (architecture or layer count)");
    if (std::vector<int64_t>(p.sizes().begin(), p.sizes().end()) != t->shape)
      throw Error("tensor \"" + name + "\" has shape " + shape_text(t->shape) + ", the config needs " +
                      shape_text(std::vector<int64_t>(p.sizes().begin(), p.sizes().end())),
                  t->file);
    torch::Tensor dst = p;
    dst.copy_(tensor_from_info(*t));
    // A NaN or Inf weight makes every output garbage without an error anywhere downstream.
    if (!torch::isfinite(dst).all().item<bool>())
      throw Error("tensor \"" + name + "\" holds NaN or Inf values", t->file,
                  "the file is damaged or the run that wrote it diverged");
    used.insert(name);
  }
  for (const std::string& n : set.names()) {
    if (used.count(n)) continue;
    if (n == "lm_head.weight" && m.config().tie_embeddings) continue;
    throw Error("unexpected tensor \"" + n + "\"", set.find(n)->file,
                "the checkpoint does not match config.json (architecture or layer count)");
  }
}

std::unique_ptr<Transformer> load_model_dir(const std::string& dir) {
  auto m = std::make_unique<Transformer>(config_from_hf_dir(dir));
  SafetensorsSet set(dir);
  load_weights(*m, set);
  return m;
}

void save_model_dir(const Transformer& m, const std::string& dir, DType dtype, size_t max_shard_bytes) {
  make_dirs(dir);
  std::vector<torch::Tensor> keep;
  std::vector<TensorBytes> out;
  for (const auto& [name, p] : m.named_parameters()) {
    keep.push_back(p.detach().cpu().to(scalar_type(dtype)).contiguous());
    const auto& t = keep.back();
    out.push_back({name, dtype, std::vector<int64_t>(t.sizes().begin(), t.sizes().end()), t.data_ptr(),
                   size_t(t.numel()) * t.element_size()});
  }
  write_safetensors_dir(dir, out, max_shard_bytes);
  ModelConfig c = m.config();
  c.torch_dtype = dtype == DType::F32 ? "float32" : dtype == DType::BF16 ? "bfloat16" : "float16";
  write_file_atomic(dir + "/config.json", c.to_hf_json());
}

}  // namespace sdz::model
