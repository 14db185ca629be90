// Every method end to end on a tiny torch::nn causal LM and a built-in toy task, in one process:
// the loss is finite, parameters change, budgets are respected, the teacher syncs at the configured
// steps, and distillation moves the student towards the teacher.
#include <gtest/gtest.h>

#include <cmath>

#include "sdzero/algo/losses.hpp"
#include "sdzero/algo/chunked.hpp"
#include "sdzero/algo/methods.hpp"
#include "sdzero/algo/srt_collect.hpp"
#include "sdzero/algo/train.hpp"
#include "sdzero/core/config.hpp"
#include "sdzero/core/error.hpp"
#include "sdzero/core/rng.hpp"
#include "toy_lm.hpp"

using namespace sdz::algo;

namespace {

using namespace toy;

struct RunLog {
  int64_t steps = 0;
  std::vector<int64_t> sync_steps;  // completed-step counts after which a hard sync was applied
  std::vector<double> losses;
  std::vector<double> teacher_moves;  // per step: how far the teacher moved
  Budget budget;
};

// The loop a colocated pipeline runs for an online method.
RunLog run_online(Method& method, Scorer& student, Scorer& teacher, int64_t questions_per_step, int64_t max_steps) {
  Optimizer opt(student.parameters(), method.config().optim);
  RunLog log;
  log.budget = Budget(method.config().budget);
  const SamplingParams sp = method.sampling();
  for (int64_t step = 0; step < max_steps; ++step) {
    const int64_t nq = log.budget.questions_that_fit(questions_per_step, sp.samples_per_question);
    if (nq == 0) break;
    std::vector<Trajectory> trajs;
    int64_t tokens = 0;
    for (int64_t i = 0; i < nq; ++i) {
      const int64_t q = (step * questions_per_step + i) % 10;
      for (int64_t s = 0; s < sp.samples_per_question; ++s) {
        Trajectory t = sample(student, prompt_of(q), q, s, sp, uint64_t(step));
        t.policy_version = step;
        t.teacher_prompt_ids = {kQ, int32_t(q), kR, int32_t((q + 3) % 10), kE, kA};  // SDFT demonstration
        tokens += int64_t(t.response_ids.size());
        trajs.push_back(std::move(t));
      }
    }
    log.budget.count(int64_t(trajs.size()), tokens);
    Stats keep_stats;
    Batch b;
    b.trajectories = method.keep(std::move(trajs), &keep_stats);
    b.signals = score_batch(method, teacher, b);
    const auto before = snapshot(teacher);
    StepResult r = train_step(method, student, opt, b, method.count_tokens(b), step);
    apply_teacher_action(r.teacher_action, teacher, student, method.config().teacher.ema_rate);
    if (r.teacher_action == TeacherAction::HardSync) log.sync_steps.push_back(step + 1);
    log.teacher_moves.push_back(distance(before, snapshot(teacher)));
    log.losses.push_back(r.loss);
    ++log.steps;
  }
  return log;
}

}  // namespace

TEST(MethodSmoke, SdZeroWithHardSyncEveryTwoSteps) {
  AlgoConfig cfg = config_for("sdzero", {"--teacher.update=sync_every", "--teacher.sync_every=2"});
  SdZeroMethod m(cfg, toy_context());
  TinyScorer student(1), teacher(2);
  const auto start = snapshot(student);
  RunLog log = run_online(m, student, teacher, 4, 5);
  EXPECT_EQ(log.steps, 5);
  EXPECT_EQ(log.sync_steps, (std::vector<int64_t>{2, 4}));
  EXPECT_GT(log.teacher_moves[1], 0);
  EXPECT_EQ(log.teacher_moves[2], 0);
  EXPECT_EQ(log.teacher_moves[4], 0);
  EXPECT_GT(distance(start, snapshot(student)), 0);
  for (double l : log.losses) EXPECT_TRUE(std::isfinite(l) && l >= 0);
  EXPECT_EQ(log.budget.generations(), 20);
}

TEST(MethodSmoke, SdZeroFullVocabularyModeAndFrozenTeacher) {
  AlgoConfig cfg = config_for("sdzero", {"--distill.mode=full", "--distill.kl=reverse"});
  auto m = make_method(cfg, toy_context());
  TinyScorer student(3), teacher(4);
  const auto t0 = snapshot(teacher);
  RunLog log = run_online(*m, student, teacher, 3, 3);
  EXPECT_EQ(log.steps, 3);
  EXPECT_TRUE(log.sync_steps.empty());
  EXPECT_EQ(distance(t0, snapshot(teacher)), 0);
  for (double l : log.losses) EXPECT_TRUE(std::isfinite(l) && l > 0);
}

