// defines: a demo base's recipe (every setting that shapes the base: the model, the task and its
// splits, the prompt, the pretraining and self-chain keys, the pick, the optimizer, the seed), kept
// beside the cached base as recipe.json, and the check that refuses to reuse a base made by another
// recipe. Without it a rerun in the same run directory with, say, --demo.pretrain_steps=3000 would
// silently post-train the old base and report it under the new settings.
#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "sdzero/core/config.hpp"

namespace sdz::app {

// The config a base is pretrained with: the seed's demo config plus the pretraining stage's own
// settings (its learning rate is demo.pretrain_lr, with its own warmup and beta2).
Config base_stage_config(const Config& seed_cfg);

// The keys that shape a base, with their values (Config::text), from the pretraining stage's config.
// How a number is computed (matmul library, fused kernels, packing, checkpointing, foreach) is not
// part of it: those change last bits only, as do ranks and threads.
nlohmann::json base_recipe(const Config& stage_cfg);

// "key: stored there, now here" for every key whose value differs. A key the stored recipe lacks
// (added to sdzero after the base was made) differs only when it is not at its default; a stored key
// this schema no longer has is ignored.
std::vector<std::string> recipe_differences(const nlohmann::json& stored, const nlohmann::json& now, const Schema& schema);

// For a cached base in base_dir: an sdz::Error naming the first differing key when its recipe.json
// differs from the recipe of stage_cfg. Without recipe.json (made by an sdzero before recipes) it is
// reused unchecked, with a warning when `warn` (the stage that reuses it says so once). A recipe.json
// that is not a JSON object: an error naming the file.
void check_base_recipe(const std::string& base_dir, const Config& stage_cfg, bool warn);

}  // namespace sdz::app
