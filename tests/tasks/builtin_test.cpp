// Built-in tasks: deterministic generation, worked solutions verify, wrong attempts never verify,
// corrections use the failed attempt and verify, adversarial responses get reward 0 with a reason.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "sdzero/core/rng.hpp"
#include "sdzero/core/strings.hpp"
#include "sdzero/tasks/builtin.hpp"
#include "sdzero/tasks/equation.hpp"
#include "sdzero/tasks/exact_expr.hpp"

using namespace sdz::tasks;

TEST(Builtin, ToyStudyFormatsVerbatim) {
  EXPECT_EQ(make_builtin_task("div")->solution({"456/8", "456/8", "57"}), "57*8=456");
  EXPECT_EQ(make_builtin_task("mul")->solution({"4721*8", "4721*8", ""}),
            "1*8+0=08|2*8+0=16|7*8+1=57|4*8+5=37|#37768");
  EXPECT_EQ(make_builtin_task("arith")->solution({"37+5*12-8", "", ""}), "5*12=60|37+60=97|97-8=89|#89");
  std::string cd = make_builtin_task("cd")->solution({"3,7,2,9>21", "", ""});
  EXPECT_EQ(verify_builtin("cd", cd, "3,7,2,9>21").reward, 1.0) << cd;
  EXPECT_EQ(verify_builtin("cd", "3*7=21", "3,7,2,9>21").reward, 1.0);
  EXPECT_EQ(verify_builtin("div", "57*8=456", "456/8").reward, 1.0);
  EXPECT_EQ(verify_builtin("mul", "1*8+0=08|2*8+0=16|7*8+1=57|4*8+5=37|#37768", "4721*8").reward, 1.0);
}

TEST(Builtin, GenerationIsAPureFunctionOfTheSeed) {
  for (const auto& name : builtin_task_names()) {
    auto t = make_builtin_task(name);
    std::set<std::string> distinct;
    for (uint64_t i = 0; i < 50; ++i) {
      uint64_t seed = sdz::key_seed({7, 1, i});
      Problem a = t->generate(seed), b = t->generate(seed);
      EXPECT_EQ(a.question, b.question) << name;
      EXPECT_EQ(a.target, b.target);
      EXPECT_EQ(t->wrong_attempt(a, seed), t->wrong_attempt(b, seed));
      distinct.insert(a.question);
    }
    EXPECT_GT(distinct.size(), 10u) << name;
  }
}

TEST(Builtin, SolutionsVerifyWrongAttemptsDoNotCorrectionsDo) {
  for (const auto& name : builtin_task_names()) {
    auto t = make_builtin_task(name);
    for (uint64_t i = 0; i < 300; ++i) {
      Problem p = t->generate(sdz::key_seed({11, i}));
      std::string sol = t->solution(p);
      Verdict v = t->verify(sol, p.target);
      ASSERT_EQ(v.reward, 1.0) << name << " " << p.question << " -> " << sol << ": " << v.reason;
      std::string wrong = t->wrong_attempt(p, sdz::key_seed({12, i}));
      if (name == "cd" && wrong.empty()) continue;  // every pair hits the target: no wrong candidate
      Verdict w = t->verify(wrong, p.target);
      ASSERT_EQ(w.reward, 0.0) << name << " " << p.question << " wrong " << wrong;
      EXPECT_FALSE(w.reason.empty());
      std::string fix = t->correction(p, wrong);
      Verdict c = t->verify(fix, p.target);
      ASSERT_EQ(c.reward, 1.0) << name << " " << p.question << " after " << wrong << " -> " << fix << ": " << c.reason;
    }
  }
}

TEST(Builtin, DivCorrectionMovesTheQuotientByTheGap) {
  auto t = make_builtin_task("div");
  Problem p{"456/8", "456/8", "57"};
  EXPECT_EQ(t->correction(p, "56*8=448"), "456-448=8|8/8=1|56+1=57|57*8=456");
  EXPECT_EQ(t->correction(p, "60*8=480"), "480-456=24|24/8=3|60-3=57|57*8=456");
  // A wrong written value: the correction works from the true product of the guessed quotient.
  EXPECT_EQ(t->correction(p, "55*8=450"), "456-440=16|16/8=2|55+2=57|57*8=456");
  EXPECT_EQ(t->correction(p, "garbage"), "57*8=456");
  std::string w = t->wrong_attempt(p, 3);
  auto e = last_equation(w);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->b, 8);
  EXPECT_EQ(e->v, e->a * 8) << "near misses carry their true value";
  EXPECT_LE(std::abs(e->a - 57), 3);
}