TEST(MethodSmoke, SdftTeacherIsAnEmaOfTheStudent) {
  AlgoConfig cfg = config_for("sdft");
  auto m = make_method(cfg, toy_context());
  TinyScorer student(5), teacher(6);
  // One step by hand to check the EMA arithmetic against the two models' weights.
  Optimizer opt(student.parameters(), cfg.optim);
  Batch b;
  for (int64_t q = 0; q < 3; ++q) {
    Trajectory t = sample(student, prompt_of(q), q, 0, m->sampling(), 9);
    t.teacher_prompt_ids = {kQ, int32_t(q), kR, int32_t((q + 3) % 10), kE, kA};
    b.trajectories.push_back(t);
  }
  b.signals = score_batch(*m, teacher, b);
  const auto t0 = snapshot(teacher);
  StepResult r = train_step(*m, student, opt, b, m->count_tokens(b), 0);
  ASSERT_EQ(r.teacher_action, TeacherAction::Ema);
  const auto s1 = snapshot(student);
  apply_teacher_action(r.teacher_action, teacher, student, cfg.teacher.ema_rate);
  const auto t1 = snapshot(teacher);
  for (size_t i = 0; i < t0.size(); ++i)
    EXPECT_LT((t1[i] - (0.99 * t0[i] + 0.01 * s1[i])).abs().max().item<double>(), 1e-6);
  RunLog log = run_online(*m, student, teacher, 2, 3);
  for (double mv : log.teacher_moves) EXPECT_GT(mv, 0);
  // A trajectory without a teacher prompt is a clear error.
  Trajectory bare = b.trajectories[0];
  bare.teacher_prompt_ids.clear();
  EXPECT_THROW(m->teacher_layout(bare), sdz::Error);
}

TEST(MethodSmoke, RftTrainsOnlyOnVerifiedSamplesWithinBudget) {
  AlgoConfig cfg = config_for("rft", {"--budget.max_generations=40"});
  auto m = make_method(cfg, toy_context());
  std::vector<Trajectory> ts = {sample(*std::make_unique<TinyScorer>(7), prompt_of(1), 1, 0, m->sampling(), 1)};
  ts[0].reward = 0;
  Trajectory good = ts[0];
  good.reward = 1;
  ts.push_back(good);
  Stats st;
  auto kept = m->keep(ts, &st);
  ASSERT_EQ(kept.size(), 1u);
  EXPECT_EQ(kept[0].reward, 1.f);
  EXPECT_EQ(st["keep/dropped_unverified"], 1);

  TinyScorer student(7), teacher(8);
  const auto start = snapshot(student);
  RunLog log = run_online(*m, student, teacher, 4, 100);
  // 4 questions x 4 samples = 16 a step: two full steps, then 2 questions (8 generations) fit.
  EXPECT_EQ(log.steps, 3);
  EXPECT_EQ(log.budget.generations(), 40);
  EXPECT_TRUE(log.budget.exhausted());
  EXPECT_GT(distance(start, snapshot(student)), 0);  // some sample verified (10% chance each, 40 tries)
}

TEST(MethodSmoke, GrpoWithReferenceKl) {
  AlgoConfig cfg = config_for("grpo", {"--grpo.kl_coef=0.05", "--method.samples_per_question=6"});
  auto m = make_method(cfg, toy_context());
  TinyScorer student(9), reference(9);
  const auto start = snapshot(student);
  RunLog log = run_online(*m, student, reference, 5, 4);
  EXPECT_EQ(log.steps, 4);
  EXPECT_EQ(log.budget.generations(), 4 * 5 * 6);
  for (double l : log.losses) EXPECT_TRUE(std::isfinite(l));
  EXPECT_GT(distance(start, snapshot(student)), 0);
  TinyScorer fresh(9);
  EXPECT_EQ(distance(snapshot(reference), snapshot(fresh)), 0);  // the reference stays frozen
}

