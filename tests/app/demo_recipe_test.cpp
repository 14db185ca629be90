// A demo base's recipe: which settings it records (what shapes the base, not how numbers are
// computed), how two recipes are compared (a key added after the base was made counts only off its
// default), and the check on a cached base: reuse on the same recipe, an error naming the key and
// the base on another, reuse without a recipe.json, an error naming a broken recipe.json.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "sdzero/app/demo_recipe.hpp"
#include "sdzero/app/schema.hpp"
#include "sdzero/core/error.hpp"
#include "sdzero/core/files.hpp"

using namespace sdz;
using namespace sdz::app;

namespace {

Config demo_cfg(const std::vector<std::string>& overrides = {}) {
  return Config::load_text(schema(), "[data]\ntask = cd\n[demo]\npretrain_steps = 1500\n", "test.ini", overrides);
}

std::string scratch_dir(const std::string& name) {
  const auto d = std::filesystem::temp_directory_path() / ("sdz_recipe_" + name + "_" + std::to_string(::getpid()));
  std::filesystem::remove_all(d);
  std::filesystem::create_directories(d);
  return d.string();
}

}  // namespace

TEST(DemoRecipe, RecordsWhatShapesTheBaseNotHowItIsComputed) {
  const nlohmann::json r = base_recipe(base_stage_config(demo_cfg({"--run.seed=77", "--optim.lr=0.5"})));
  EXPECT_EQ(r.at("demo.pretrain_steps"), "1500");
  EXPECT_EQ(r.at("run.seed"), "77");
  EXPECT_EQ(r.at("data.task"), "cd");
  EXPECT_TRUE(r.contains("model.hidden_size"));
  EXPECT_TRUE(r.contains("demo.self_chain_steps"));
  EXPECT_TRUE(r.contains("demo.band_low"));
  // The stage's own rate: demo.pretrain_lr, not the methods' optim.lr.
  EXPECT_EQ(r.at("optim.lr"), r.at("demo.pretrain_lr"));
  EXPECT_EQ(r.at("optim.beta2"), "0.98");
  for (const char* k : {"model.cpu_matmul", "model.cpu_fused_kernels", "optim.foreach", "demo.methods", "demo.lr_grid",
                        "demo.budget", "demo.distill_split", "srt.revise", "run.dir", "run.threads"})
    EXPECT_FALSE(r.contains(k)) << k;
}

TEST(DemoRecipe, DifferencesNameKeyAndBothValues) {
  const nlohmann::json a = base_recipe(base_stage_config(demo_cfg()));
  EXPECT_TRUE(recipe_differences(a, a, schema()).empty());
  // Settings of the methods leave the recipe alone.
  EXPECT_TRUE(recipe_differences(a, base_recipe(base_stage_config(demo_cfg({"--demo.lr_grid=1e-3", "--srt.revise=wrong",
                                                                             "--model.cpu_matmul=blas"}))),
                                 schema())
                  .empty());
  const auto d = recipe_differences(a, base_recipe(base_stage_config(demo_cfg({"--demo.pretrain_steps=3000"}))), schema());
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0], "demo.pretrain_steps: 1500 there, 3000 now");
  // A key the stored recipe lacks (a newer sdzero added it): equal when at its default.
  nlohmann::json old = a;
  old.erase("demo.self_chain_on");
  EXPECT_TRUE(recipe_differences(old, a, schema()).empty());
  const auto d2 =
      recipe_differences(old, base_recipe(base_stage_config(demo_cfg({"--demo.self_chain_on=fresh"}))), schema());
  ASSERT_EQ(d2.size(), 1u);
  EXPECT_NE(d2[0].find("demo.self_chain_on: not recorded there"), std::string::npos) << d2[0];
  // A stored key this schema does not know is ignored.
  old["demo.gone"] = "1";
  EXPECT_TRUE(recipe_differences(old, a, schema()).empty());
}

TEST(DemoRecipe, CheckRefusesAnotherRecipeNamingKeyAndBase) {
  const std::string base = scratch_dir("check");
  // No recipe.json (a base of an older sdzero): reused unchecked.
  EXPECT_NO_THROW(check_base_recipe(base, base_stage_config(demo_cfg()), false));
  write_file_atomic(base + "/recipe.json", base_recipe(base_stage_config(demo_cfg())).dump(1));
  EXPECT_NO_THROW(check_base_recipe(base, base_stage_config(demo_cfg({"--demo.budget=99"})), false));
  try {
    check_base_recipe(base, base_stage_config(demo_cfg({"--model.hidden_size=64"})), false);
    FAIL() << "a base of another width was accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.where(), "model.hidden_size");
    EXPECT_NE(e.message().find("128 there, 64 now"), std::string::npos) << e.message();
    EXPECT_NE(e.hint().find(base), std::string::npos) << e.hint();
  }
  write_file_atomic(base + "/recipe.json", "{\"demo.pretrain_steps\": ");
  try {
    check_base_recipe(base, base_stage_config(demo_cfg()), false);
    FAIL() << "a broken recipe.json was accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.where(), base + "/recipe.json");
  }
  write_file_atomic(base + "/recipe.json", "[1, 2]");
  EXPECT_THROW(check_base_recipe(base, base_stage_config(demo_cfg()), false), Error);
  std::filesystem::remove_all(base);
}