// cd's correction keeps what the failed attempt got right, in the one-equation format the generator
// writes. 3,7,2,9>6 has two answers: 3*2=6 (the worked solution, first in order) and 9-3=6.
TEST(Builtin, CdCorrectionIsTheAnswerNearestTheFailedAttempt) {
  auto t = make_builtin_task("cd");
  Problem p{"3,7,2,9>6", "3,7,2,9>6", "6"};
  EXPECT_EQ(t->solution(p), "3*2=6");
  EXPECT_EQ(t->correction(p, "9-3=5"), "9-3=6");   // a slip: its own equation with the true value
  EXPECT_EQ(t->correction(p, "9+3=12"), "9-3=6");  // the same two numbers, another operator
  EXPECT_EQ(t->correction(p, "3*9=27"), "9-3=6");  // both numbers outweigh the operator
  EXPECT_EQ(t->correction(p, "2*7=14"), "3*2=6");  // one number and the operator kept
  EXPECT_EQ(t->correction(p, "7+9=16"), "9-3=6");  // one number kept
  EXPECT_EQ(t->correction(p, "7+7=14"), "3*2=6");  // nothing shared: the worked solution
  EXPECT_EQ(t->correction(p, "garbage"), "3*2=6");
}

// cd's correct responses: every equation that verifies, each commuting one in both orders; each
// verifies and nothing else of the same two-number form does. The other tasks: the worked solution.
TEST(Builtin, CdCorrectResponsesAreEveryEquationThatVerifies) {
  auto t = make_builtin_task("cd");
  Problem p{"3,7,2,9>6", "3,7,2,9>6", "6"};
  EXPECT_EQ(t->correct_responses(p), (std::vector<std::string>{"3*2=6", "2*3=6", "9-3=6"}));
  sdz::Rng r(7);
  for (int i = 0; i < 200; ++i) {
    Problem q = t->generate(r.next());
    const auto all = t->correct_responses(q);
    ASSERT_FALSE(all.empty()) << q.question;
    std::vector<int64_t> n;
    int64_t target = 0;
    ASSERT_TRUE(parse_numbers_target(q.question, n, target));
    std::set<std::string> verified;  // repeated numbers write the same equation twice
    for (size_t a = 0; a < n.size(); ++a)
      for (size_t b = 0; b < n.size(); ++b)
        for (char op : std::string("+-*")) {
          if (a == b) continue;
          const int64_t v = op == '+' ? n[a] + n[b] : op == '-' ? n[a] - n[b] : n[a] * n[b];
          const std::string eq = std::to_string(n[a]) + op + std::to_string(n[b]) + "=" + std::to_string(v);
          const bool ok = verify_builtin("cd", eq, q.target).reward > 0.5;
          const bool listed = std::find(all.begin(), all.end(), eq) != all.end();
          EXPECT_EQ(ok, listed) << q.question << " " << eq;
          if (ok) verified.insert(eq);
        }
    EXPECT_EQ(verified.size(), all.size()) << q.question;
  }
  auto div = make_builtin_task("div");
  Problem d{"456/8", "456/8", "57"};
  EXPECT_EQ(div->correct_responses(d), std::vector<std::string>{"57*8=456"});
}

// cd with data.demo_style = other: where several equations hit the target, another correct one than
// the worked solution (the same for the same question), in the same notation; one answer: that one.
TEST(Builtin, CdOtherStyleDemonstrationsAreAnotherCorrectEquation) {
  TaskKnobs k;
  k.demo_other_style = true;
  auto t = make_builtin_task("cd", k);
  EXPECT_TRUE(t->has_other_style_demonstrations());
  Problem several{"3,7,2,9>6", "3,7,2,9>6", "6"};  // 3*2=6 (the worked solution), 9-3=6
  EXPECT_EQ(t->solution(several), "3*2=6");
  EXPECT_EQ(t->demonstration(several), "9-3=6");
  EXPECT_EQ(make_builtin_task("cd")->demonstration(several), "3*2=6");
  Problem one{"3,7,2,9>63", "3,7,2,9>63", "63"};  // only 7*9
  EXPECT_EQ(t->demonstration(one), "7*9=63");
  sdz::Rng r(5);
  int differ = 0;
  for (int i = 0; i < 300; ++i) {
    Problem q = t->generate(r.next());
    const std::string d = t->demonstration(q);
    EXPECT_EQ(verify_builtin("cd", d, q.target).reward, 1.0) << q.question << " " << d;
    EXPECT_EQ(d, t->demonstration(q));
    differ += d != t->solution(q);
  }
  EXPECT_GT(differ, 60);   // several answers are common (about half of the questions) ...
  EXPECT_LT(differ, 240);  // ... but not universal
}