TEST(MethodSmoke, GrpoGradientIsTheAdvantageWeightedLogProb) {
  // At ratio 1 and no KL, the surrogate's gradient equals that of -A * sum(log p) / N.
  AlgoConfig cfg = config_for("grpo");
  auto m = make_method(cfg, toy_context());
  TinyScorer s(10);
  std::vector<Trajectory> ts;
  for (int k = 0; k < 4; ++k) ts.push_back(sample(s, prompt_of(2), 2, k, m->sampling(), 3));
  ts[0].reward = 1;
  ts[1].reward = 0;
  ts[2].reward = 1;
  ts[3].reward = 0;
  Batch b;
  b.trajectories = m->keep(ts, nullptr);
  ASSERT_EQ(b.trajectories.size(), 4u);
  const TokenCounts c = m->count_tokens(b);
  m->loss(s, b, c, 0).loss.backward();
  auto g1 = s.parameters()[0].grad().clone();
  for (auto& p : s.parameters()) p.grad().zero_();
  torch::Tensor ref = torch::zeros({});
  for (auto& t : b.trajectories) {
    Ids ids = t.prompt_ids;
    ids.insert(ids.end(), t.response_ids.begin(), t.response_ids.end());
    auto tg = torch::tensor(std::vector<int64_t>(t.response_ids.begin(), t.response_ids.end()), torch::kLong);
    ref = ref - t.advantage * token_logprobs(s.logits(ids, 2, int64_t(t.response_ids.size())), tg).sum();
  }
  (ref / c.main).backward();
  EXPECT_LT((g1 - s.parameters()[0].grad()).abs().max().item<double>(), 1e-5);
  EXPECT_GT(g1.abs().max().item<double>(), 0);
}

// Gradient accumulation (chunked.hpp): inside train_step's StepBackward scope each sequence is
// back-propagated as it is added; the gradients equal one backward of the summed graph, on the
// plain and the row-chunked (HeadView) paths.
TEST(MethodSmoke, PerSequenceBackwardEqualsOneBackward) {
  for (bool chunked : {false, true}) {
    for (const char* name : {"grpo", "rft"}) {
      AlgoConfig cfg = config_for(name, chunked ? std::vector<std::string>{"--method.chunk_rows=1"}
                                                : std::vector<std::string>{});
      auto m = make_method(cfg, toy_context());
      HeadScorer s(21);
      std::vector<Trajectory> ts;
      for (int k = 0; k < 4; ++k) ts.push_back(sample(s, prompt_of(2), 2, k, m->sampling(), 5));
      for (int k = 0; k < 4; ++k) ts[size_t(k)].reward = float(k % 2);
      Batch b;
      b.trajectories = m->keep(ts, nullptr);
      ASSERT_FALSE(b.trajectories.empty());
      const TokenCounts c = m->count_tokens(b);
      LossOutput deferred = m->loss(s, b, c, 0);
      ASSERT_TRUE(deferred.backward.requires_grad());
      deferred.backward.backward();
      std::vector<torch::Tensor> ref;
      for (auto& p : s.parameters()) ref.push_back(p.grad().clone()), p.grad().zero_();
      LossOutput now;
      {
        StepBackward scope;
        now = m->loss(s, b, c, 0);
      }
      EXPECT_FALSE(now.backward.requires_grad()) << "already applied";
      EXPECT_NEAR(now.loss.item<double>(), deferred.loss.item<double>(), 1e-6);
      auto ps = s.parameters();
      for (size_t k = 0; k < ps.size(); ++k)
        EXPECT_LT((ps[k].grad() - ref[k]).abs().max().item<double>(), 1e-6) << name << " chunked " << chunked << " " << k;
      if (chunked) {
        EXPECT_GT(s.head_calls, 0);
      }
    }
  }
}

TEST(MethodSmoke, SftOnDemonstrationsLowersItsLoss) {
  AlgoConfig cfg = config_for("sft", {"--optim.lr=0.03"});
  auto m = make_method(cfg, toy_context());
  ASSERT_FALSE(m->samples_online());
  TinyScorer s(11);
  Optimizer opt(s.parameters(), cfg.optim);
  Batch b;
  for (int64_t q = 0; q < 10; ++q) {
    Trajectory t;
    t.question_id = q;
    t.prompt_ids = prompt_of(q);
    t.response_ids = {int32_t((q + 3) % 10), kE};
    b.trajectories.push_back(t);
  }
  const TokenCounts c = m->count_tokens(b);
  EXPECT_EQ(c.main, 20);
  double first = 0, last = 0;
  for (int step = 0; step < 60; ++step) {
    StepResult r = train_step(*m, s, opt, b, c, step);
    if (step == 0) first = r.loss;
    last = r.loss;
  }
  EXPECT_LT(last, 0.5 * first);
  int correct = 0;  // greedy answers after SFT
  for (int64_t q = 0; q < 10; ++q) {
    torch::NoGradGuard ng;
    correct += s.logits(prompt_of(q), 2, 1)[0].argmax().item<int64_t>() == (q + 3) % 10;
  }
  EXPECT_GE(correct, 8);
}

