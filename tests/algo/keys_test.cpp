// The algo keys: declared once, defaults from SDZERO.md, overrides resolve into the option structs.
#include <gtest/gtest.h>

#include "sdzero/algo/keys.hpp"
#include "sdzero/algo/method.hpp"
#include "sdzero/core/error.hpp"

using namespace sdz::algo;

namespace {
sdz::Config load(const std::vector<std::string>& overrides) {
  static const sdz::Schema schema = [] {
    sdz::Schema s;
    sdz::declare_algo_keys(s);
    return s;
  }();
  return sdz::Config::load(schema, "", overrides);
}
}  // namespace

TEST(AlgoKeys, DefaultsFollowThePaperAndReleasedCode) {
  AlgoConfig a = algo_config(load({}));
  EXPECT_EQ(a.method, "sdzero");
  EXPECT_EQ(a.teacher_scoring.top_k, 64);
  EXPECT_EQ(a.kl.kind, KlKind::Mixed);
  EXPECT_DOUBLE_EQ(a.kl.forward_weight, 0.5);
  EXPECT_DOUBLE_EQ(a.clip.eps_low, 0.2);
  EXPECT_DOUBLE_EQ(a.clip.eps_high, 0.28);
  EXPECT_DOUBLE_EQ(a.clip.kl_coef, 0.0);
  EXPECT_TRUE(a.dynamic_sampling);
  EXPECT_EQ(a.teacher_max_tokens, 32768);
  EXPECT_DOUBLE_EQ(a.optim.lr, 5e-6);
  EXPECT_DOUBLE_EQ(a.optim.grad_clip, 1.0);
  EXPECT_EQ(a.optim.warmup_steps, 20);
  EXPECT_DOUBLE_EQ(a.teacher.ema_rate, 0.01);
  EXPECT_EQ(a.srt.revisions, 3);
  EXPECT_EQ(a.srt.cleanup.sycophantic_openings.size(), 4u);
}

// Both sides of the distillation KL at the sampling temperature unless set (the released code divides
// student and teacher logits by the generation temperature): identical models then have KL 0.
TEST(AlgoKeys, DistillationTemperaturesFollowTheSamplingTemperature) {
  AlgoConfig a = algo_config(load({"--method.temperature=0.7"}));
  EXPECT_DOUBLE_EQ(a.teacher_scoring.temperature, 0.7);
  EXPECT_DOUBLE_EQ(a.kl.teacher_temperature, 0.7);
  EXPECT_DOUBLE_EQ(a.kl.student_temperature, 0.7);
  AlgoConfig greedy = algo_config(load({"--method.temperature=0"}));
  EXPECT_DOUBLE_EQ(greedy.kl.student_temperature, 1.0);
  EXPECT_DOUBLE_EQ(greedy.kl.teacher_temperature, 1.0);
  AlgoConfig set = algo_config(load({"--method.temperature=0.7", "--distill.temperature=0.5"}));
  EXPECT_DOUBLE_EQ(set.kl.teacher_temperature, 0.5);  // a sharper teacher, on purpose
  EXPECT_DOUBLE_EQ(set.kl.student_temperature, 0.7);
  EXPECT_DOUBLE_EQ(algo_config(load({"--distill.student_temperature=2"})).kl.student_temperature, 2.0);
}

TEST(AlgoKeys, GrpoMinibatches) {
  EXPECT_EQ(algo_config(load({})).grpo_minibatches, 1);
  EXPECT_EQ(algo_config(load({"--method.name=grpo", "--grpo.minibatches=2"})).grpo_minibatches, 2);
  // Other methods ignore it (one config serves every method of the demo) ...
  EXPECT_NO_THROW(algo_config(load({"--method.name=sdzero", "--grpo.minibatches=2"})));
  // ... and a teacher rule that counts optimizer steps would count each minibatch: refused.
  EXPECT_THROW(algo_config(load({"--method.name=grpo", "--grpo.minibatches=2", "--teacher.update=sync_every"})),
               sdz::Error);
  EXPECT_THROW(load({"--grpo.minibatches=0"}), sdz::Error);
}

TEST(AlgoKeys, GrpoRefillRounds) {
  EXPECT_EQ(algo_config(load({})).grpo_refill_rounds, 0);  // the paper's GRPO: dropped groups stay dropped
  EXPECT_EQ(algo_config(load({"--method.name=grpo", "--grpo.refill_rounds=3"})).grpo_refill_rounds, 3);
  // Nothing is dropped without dynamic sampling, so there is nothing to refill: refused, naming the key.
  try {
    algo_config(load({"--method.name=grpo", "--grpo.refill_rounds=2", "--grpo.dynamic_sampling=false"}));
    FAIL() << "refill without dynamic sampling was accepted";
  } catch (const sdz::Error& e) {
    EXPECT_NE(std::string(e.what()).find("grpo.refill_rounds"), std::string::npos) << e.what();
  }
  EXPECT_NO_THROW(algo_config(load({"--method.name=rft", "--grpo.refill_rounds=2", "--grpo.dynamic_sampling=false"})));
  EXPECT_THROW(load({"--grpo.refill_rounds=-1"}), sdz::Error);
}

// One source of truth for the cues: [prompt] (text/). The [srt] copies are gone, so a config that
// still sets them fails loudly instead of being silently ignored by phase 2.
TEST(AlgoKeys, CuesAreNotAlgoKeys) {
  EXPECT_THROW(load({"--srt.cue_wrong=Wrong. I need to redo all."}), sdz::Error);
  EXPECT_THROW(load({"--srt.cue_correct=x"}), sdz::Error);
}

