// A cached demo base is only reused when this run would have made the same base. The recipe is read
// from the pretraining stage's config, so overrides the stage applies (its learning rate, the
// localization base's task and steps) are what gets recorded.
#include "sdzero/app/demo_recipe.hpp"

#include <set>

#include "sdzero/app/demo.hpp"
#include "sdzero/core/error.hpp"
#include "sdzero/core/files.hpp"
#include "sdzero/core/log.hpp"
#include "sdzero/core/strings.hpp"

namespace sdz::app {

Config base_stage_config(const Config& seed_cfg) {
  DemoContext d;
  d.cfg = seed_cfg;
  return d.stage({"--method.name=sft", "--train.split=train", "--optim.lr=" + seed_cfg.text("demo.pretrain_lr"),
                  "--optim.warmup_steps=100", "--optim.beta2=0.98"});
}

static bool shapes_base(const std::string& key) {
  static const std::set<std::string> how = {"model.cpu_matmul", "model.cpu_fused_kernels", "model.packed_weights_mb",
                                            "model.activation_checkpointing", "optim.foreach"};
  if (how.count(key)) return false;
  for (const char* section : {"model.", "data.", "tokenizer.", "prompt.", "optim."})
    if (starts_with(key, section)) return true;
  static const std::set<std::string> keys = {
      "run.seed", "method.temperature", "method.top_p", "method.max_new_tokens",
      // pretraining and self chains
      "demo.pretrain_steps", "demo.pretrain_batch", "demo.pretrain_lr", "demo.pretrain_group_tokens",
      "demo.pretrain_on", "demo.chain_fraction", "demo.correction_uses_attempt", "demo.cue_loss",
      "demo.wrong_value_loss", "demo.claim_fraction", "demo.slip_fraction", "demo.chain_unlikelihood",
      "demo.self_chain_steps", "demo.self_chain_rounds", "demo.self_chain_on", "demo.self_chain_unlikelihood",
      "demo.self_chain_mix", "demo.anneal",
      // the pick
      "demo.pick_every", "demo.band_low", "demo.band_high", "demo.pick_questions", "demo.eval_k"};
  return keys.count(key) > 0;
}

nlohmann::json base_recipe(const Config& stage_cfg) {
  nlohmann::json r = nlohmann::json::object();
  for (const KeySpec& k : stage_cfg.schema().keys())
    if (shapes_base(k.name)) r[k.name] = stage_cfg.text(k.name);
  return r;
}

std::vector<std::string> recipe_differences(const nlohmann::json& stored, const nlohmann::json& now, const Schema& schema) {
  std::vector<std::string> out;
  for (const auto& [key, value] : now.items()) {
    const std::string here = value.get<std::string>();
    if (stored.contains(key)) {
      const std::string there = stored.at(key).is_string() ? stored.at(key).get<std::string>() : stored.at(key).dump();
      if (there != here) out.push_back(key + ": " + there + " there, " + here + " now");
      continue;
    }
    const KeySpec* spec = schema.find(key);
    if (spec && spec->default_text != here) out.push_back(key + ": not recorded there (made before the key), " + here + " now");
  }
  return out;
}

void check_base_recipe(const std::string& base_dir, const Config& stage_cfg, bool warn) {
  const std::string path = base_dir + "/recipe.json";
  if (!file_exists(path)) {
    if (warn)
      log::warn(base_dir + " has no recipe.json (an older sdzero made it): reused without checking that this "
                "run's settings would make the same base");
    return;
  }
  nlohmann::json stored;
  try {
    stored = nlohmann::json::parse(read_file(path));
  } catch (const nlohmann::json::exception& e) {
    throw Error(std::string("not valid JSON: ") + e.what(), path, "delete " + base_dir + " to pretrain the base again");
  }
  if (!stored.is_object()) throw Error("not a JSON object", path, "delete " + base_dir + " to pretrain the base again");
  const std::vector<std::string> diff = recipe_differences(stored, base_recipe(stage_cfg), stage_cfg.schema());
  if (diff.empty()) return;
  throw Error("the cached base was made with other settings than this run's (" + join(diff, "; ") + ")",
              diff[0].substr(0, diff[0].find(':')),
              "keep the settings, choose another --run.dir, or delete " + base_dir + " to pretrain it again");
}

}  // namespace sdz::app