TEST(MethodSmoke, SrtCollectionAndJointTraining) {
  AlgoConfig cfg = config_for("srt", {"--srt.initial_samples=2", "--srt.revisions=3", "--srt.revise=wrong"});
  SrtMethod m(cfg, toy_context());
  TinyScorer s(12);
  // Collection: initial responses, revisions of the wrong ones after "<w>", verified ones kept.
  std::vector<RevisionCandidate> cands;
  Budget budget(cfg.budget);
  for (int64_t q = 0; q < 10; ++q)
    for (int64_t i = 0; i < m.sampling().samples_per_question; ++i) {
      Trajectory y0 = sample(s, prompt_of(q), q, i, m.sampling(), 21);
      budget.count(1, int64_t(y0.response_ids.size()));
      auto ctx = m.revision_context(y0);
      if (y0.reward > 0.5f) {
        EXPECT_FALSE(ctx.has_value());
        continue;
      }
      ASSERT_TRUE(ctx.has_value());
      EXPECT_EQ(ctx->back(), kW);
      for (int64_t k = 0; k < m.revision_sampling().samples_per_question; ++k) {
        Trajectory rev = sample(s, *ctx, q, 100 + i * 10 + k, m.revision_sampling(), 22);
        budget.count(1, int64_t(rev.response_ids.size()));
        RevisionCandidate c;
        c.question_id = q;
        c.prompt_ids = prompt_of(q);
        c.initial_ids = y0.response_ids;
        c.cue_ids = {kW};
        c.revision_ids = rev.response_ids;
        c.revision_text = std::to_string(rev.response_ids[0]);
        c.reward = rev.reward;
        cands.push_back(c);
      }
    }
  EXPECT_EQ(budget.generations(), 20 + int64_t(cands.size()));
  CollectStats st;
  auto kept = clean_revisions(cands, cfg.srt.cleanup, nullptr, &st);
  EXPECT_EQ(st.kept + st.unverified + st.duplicates, int64_t(cands.size()));
  // Training on traces: hand-made ones so the test does not depend on what a random model verified.
  Batch b;
  for (const auto& c : kept) b.srt.push_back(to_trace(c));
  for (int64_t q = 0; q < 10; ++q)
    b.srt.push_back({q, prompt_of(q), {int32_t(q), kE}, {kW}, {int32_t((q + 3) % 10), kE}, 0.f});
  const TokenCounts c = m.count_tokens(b);
  EXPECT_GT(c.main, c.aux);
  Optimizer opt(s.parameters(), cfg.optim);
  const auto start = snapshot(s);
  for (int step = 0; step < 3; ++step) EXPECT_TRUE(std::isfinite(train_step(m, s, opt, b, c, step).loss));
  EXPECT_GT(distance(start, snapshot(s)), 0);
}

// Collection samples y0 at srt.initial_top_p (0: method.top_p) and the revisions at srt.top_p.
TEST(SrtCollectionSampling, InitialAndRevisionTopPAreTheirOwnKeys) {
  SrtMethod plain(config_for("srt", {"--method.top_p=1", "--srt.initial_samples=3", "--srt.revisions=2"}), toy_context());
  EXPECT_EQ(plain.initial_sampling().top_p, 1.0);
  EXPECT_EQ(plain.initial_sampling().samples_per_question, 3);
  EXPECT_EQ(plain.revision_sampling().top_p, 0.9);
  EXPECT_EQ(plain.revision_sampling().samples_per_question, 2);
  SrtMethod released(config_for("srt", {"--method.top_p=1", "--srt.initial_top_p=0.9", "--srt.top_p=0.9"}), toy_context());
  EXPECT_EQ(released.initial_sampling().top_p, 0.9);
  EXPECT_EQ(released.sampling().top_p, 1.0);  // phase 2 and evaluation keep method.top_p
}

