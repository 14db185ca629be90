// The first-error hook of the self-localization diagnostic, on hand-made and generated responses.
#include <gtest/gtest.h>

#include "sdzero/core/rng.hpp"
#include "sdzero/tasks/builtin.hpp"

using namespace sdz::tasks;

TEST(FirstError, MulByHand) {
  const std::string q = "4721*8";
  const std::string good = "1*8+0=08|2*8+0=16|7*8+1=57|4*8+5=37|#37768";
  EXPECT_EQ(first_error_position("mul", good, q), -1);
  // Step 2 value 17 instead of 16: "1*8+0=08|" is 9 characters, then "2*8+0=1" puts '7' at 16.
  EXPECT_EQ(first_error_position("mul", "1*8+0=08|2*8+0=17|7*8+1=57|4*8+5=37|#37778", q), 16);
  // A wrong carry is an error before any value is written.
  EXPECT_EQ(first_error_position("mul", "1*8+0=08|2*8+1=17|", q), 13);
  // The wrong digit of the multiplicand.
  EXPECT_EQ(first_error_position("mul", "1*8+0=08|7*8+0=56|", q), 9);
  // Stopped early: the error is the end of the response.
  EXPECT_EQ(first_error_position("mul", "1*8+0=08|2*8", q), 12);
  EXPECT_EQ(first_error_position("mul", "", q), 0);
  // Went on past the answer (here: a cue and a copy).
  EXPECT_EQ(first_error_position("mul", good + "<r>" + good, q), int64_t(good.size()));
}

TEST(FirstError, MatchesTheCorruptedStepOfGeneratedWrongAttempts) {
  auto task = make_builtin_task("mul");
  for (uint64_t seed = 0; seed < 200; ++seed) {
    Problem p = task->generate(sdz::key_seed({seed, 1}));
    const std::string sol = task->solution(p), wrong = task->wrong_attempt(p, sdz::key_seed({seed, 2}));
    auto fe = first_error_position("mul", wrong, p.question);
    ASSERT_TRUE(fe.has_value());
    ASSERT_GE(*fe, 0) << wrong;
    // Everything before the first error agrees with the worked solution; the character at it does not.
    EXPECT_EQ(wrong.substr(0, size_t(*fe)), sol.substr(0, size_t(*fe)));
    ASSERT_LT(size_t(*fe), wrong.size());
    EXPECT_NE(wrong[size_t(*fe)], sol[size_t(*fe)]);
    // The corruption moves a step's value: the error sits right after an '=' of some step.
    const size_t eq = wrong.rfind('=', size_t(*fe));
    ASSERT_NE(eq, std::string::npos);
    EXPECT_LE(size_t(*fe) - eq, 2u) << wrong << " vs " << sol;
    EXPECT_EQ(first_error_position("mul", sol, p.question), -1);
  }
}

TEST(FirstError, DivAndArithAndTasksWithoutAUniqueSolution) {
  EXPECT_EQ(first_error_position("div", "57*8=456", "456/8"), -1);
  EXPECT_EQ(first_error_position("div", "56*8=448", "456/8"), 1);
  auto arith = make_builtin_task("arith");
  Problem p = arith->generate(7);
  EXPECT_EQ(first_error_position("arith", arith->solution(p), p.question), -1);
  EXPECT_TRUE(has_first_error_hook("mul"));
  EXPECT_FALSE(has_first_error_hook("cd"));
  EXPECT_EQ(first_error_position("cd", "3*7=21", "3,7,2,9>21"), std::nullopt);
  EXPECT_EQ(first_error_position("countdown", "x", "1,2>3"), std::nullopt);
  EXPECT_EQ(first_error_position("nope", "x", "y"), std::nullopt);
  EXPECT_EQ(first_error_position("mul", "1*8", "not a question"), std::nullopt);
}
