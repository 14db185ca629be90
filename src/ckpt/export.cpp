#include "sdzero/ckpt/export.hpp"

#include <dirent.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "sdzero/ckpt/h5io.hpp"
#include "sdzero/core/error.hpp"
#include "sdzero/core/files.hpp"
#include "sdzero/core/log.hpp"
#include "sdzero/core/strings.hpp"
#include "sdzero/model/config.hpp"
#include "sdzero/model/transformer.hpp"
#include "sdzero/model/weights.hpp"

namespace sdz::ckpt {

namespace {

model::DType parse_dtype(const std::string& s) {
  if (s == "float32") return model::DType::F32;
  if (s == "bfloat16") return model::DType::BF16;
  if (s == "float16") return model::DType::F16;
  throw Error("unknown export dtype '" + s + "'", "--dtype", "use float32, bfloat16 or float16");
}

std::vector<std::string> dir_names(const std::string& dir) {
  std::vector<std::string> out;
  if (DIR* d = ::opendir(dir.c_str())) {
    while (dirent* e = ::readdir(d))
      if (std::string(e->d_name) != "." && std::string(e->d_name) != "..") out.push_back(e->d_name);
    ::closedir(d);
  }
  return out;
}

// Files of a tokenizer directory that belong in an HF model directory.
bool is_tokenizer_file(const std::string& n) {
  return starts_with(n, "tokenizer") || n == "special_tokens_map.json" || n == "vocab.json" || n == "merges.txt" ||
         n == "added_tokens.json" || n == "chat_template.jinja" || n == "char_tokenizer.json";
}

std::string generation_config(const model::ModelConfig& c) {
  nlohmann::json g;
  if (c.bos_id >= 0) g["bos_token_id"] = c.bos_id;
  if (c.pad_id >= 0) g["pad_token_id"] = c.pad_id;
  if (c.eos_ids.size() == 1) g["eos_token_id"] = c.eos_ids[0];
  else if (!c.eos_ids.empty()) g["eos_token_id"] = c.eos_ids;
  g["transformers_version"] = "4.51.0";
  return g.dump(2) + "\n";
}

}  // namespace

void export_hf(const TrainingState& s, const std::string& out_dir, const ExportOptions& opt) {
  model::DType dtype = parse_dtype(opt.dtype);
  if (s.model_config_json.empty())
    throw Error("checkpoint has no model config (/state/model_config)", out_dir,
                "the writer must set TrainingState::model_config_json");
  model::ModelConfig cfg = model::config_from_hf_json(s.model_config_json, "checkpoint /state/model_config");
  const auto& weights = opt.teacher ? s.teacher.params : s.model;
  if (opt.teacher && weights.empty())
    throw Error(strprintf("the checkpoint's teacher has no weights of its own (it is the policy of version %lld)",
                          (long long)s.teacher.synced_version), out_dir, "export the checkpoint of that version instead");
  if (file_exists(out_dir) && !dir_names(out_dir).empty())
    throw Error("export directory exists and is not empty", out_dir, "choose a new --out");

  model::Transformer m(cfg);
  {
    torch::NoGradGuard ng;
    for (const auto& [name, p] : m.named_parameters()) {
      auto it = weights.find(name);
      if (it == weights.end()) throw Error("checkpoint has no tensor '" + name + "' that the model needs", out_dir);
      if (it->second.sizes() != p.sizes())
        throw Error("tensor '" + name + "' has shape " + h5::shape_text(it->second.sizes().vec()) + ", the model expects " +
                        h5::shape_text(p.sizes().vec()), out_dir);
      p.copy_(it->second);
    }
    for (const auto& [name, t] : weights) {
      bool known = false;
      for (const auto& np : m.named_parameters()) known = known || np.first == name;
      if (!known) throw Error("checkpoint tensor '" + name + "' is not a parameter of the configured model", out_dir);
    }
  }

  std::string tmp = out_dir + ".tmp." + std::to_string(::getpid());
  try {
    model::save_model_dir(m, tmp, dtype, opt.max_shard_bytes);
    write_file_atomic(tmp + "/generation_config.json", generation_config(cfg));
    if (!opt.tokenizer_dir.empty()) {
      int copied = 0;
      for (const std::string& n : dir_names(opt.tokenizer_dir))
        if (is_tokenizer_file(n)) write_file_atomic(tmp + "/" + n, read_file(opt.tokenizer_dir + "/" + n)), ++copied;
      if (copied == 0) throw Error("no tokenizer files (tokenizer.json, ...) found", opt.tokenizer_dir);
    }
    if (file_exists(out_dir)) ::rmdir(out_dir.c_str());  // checked empty above
    if (::rename(tmp.c_str(), out_dir.c_str()) != 0) throw Error("cannot rename the export into place", out_dir);
    fsync_dir_of(out_dir);
  } catch (...) {
    for (const std::string& n : dir_names(tmp)) ::unlink((tmp + "/" + n).c_str());
    ::rmdir(tmp.c_str());
    throw;
  }
  log::info(strprintf("export: %s step %lld -> %s (%s)", opt.teacher ? "teacher" : "policy", (long long)s.step,
                      out_dir.c_str(), opt.dtype.c_str()));
}

}  // namespace sdz::ckpt