// data.cd_ops: questions, worked solutions, wrong attempts and corrections use only the chosen
// operators; the default draws the same questions as before the key existed (every set has '+', so
// the first draw always has a candidate); the verifier still accepts any of + - *.
TEST(Builtin, CdOpsRestrictTheCandidateEquations) {
  TaskKnobs plus_times;
  plus_times.cd_numbers = 3;
  plus_times.cd_ops = "+*";
  TaskKnobs all = plus_times;
  all.cd_ops = "+-*";
  auto t = make_builtin_task("cd", plus_times), u = make_builtin_task("cd", all);
  TaskKnobs minus = plus_times;
  minus.cd_ops = "-";
  auto m = make_builtin_task("cd", minus);
  sdz::Rng r(11);
  int differ = 0;
  for (int i = 0; i < 300; ++i) {
    const uint64_t seed = r.next();
    Problem q = t->generate(seed);
    const std::string w = t->solution(q), wrong = t->wrong_attempt(q, seed), fix = t->correction(q, wrong);
    ASSERT_FALSE(w.empty()) << q.question;
    for (const std::string& e : {w, wrong, fix}) {
      if (e.empty()) continue;  // no wrong equation exists (2,2,2>4: 2+2 and 2*2 both hit)
      auto eq = last_equation(e);
      ASSERT_TRUE(eq) << q.question << " " << e;
      EXPECT_NE(eq->op, '-') << q.question << " " << e;
    }
    EXPECT_EQ(verify_builtin("cd", w, q.target).reward, 1.0) << q.question << " " << w;
    EXPECT_EQ(verify_builtin("cd", fix, q.target).reward, 1.0) << q.question << " " << fix;
    differ += q.question != u->generate(seed).question;  // '-' adds targets, so the sets differ
    Problem d = m->generate(seed);  // only '-': numbers that are all equal are drawn again
    EXPECT_EQ(last_equation(m->solution(d))->op, '-') << d.question;
  }
  EXPECT_GT(differ, 0);
  EXPECT_EQ(verify_builtin("cd", "9-2=7", "3,9,2>7").reward, 1.0);  // '-' still verifies
  TaskKnobs def;
  def.cd_numbers = 3;
  auto d = make_builtin_task("cd", def);
  EXPECT_EQ(d->generate(42).question, u->generate(42).question);
}

// data.demo_style = other: long division by tens and units, every step true, the same answer last; the
// worked solution (pretraining, correction) is unchanged; own style is the worked solution.
TEST(Builtin, DivOtherStyleDemonstrationsReachTheSameAnswer) {
  TaskKnobs k;
  k.demo_other_style = true;
  auto t = make_builtin_task("div", k);
  Problem p{"456/8", "456/8", "57"};
  EXPECT_EQ(t->demonstration(p), "8*50=400|456-400=56|8*7=56|50+7=57");
  EXPECT_EQ(t->solution(p), "57*8=456");
  EXPECT_EQ(make_builtin_task("div")->demonstration(p), "57*8=456");
  EXPECT_FALSE(make_builtin_task("mul")->has_other_style_demonstrations());
  EXPECT_FALSE(make_builtin_task("countdown")->has_other_style_demonstrations());
  sdz::Rng r(11);
  for (int i = 0; i < 200; ++i) {
    Problem q = t->generate(r.next());
    const std::string d = t->demonstration(q);
    auto steps = sdz::split(d, '|');
    ASSERT_EQ(steps.size(), 4u) << d;
    for (const auto& st : steps) {
      auto e = last_equation(st);
      ASSERT_TRUE(e) << st;
      const int64_t v = e->op == '*' ? e->a * e->b : e->op == '+' ? e->a + e->b : e->a - e->b;
      EXPECT_EQ(e->v, v) << st << " in " << d;
    }
    EXPECT_EQ(std::to_string(last_equation(steps.back())->v), q.answer) << d;
    EXPECT_EQ(t->verify(d, q.target).reward, 0.0) << "not a valid answer itself: the teacher must read it";
  }
}