TEST(SrtObjectives, TermsFollowTheConfiguredObjective) {
  auto terms = [](const std::vector<std::string>& ov, int64_t step) {
    SrtMethod m(config_for("srt", ov), toy_context());
    return m.terms_at(step);
  };
  EXPECT_EQ(terms({"--srt.objective=joint"}, 0), std::make_pair(true, true));
  EXPECT_EQ(terms({"--srt.objective=revision"}, 0), std::make_pair(true, false));
  EXPECT_EQ(terms({"--srt.objective=generation"}, 0), std::make_pair(false, true));
  std::vector<std::string> seq = {"--srt.objective=sequential", "--srt.stage_steps=3"};
  EXPECT_EQ(terms(seq, 2), std::make_pair(true, false));
  EXPECT_EQ(terms(seq, 3), std::make_pair(false, true));
  seq.push_back("--srt.sequential_first=generation");
  EXPECT_EQ(terms(seq, 0), std::make_pair(false, true));
  EXPECT_EQ(terms(seq, 5), std::make_pair(true, false));
  // Without a stage length the sequential objective cannot say which stage a step is in; the
  // pipeline sets it (train.srt_epochs over the traces) before training.
  SrtMethod unset(config_for("srt", {"--srt.objective=sequential"}), toy_context());
  EXPECT_EQ(unset.stages(), 2);
  EXPECT_THROW(unset.terms_at(0), sdz::Error);
  unset.set_stage_steps(4);
  EXPECT_EQ(unset.stage_at(3), 0);
  EXPECT_EQ(unset.stage_at(4), 1);
  EXPECT_EQ(unset.terms_at(4), std::make_pair(false, true));
  EXPECT_THROW(unset.set_stage_steps(0), sdz::Error);
  EXPECT_EQ(SrtMethod(config_for("srt", {"--srt.objective=joint"}), toy_context()).stages(), 1);
}

TEST(SrtLoss, JointIsRevisionMeanPlusGenerationMean) {
  // One trace "<q>1<a> 5 <w> 4 <e>": generation targets 5 <w> 4 <e>, revision targets 4 <e>.
  TinyScorer s(13);
  SrtTrace tr{1, prompt_of(1), {5}, {kW}, {4, kE}, 0.f};
  Batch b;
  b.srt = {tr};
  Ids ids = {kQ, 1, kA, 5, kW, 4, kE};
  auto nll = token_nll(s.logits(ids, 2, 4), torch::tensor({5, kW, 4, kE}, torch::kLong));
  const double gen = nll.sum().item<double>(), rev = nll.slice(0, 2, 4).sum().item<double>();
  const TokenCounts global{8, 4};  // as if another rank had the same trace
  auto loss = [&](const std::string& obj) {
    SrtMethod m(config_for("srt", {"--srt.objective=" + obj}), toy_context());
    EXPECT_EQ(m.count_tokens(b).main, 4);
    EXPECT_EQ(m.count_tokens(b).aux, 2);
    return m.loss(s, b, global, 0).loss.item<double>();
  };
  EXPECT_NEAR(loss("joint"), gen / 8 + rev / 4, 1e-5);
  EXPECT_NEAR(loss("revision"), rev / 4, 1e-5);
  EXPECT_NEAR(loss("generation"), gen / 8, 1e-5);
}