TEST(AlgoKeys, OverridesReachTheStructs) {
  AlgoConfig a = algo_config(load({"--method.name=grpo", "--distill.kl=reverse", "--grpo.clip_high=0.3",
                                   "--optim.schedule=cosine", "--optim.total_steps=100", "--teacher.update=sync_every",
                                   "--teacher.sync_every=16", "--srt.objective=sequential", "--srt.stage_steps=5",
                                   "--budget.max_generations=60000", "--srt.revise=wrong"}));
  EXPECT_EQ(a.method, "grpo");
  EXPECT_EQ(a.kl.kind, KlKind::Reverse);
  EXPECT_DOUBLE_EQ(a.clip.eps_high, 0.3);
  EXPECT_EQ(a.optim.schedule, LrSchedule::Cosine);
  EXPECT_EQ(a.teacher.update, TeacherUpdate::SyncEvery);
  EXPECT_EQ(a.teacher.sync_every, 16);
  EXPECT_EQ(a.srt.objective, SrtObjective::Sequential);
  EXPECT_EQ(a.budget.max_generations, 60000);
  EXPECT_EQ(a.srt.revise, ReviseWhich::Wrong);
  EXPECT_THROW(load({"--distill.kl=sideways"}), sdz::Error);
  EXPECT_THROW(load({"--grpo.clip_low=1.5"}), sdz::Error);
}

// Session 22's keys for the released code's choices reach the structs; contradictions name the key.
TEST(AlgoKeys, ReleasedCodeChoices) {
  AlgoConfig a = algo_config(load({"--method.name=srt", "--srt.initial_top_p=0.9", "--srt.sycophantic=strip",
                                   "--srt.dedupe_by=initial", "--srt.min_period=10", "--srt.max_period=1500",
                                   "--srt.cut_passes=5", "--optim.warmup_start_factor=0.1"}));
  EXPECT_DOUBLE_EQ(a.srt.initial_top_p, 0.9);
  EXPECT_TRUE(a.srt.cleanup.strip_sycophantic);
  EXPECT_TRUE(a.srt.cleanup.dedupe_per_initial);
  EXPECT_EQ(a.srt.cleanup.min_period, 10);
  EXPECT_EQ(a.srt.cleanup.max_period, 1500);
  EXPECT_EQ(a.srt.cleanup.cut_passes, 5);
  EXPECT_DOUBLE_EQ(a.optim.warmup_start_factor, 0.1);
  AlgoConfig d = algo_config(load({}));
  EXPECT_FALSE(d.srt.cleanup.strip_sycophantic);
  EXPECT_FALSE(d.srt.cleanup.dedupe_per_initial);
  EXPECT_EQ(d.srt_replay, 0.0);
  auto error_of = [](const std::vector<std::string>& ov) -> std::string {
    try {
      algo_config(load(ov));
    } catch (const sdz::Error& e) {
      return e.what();
    }
    return "";
  };
  EXPECT_NE(error_of({"--srt.min_period=300"}).find("srt.min_period"), std::string::npos);
  EXPECT_NE(error_of({"--method.name=grpo", "--distill.srt_replay=1"}).find("distill.srt_replay"), std::string::npos);
  EXPECT_EQ(error_of({"--method.name=sdzero", "--distill.srt_replay=1"}), "");
  EXPECT_THROW(load({"--srt.sycophantic=keep"}), sdz::Error);
  // The released two-stage split needs the sequential objective.
  EXPECT_EQ(d.srt.revision_traces, 0);
  EXPECT_EQ(algo_config(load({"--srt.objective=sequential", "--srt.revision_traces=1000"})).srt.revision_traces, 1000);
  EXPECT_NE(error_of({"--srt.revision_traces=1000"}).find("srt.revision_traces"), std::string::npos);
}

TEST(AlgoKeys, AutoTeacherIsTheMethodDefault) {
  MethodContext ctx;
  for (auto [name, update, samples] :
       std::vector<std::tuple<std::string, TeacherUpdate, int64_t>>{{"sdzero", TeacherUpdate::Frozen, 1},
                                                                     {"sdft", TeacherUpdate::Ema, 1},
                                                                     {"grpo", TeacherUpdate::Frozen, 8},
                                                                     {"rft", TeacherUpdate::Frozen, 4},
                                                                     {"sft", TeacherUpdate::Frozen, 1},
                                                                     {"srt", TeacherUpdate::Frozen, 1}}) {
    AlgoConfig a = algo_config(load({"--method.name=" + name}));
    auto m = make_method(a, ctx);
    EXPECT_EQ(m->name(), name);
    EXPECT_EQ(m->teacher().options().update, update) << name;
    EXPECT_EQ(m->sampling().samples_per_question, samples) << name;
  }
  AlgoConfig a = algo_config(load({"--method.name=sdft", "--teacher.update=frozen", "--method.samples_per_question=3"}));
  auto m = make_method(a, ctx);
  EXPECT_EQ(m->teacher().options().update, TeacherUpdate::Frozen);
  EXPECT_EQ(m->sampling().samples_per_question, 3);
  a.method = "dpo";
  EXPECT_THROW(make_method(a, ctx), sdz::Error);
}