TEST(Builtin, MulWrongAttemptCorruptsOneStepAndPropagates) {
  auto t = make_builtin_task("mul");
  Problem p{"4721*8", "4721*8", "37768"};
  std::string good = t->solution(p);
  for (uint64_t s = 0; s < 40; ++s) {
    std::string w = t->wrong_attempt(p, s);
    auto gs = sdz::split(good, '|'), ws = sdz::split(w, '|');
    ASSERT_EQ(gs.size(), ws.size()) << w;
    size_t first = 0;
    while (gs[first] == ws[first]) ++first;
    ASSERT_LT(first, gs.size() - 1) << "a step, not only the final answer, differs: " << w;
    std::string fix = t->correction(p, w);
    // The correction restarts at the first wrong step: it is the worked solution's suffix.
    EXPECT_TRUE(sdz::ends_with(good, fix)) << w << " -> " << fix;
    EXPECT_EQ(sdz::split(fix, '|').size(), gs.size() - first) << w << " -> " << fix;
  }
  EXPECT_EQ(t->correction(p, good.substr(0, good.rfind('#')) + "#37769"), "#37768");
}

TEST(Builtin, ArithKnobsControlDifficulty) {
  TaskKnobs k;
  k.arith_ops = 6;
  k.arith_max = 9;
  k.arith_mul = false;
  auto t = make_builtin_task("arith", k);
  for (uint64_t i = 0; i < 50; ++i) {
    Problem p = t->generate(i);
    EXPECT_EQ(std::count_if(p.question.begin(), p.question.end(), [](char c) { return c == '+' || c == '-'; }), 6)
        << p.question;
    EXPECT_EQ(p.question.find('*'), std::string::npos);
    std::string sol = t->solution(p);
    EXPECT_EQ(std::count(sol.begin(), sol.end(), '|'), 6);
  }
  k.mul_digits = 7;
  auto m = make_builtin_task("mul", k);
  EXPECT_EQ(m->generate(5).question.find('*'), 7u);
}

TEST(Builtin, AdversarialResponsesScoreZeroWithAReason) {
  const std::vector<std::string> junk = {"", "=", "*=", "57*8=", "57*8=456456456456456456456456", "#", "#-",
                                         "#99999999999999999999", "((((((((", std::string(100000, '('),
                                         std::string(50000, '9') + "*8=1", "\xff\xfe\x00\x01", "57 * 8 = 456",
                                         "#(1+2", "#1/0", "#)"};
  for (const auto& name : builtin_task_names()) {
    auto t = make_builtin_task(name);
    Problem p = t->generate(99);
    for (const auto& j : junk) {
      Verdict v = t->verify(j, p.target);
      EXPECT_EQ(v.reward, 0.0) << name << " " << j.substr(0, 30);
      EXPECT_FALSE(v.reason.empty());
    }
    EXPECT_EQ(t->verify(t->solution(p), "garbage target").reward, 0.0);
  }
  EXPECT_EQ(verify_builtin("nope", "x", "y").reward, 0.0);
}

TEST(Builtin, DivRules) {
  EXPECT_EQ(verify_builtin("div", "first 56*8=448 then 57*8=456", "456/8").reward, 1.0);
  EXPECT_EQ(verify_builtin("div", "8*57=456", "456/8").reward, 1.0);
  EXPECT_EQ(verify_builtin("div", "57*8=456 then 56*8=448", "456/8").reason, "value 448 is not the target 456");
  EXPECT_EQ(verify_builtin("div", "57*8=446", "456/8").reward, 0.0);
  EXPECT_EQ(verify_builtin("div", "456*1=456", "456/8").reward, 0.0);
  EXPECT_EQ(verify_builtin("div", "57+8=456", "456/8").reward, 0.0);
}

TEST(Builtin, CdUsesEachNumberOnceAndTheTrueValue) {
  EXPECT_EQ(verify_builtin("cd", "7*3=21", "3,7,2,9>21").reward, 1.0);
  EXPECT_EQ(verify_builtin("cd", "3*3=9", "3,7,2,9>9").reward, 0.0);  // only one 3
  EXPECT_EQ(verify_builtin("cd", "3*3=9", "3,3,2,9>9").reward, 1.0);
  EXPECT_EQ(verify_builtin("cd", "3*7=20", "3,7,2,9>20").reward, 0.0);  // written value is false
  EXPECT_EQ(verify_builtin("cd", "5*4=20", "3,7,2,9>20").reward, 0.0);  // numbers not given
  EXPECT_EQ(verify_builtin("cd", "9-7=2", "3,7,2,9>2").reward, 1.0);
  EXPECT_EQ(verify_builtin("cd", "9/3=3", "3,7,2,9>3").reward, 0.0);
}