// srt.unlikelihood: a wrong y0 "5 6" gets the row "<q>1<a> 5 6 <w> 5" that must not go on with 6,
// weighted like w revision tokens; a right y0, an unmarked trace, or a step without the revision term
// adds nothing.
TEST(SrtLoss, UnlikelihoodRowAfterWrongIsWeightedLikeRevisionTokens) {
  TinyScorer s(21);
  SrtTrace wrong{1, prompt_of(1), {5, 6, kE}, {kW}, {4, kE}, 0.f};
  wrong.avoid_at = 1, wrong.avoid_token = 6;
  Batch b;
  b.srt = {wrong};
  const Ids rev_ids = {kQ, 1, kA, 5, 6, kW, 4, kE};
  const double rev = token_nll(s.logits(rev_ids, 5, 2), torch::tensor({4, kE}, torch::kLong)).sum().item<double>();
  const Ids again = {kQ, 1, kA, 5, 6, kW, 5};
  const double p6 = torch::softmax(s.logits(again, 6, 1), -1)[0][6].item<double>();
  const TokenCounts global{10, 4};
  auto loss = [&](const Batch& batch, const std::vector<std::string>& ov, int64_t step = 0) {
    SrtMethod m(config_for("srt", ov), toy_context());
    return m.loss(s, batch, global, step);
  };
  const std::vector<std::string> ul3 = {"--srt.objective=revision", "--srt.unlikelihood=3"};
  LossOutput out = loss(b, ul3);
  EXPECT_NEAR(out.loss.item<double>(), rev / 4 + 3 * -std::log(1 - p6) / 4, 1e-5);
  EXPECT_EQ(out.stats.at("srt/unlikelihood_rows"), 1);
  EXPECT_NEAR(out.stats.at("loss/revision_unlikelihood_sum"), -std::log(1 - p6), 1e-5);
  EXPECT_NEAR(loss(b, {"--srt.objective=revision"}).loss.item<double>(), rev / 4, 1e-5);
  EXPECT_EQ(loss(b, {"--srt.objective=revision"}).stats.count("srt/unlikelihood_rows"), 0u);
  Batch right = b;
  right.srt[0].initial_reward = 1.f;
  right.srt[0].cue_ids = {kR};
  const double rev_r =
      token_nll(s.logits({kQ, 1, kA, 5, 6, kR, 4, kE}, 5, 2), torch::tensor({4, kE}, torch::kLong)).sum().item<double>();
  EXPECT_NEAR(loss(right, ul3).loss.item<double>(), rev_r / 4, 1e-5);
  Batch unmarked = b;
  unmarked.srt[0].avoid_at = -1;
  EXPECT_NEAR(loss(unmarked, ul3).loss.item<double>(), rev / 4, 1e-5);
  // The generation stage of the sequential objective trains no revision, so no unlikelihood either.
  const double gen = token_nll(s.logits(rev_ids, 2, 5), torch::tensor({5, 6, kW, 4, kE}, torch::kLong)).sum().item<double>();
  EXPECT_NEAR(loss(b, {"--srt.objective=generation", "--srt.unlikelihood=3"}).loss.item<double>(), gen / 10, 1e-5);
  // avoid_at = 0: the row ends with the cue and must not start y0 again.
  Batch first = b;
  first.srt[0].avoid_at = 0, first.srt[0].avoid_token = 5;
  const double p5 = torch::softmax(s.logits({kQ, 1, kA, 5, 6, kW}, 5, 1), -1)[0][5].item<double>();
  EXPECT_NEAR(loss(first, ul3).loss.item<double>(), rev / 4 + 3 * -std::log(1 - p5) / 4, 1e-5);
}

// A second trace copies "5 6" after "rephrase", so the revision NLL alone teaches "after 5 comes 6"
// everywhere, after "wrong" too; with the unlikelihood the reviser keeps 6 unlikely there.
TEST(SrtLoss, UnlikelihoodTeachesTheReviserToLeaveTheFailedToken) {
  auto p6_after_wrong = [](double weight) {
    TinyScorer s(22);
    SrtTrace wrong{1, prompt_of(1), {5, 6, kE}, {kW}, {4, kE}, 0.f};
    wrong.avoid_at = 1, wrong.avoid_token = 6;
    SrtTrace copy{2, prompt_of(2), {5, 6, kE}, {kR}, {5, 6, kE}, 1.f};
    Batch b;
    b.srt = {wrong, copy};
    AlgoConfig cfg = config_for("srt", {"--srt.objective=revision", "--optim.lr=0.02",
                                        "--srt.unlikelihood=" + std::to_string(weight)});
    SrtMethod m(cfg, toy_context());
    Optimizer opt(s.parameters(), cfg.optim);
    for (int step = 0; step < 60; ++step) train_step(m, s, opt, b, m.count_tokens(b), step);
    return torch::softmax(s.logits({kQ, 1, kA, 5, 6, kW, 5}, 6, 1), -1)[0][6].item<double>();
  };
  const double with = p6_after_wrong(3.0), without = p6_after_wrong(0.0);
  EXPECT_GT(without, 0.5) << "the copy did not carry over; the test shows nothing";
  EXPECT_LT(with, 0.05) << "with " << with << ", without " << without;
}

TEST(Distillation, LossUsesTheGlobalCountAndPullsTheStudentToTheTeacher) {
  AlgoConfig cfg = config_for("sdzero", {"--optim.lr=0.02"});
  SdZeroMethod m(cfg, toy_context());
  TinyScorer student(14), teacher(15);
  Batch b;
  for (int64_t q = 0; q < 6; ++q) b.trajectories.push_back(sample(student, prompt_of(q), q, 0, m.sampling(), 5));
  b.signals = score_batch(m, teacher, b);
  ASSERT_EQ(b.signals.size(), b.trajectories.size());
  EXPECT_EQ(b.signals[0].topk_ids.size(1), 8);
  const TokenCounts local = m.count_tokens(b);
  const double l1 = m.loss(student, b, local, 0).loss.item<double>();
  const double l2 = m.loss(student, b, TokenCounts{2 * local.main, 0}, 0).loss.item<double>();
  EXPECT_NEAR(l2, l1 / 2, 1e-6);
  Optimizer opt(student.parameters(), cfg.optim);
  double first = 0, last = 0;
  for (int step = 0; step < 40; ++step) {
    StepResult r = train_step(m, student, opt, b, local, step);
    if (step == 0) first = r.loss;
    last = r.loss;
  }
  EXPECT_LT(last, 0.5 * first);
  // Mismatched signals are refused.
  b.signals.pop_back();
  EXPECT_THROW(m.loss(student, b, local, 0), sdz::Error);
}

// distill.srt_replay: the phase-2 loss is KL / (global scored tokens) + w x revision NLL of the
// replayed traces / (global revision tokens), and so is its gradient; w = 0 leaves the KL alone.
TEST(Distillation, SrtReplayAddsTheRevisionNllPerGlobalRevisionToken) {
  TinyScorer student(31), teacher(32);
  SdZeroMethod kl_only(config_for("sdzero"), toy_context());
  SdZeroMethod replay(config_for("sdzero", {"--distill.srt_replay=2"}), toy_context());
  Batch b;
  for (int64_t q = 0; q < 4; ++q) b.trajectories.push_back(sample(student, prompt_of(q), q, 0, kl_only.sampling(), 7));
  b.signals = score_batch(kl_only, teacher, b);
  Batch kl_batch = b;  // without traces
  b.srt = {SrtTrace{1, prompt_of(1), {5}, {kW}, {4, kE}, 0.f}, SrtTrace{2, prompt_of(2), {6, kE}, {kR}, {6, kE}, 1.f}};
  const TokenCounts local = replay.count_tokens(b);
  EXPECT_EQ(local.main, kl_only.count_tokens(kl_batch).main);
  EXPECT_EQ(local.aux, 4);  // "4 <e>" and "6 <e>"
  const TokenCounts global{2 * local.main, 3 * local.aux};  // as if other learners held more
  // The reference: the revision NLL by hand, the KL from the method without traces.
  for (auto& p : student.parameters()) p.mutable_grad() = torch::Tensor();
  const torch::Tensor rev = token_nll(student.logits({kQ, 1, kA, 5, kW, 4, kE}, 4, 2), torch::tensor({4, kE}, torch::kLong)).sum() +
                            token_nll(student.logits({kQ, 2, kA, 6, kR, 6, kE}, 4, 2), torch::tensor({6, kE}, torch::kLong)).sum();
  LossOutput kl = kl_only.loss(student, kl_batch, global, 0);
  (kl.backward + 2 * rev / global.aux).backward();
  std::vector<torch::Tensor> want;
  for (auto& p : student.parameters()) want.push_back(p.grad().clone()), p.mutable_grad() = torch::Tensor();
  LossOutput out = replay.loss(student, b, global, 0);
  EXPECT_NEAR(out.loss.item<double>(), kl.loss.item<double>() + 2 * rev.item<double>() / global.aux, 1e-5);
  EXPECT_NEAR(out.stats.at("loss/replay_nll_sum"), rev.item<double>(), 1e-5);
  EXPECT_EQ(out.stats.at("loss/replay_tokens"), 4);
  EXPECT_EQ(out.stats.at("samples/replayed"), 2);
  EXPECT_NEAR(out.stats.at("loss/kl_sum"), kl.stats.at("loss/kl_sum"), 1e-4);
  out.backward.backward();
  size_t i = 0;
  for (auto& p : student.parameters()) EXPECT_TRUE(torch::allclose(p.grad(), want[i++], 1e-5, 1e-6));
  // Weight 0: the traces are carried and ignored.
  EXPECT_NEAR(kl_only.loss(student, b, global, 0).loss.item<double>(), kl.loss.item<double>(), 1e-6);
  // Only SD-Zero's phase 2 replays.
  EXPECT_THROW(config_for("sdft", {"--distill.srt_replay=1"}), sdz::Error);
}