TEST(Builtin, CountdownParsesAndEvaluatesExactly) {
  const std::string t = "25,50,3,7,8,1>356";
  EXPECT_EQ(verify_builtin("countdown", "#(50-3)*8-25+1+4", t).reward, 0.0);  // 4 not given
  EXPECT_EQ(verify_builtin("countdown", "#(50-3)*8-25-1", t).reward, 0.0);    // 350
  EXPECT_EQ(verify_builtin("countdown", "steps|#(50-3)*8-25+1-(7-7)", t).reward, 0.0);  // 7 twice
  EXPECT_EQ(verify_builtin("countdown", "#50*7+8-3+1", t).reward, 1.0);  // 356
  EXPECT_EQ(verify_builtin("countdown", "#50 × 7 + 8 - 3 + 1", t).reward, 1.0);
  EXPECT_EQ(verify_builtin("countdown", "so \\boxed{50*7+8-3+1}", t).reward, 1.0);
  EXPECT_EQ(verify_builtin("countdown", "50*7+8-3+1=356", t).reward, 1.0);
  EXPECT_EQ(verify_builtin("countdown", "#(50*7*8+8*3-3)/8", "25,50,3,7,8,8,3>353").reward, 0.0);  // 2803.875
  EXPECT_EQ(verify_builtin("countdown", "#25/(8-8)", "25,8,8>1").reason, "cannot evaluate: division by zero");
  EXPECT_EQ(verify_builtin("countdown", "#-25+50", "25,50>25").reward, 0.0);
  EXPECT_EQ(verify_builtin("countdown", "#(25+50", "25,50>75").reward, 0.0);
  EXPECT_EQ(verify_builtin("countdown", "#25+50)", "25,50>75").reward, 0.0);
  EXPECT_EQ(verify_builtin("countdown", "#" + std::string(300, '(') + "1" + std::string(300, ')'), "1>1").reason,
            "cannot evaluate: nesting too deep");
  EXPECT_EQ(verify_builtin("countdown", "#100*100*100*100*100*100*100*100*100*100*100",
                           "100,100,100,100,100,100,100,100,100,100,100>1").reason,
            "cannot evaluate: number too large");
  // Fractions are allowed on the way if the value is the target: (7/2)*2 = 7.
  EXPECT_EQ(verify_builtin("countdown", "#7/2*2", "7,2,2>7").reward, 1.0);
}

TEST(Builtin, ExactExpressionEvaluator) {
  auto v = eval_exact("(1+2)*3/4");
  ASSERT_TRUE(v.ok);
  EXPECT_EQ(v.num, 9);
  EXPECT_EQ(v.den, 4);
  EXPECT_EQ(v.literals, (std::vector<int64_t>{1, 2, 3, 4}));
  EXPECT_FALSE(eval_exact("").ok);
  EXPECT_FALSE(eval_exact("1+").ok);
  EXPECT_FALSE(eval_exact("1 2").ok);
  EXPECT_FALSE(eval_exact(std::string(5000, '1')).ok);
}

TEST(Builtin, FuzzedResponsesNeverCrash) {
  sdz::Rng r(2024);
  const std::string alphabet = "0123456789+-*/=|#()>, \\boxed{}x";
  for (const auto& name : builtin_task_names()) {
    auto t = make_builtin_task(name);
    for (int i = 0; i < 3000; ++i) {
      std::string s(size_t(r.randint(0, 60)), ' ');
      for (auto& c : s) c = alphabet[size_t(r.randint(0, int64_t(alphabet.size()) - 1))];
      Problem p = t->generate(uint64_t(i));
      Verdict v = t->verify(s, p.target);
      EXPECT_TRUE(v.reward == 0.0 || v.reward == 1.0);
      t->correction(p, s);
    }
  }
}

TEST(Builtin, CountdownTargetsFollowTheKnobsAndQuestionsFromFilesAreSolved) {
  TaskKnobs k;
  k.countdown_numbers = 5;
  k.countdown_target_min = 20;
  k.countdown_target_max = 60;
  auto t = make_builtin_task("countdown", k);
  int in_range = 0;
  for (uint64_t i = 0; i < 40; ++i) {
    Problem p = t->generate(sdz::key_seed({3, i}));
    std::vector<int64_t> nums;
    int64_t target = 0;
    ASSERT_TRUE(parse_numbers_target(p.question, nums, target));
    EXPECT_EQ(nums.size(), 5u);
    in_range += target >= 20 && target <= 60;
    // A question read back from a file carries no worked solution: the solver finds one.
    Problem bare(p.question, p.target, "");
    std::string sol = t->solution(bare);
    EXPECT_EQ(t->verify(sol, p.target).reward, 1.0) << p.question << " -> " << sol;
  }
  EXPECT_GE(in_range, 38);
}