TEST(SelfLocalization, ZeroForIdenticalContextsNonZeroForTheRevisionContext) {
  TinyScorer model(16);
  const Ids y = {7, 1, kE};
  ScoredLayout same = demonstration_layout(prompt_of(4), prompt_of(4), y, {kE}, 0);
  TeacherScoring sc;
  sc.top_k = 4;
  auto d0 = self_localization(student_token_logprobs(model, same), score_teacher(model, same, sc).token_logprobs);
  EXPECT_LT(d0.abs().max().item<double>(), 1e-6);
  ScoredLayout rev = revision_layout(prompt_of(4), y, {kW}, {kE}, 0);
  auto d1 = self_localization(student_token_logprobs(model, rev), score_teacher(model, rev, sc).token_logprobs);
  EXPECT_EQ(d1.size(0), 3);
  EXPECT_GT(d1.abs().max().item<double>(), 1e-4);
}

TEST(LengthLimits, TailCutIntoThePromptLeavesNoTargets) {
  TinyScorer s(17);
  Batch b;
  Trajectory t;
  t.prompt_ids = prompt_of(1);
  t.response_ids = {4, kE};
  b.trajectories = {t};
  b.srt = {{1, prompt_of(1), {5, kE}, {kW}, {4, kE}, 0.f}};
  auto sft = make_method(config_for("sft", {"--method.student_max_tokens=2"}), toy_context());
  EXPECT_EQ(sft->count_tokens(b).main, 0);
  EXPECT_EQ(sft->loss(s, b, sft->count_tokens(b), 0).loss.item<double>(), 0.0);
  auto srt = make_method(config_for("srt", {"--srt.max_tokens=2"}), toy_context());
  EXPECT_EQ(srt->count_tokens(b).main, 0);
  EXPECT_EQ(srt->loss(s, b, srt->count_tokens(b), 0).loss.item<double>(), 0.0);
  auto cut = make_method(config_for("sft", {"--method.student_max_tokens=4"}), toy_context());
  EXPECT_EQ(cut->count_tokens(b).main, 1);  // "<q>1<a>4": only the first response token
  EXPECT_GT(cut->loss(s, b, cut->count_tokens(b), 0).loss.item<double>(), 0.0);
}

// method.student_max_tokens bounds SD-Zero's, SDFT's and GRPO's student sequences too: "<q>1<a>" + "4 5 <e>"
// under a limit of 5 trains exactly as the response "4 5" would (SD-Zero's teacher reads "4 5" before the
// cue either way), and a limit inside the prompt trains nothing.
TEST(LengthLimits, StudentLimitCutsDistillationAndGrpoLikeAShorterResponse) {
  TinyScorer s(18), teacher(19);
  auto batch_of = [](const Ids& response, float reward) {
    Trajectory t;
    t.prompt_ids = prompt_of(1);
    t.response_ids = response;
    t.logprobs.assign(response.size(), -1.0f);
    t.reward = reward;
    t.advantage = 0.7f;
    t.teacher_prompt_ids = {kQ, 1, kR, 4, kE, kA};
    Batch b;
    b.trajectories = {t};
    return b;
  };
  for (const std::string name : {"sdzero", "sdft", "grpo"}) {
    auto cut = make_method(config_for(name, {"--method.student_max_tokens=5", "--grpo.kl_coef=0.1"}), toy_context());
    auto whole = make_method(config_for(name, {"--grpo.kl_coef=0.1"}), toy_context());
    for (float reward : {0.f, 1.f}) {
      Batch long_b = batch_of({4, 5, kE}, reward), short_b = batch_of({4, 5}, reward);
      long_b.signals = score_batch(*cut, teacher, long_b);
      short_b.signals = score_batch(*whole, teacher, short_b);
      EXPECT_EQ(cut->count_tokens(long_b).main, 2) << name;
      EXPECT_EQ(whole->count_tokens(long_b).main, 3) << name;
      const double a = cut->loss(s, long_b, cut->count_tokens(long_b), 0).loss.item<double>();
      const double b = whole->loss(s, short_b, whole->count_tokens(short_b), 0).loss.item<double>();
      EXPECT_NEAR(a, b, 1e-6) << name << " reward " << reward;
      EXPECT_NE(a, 0.0) << name;
    }
    auto none = make_method(config_for(name, {"--method.student_max_tokens=2", "--grpo.kl_coef=0.1"}), toy_context());
    Batch b = batch_of({4, 5, kE}, 0.f);
    b.signals = score_batch(*none, teacher, b);
    EXPECT_EQ(none->count_tokens(b).main, 0) << name;
  }
}
