// Math verifier: extraction, every normalisation and equivalence rule (>= 150 table cases), time
// limit, and random/adversarial strings that must neither crash nor hang.
#include <gtest/gtest.h>

#include <chrono>

#include "sdzero/core/rng.hpp"
#include "sdzero/tasks/math.hpp"

using namespace sdz::tasks;

struct ExtractCase {
  const char* response;
  const char* answer;
};

TEST(MathExtract, BoxedThenAnswerIsThenLastNumber) {
  const ExtractCase cases[] = {
      {"so \\boxed{42}.", "42"},
      {"$\\boxed{\\frac{1}{2}}$", "\\frac{1}{2}"},
      {"\\boxed{1} no wait \\boxed{2}", "2"},
      {"\\boxed{\\left\\{ 1, 2 \\right\\}}", "\\left\\{ 1, 2 \\right\\}"},
      {"\\boxed{{a}{b}}", "{a}{b}"},
      {"\\boxed 5 is it", "5"},
      {"\\fbox{7}", "7"},
      {"The answer is 12.", "12"},
      {"so the answer is: $\\frac{3}{4}$.\nDone", "\\frac{3}{4}"},
      {"I have 3 apples and then 17", "17"},
      {"total 1,234 items", "1,234"},
      {"it is -5", "-5"},
      {"ratio 3/4", "3/4"},
      {"value 2.75.", "2.75"},
      {"\\boxed{1 and more", "1"},
      {"no digits here", ""},
      {"", ""},
  };
  for (const auto& c : cases) EXPECT_EQ(extract_math_answer(c.response), c.answer) << c.response;
}

struct EqCase {
  const char* ref;
  const char* got;
  bool equal;
};

// Each group names the rule it exercises.
const EqCase kCases[] = {
    // exact match and LaTeX normalisation
    {"42", "42", true}, {"42", "43", false}, {"\\frac{1}{2}", "\\dfrac{1}{2}", true},
    {"\\frac{1}{2}", "\\tfrac{1}{2}", true}, {"\\frac12", "\\frac{1}{2}", true}, {"\\sqrt{2}", "\\sqrt2", true},
    {"\\left(1,2\\right)", "(1,2)", true}, {"10\\!000", "10000", true}, {"1\\,000", "1000", true},
    {"\\text{5}", "5", true}, {"5\\text{ cm}", "5", true}, {"90^\\circ", "90", true}, {"90^{\\circ}", "90", true},
    {"50\\%", "50", true}, {"50%", "50", true}, {"\\$5", "5", true}, {"5 dollars", "5", true},
    {"12 square units", "12", true}, {"3 cm^2", "3", true}, {"x = 5", "5", true}, {"x=5", "5", true},
    {"y=2x+3", "2x+3", true}, {"5.", "5", true}, {"5,", "5", true}, {"1,000", "1000", true},
    {"1,000,000", "1000000", true}, {"1,234.5", "1234.5", true}, {"\\displaystyle\\frac{1}{2}", "1/2", true},
    {"\\mathrm{5}", "5", true}, {"\\textbf{yes}", "Yes", true}, {"$\\frac{1}{2}$", "0.5", true}, {"{5}", "5", true},
    {"\\$1,000", "1000", true}, {"1000 \\text{ dollars}", "1,000", true}, {"3 \\text{ meters}", "3", true},
    {"k = 7", "7", true}, {"f(x)=x^2", "x^2", true}, {"(1,\\ 2)", "(1,2)", true}, {"1{,}000", "1000", true},
    {"75\\%", "75", true}, {"\\text{even}", "Even", true}, {"\\left[ 0, 1 \\right]", "[0,1]", true},
    {"\\frac{1}{2}\\,\\text{m}", "0.5", true}, {"5\\ \\text{inches}", "5", true}, {"\\boxed{5}", "5", true},
    {"2\\text{ or }3", "2,3", true}, {"\\mbox{12}", "12", true}, {"\\operatorname{7}", "7", true},
    // exact rational arithmetic: integers, decimals, fractions, scientific notation
    {"0.5", "\\frac{1}{2}", true}, {"0.5", "1/2", true}, {"2/4", "1/2", true}, {"-\\frac{1}{2}", "\\frac{-1}{2}", true},
    {"-0.5", "-1/2", true}, {"0.25", "\\frac14", true}, {"1.5e3", "1500", true}, {"1.5\\times10^{3}", "1500", true},
    {"1.5 \\cdot 10^3", "1500", true}, {"2.5E-2", "0.025", true}, {"1e6", "1000000", true}, {"0.333", "1/3", false},
    {"0.3333333", "\\frac{1}{3}", false}, {"3", "3.0", true}, {"3.000", "3", true}, {"007", "7", true},
    {"-0", "0", true}, {"1/2", "2/1", false}, {"12345678901234567890", "12345678901234567891", false},
    {"12345678901234567890", "12345678901234567890.0", true}, {"\\frac{3}{4}", "0.75", true},
    {"\\frac{3}{4}", "\\frac{6}{8}", true}, {"-\\frac{3}{2}", "-1.5", true}, {"\\frac{-3}{2}", "-1.5", true},
    {"1.50", "1.5", true}, {"\\dfrac{1}{3}", "\\frac{2}{6}", true}, {"2\\times3", "6", true}, {"12 \\div 4", "3", true},
    {"\\frac{1}{2}+\\frac{1}{3}", "\\frac{5}{6}", true}, {"\\tfrac{5}{2}", "2.5", true}, {"100", "1e2", true},
    {"8", "8.0001", false}, {"1000000", "1000001", false}, {"10^{9}+7", "1000000007", true},
    {"\\frac{2}{3}", "0.6667", false}, {"2^{10}", "1024", true}, {"2^10", "1024", true}, {"3^{-2}", "\\frac19", true},
    {"10^{-3}", "0.001", true}, {"5!", "120", true}, {"\\binom{5}{2}", "10", true}, {"\\dbinom{6}{3}", "20", true},
    {"\\sqrt{16}", "4", true}, {"\\sqrt{\\frac{1}{4}}", "0.5", true}, {"4^{0.5}", "2", true}, {"|-3|", "3", true},
    {"0.1+0.2", "0.3", true}, {"\\frac{7}{1}", "7", true},
    // numeric evaluation with tolerance: sqrt, pi, powers, functions
    {"\\sqrt{2}/2", "\\frac{1}{\\sqrt{2}}", true}, {"\\sqrt{8}", "2\\sqrt{2}", true}, {"2\\sqrt{2}", "2.8284271247", true},
    {"\\pi", "3.14159265358979", true}, {"\\pi", "3.14", false}, {"2\\pi", "\\pi\\cdot2", true},
    {"\\frac{\\pi}{2}", "\\pi/2", true}, {"\\sqrt[3]{8}", "2", true}, {"e^2", "\\exp(2)", true}, {"\\ln(e)", "1", true},
    {"\\log_{2}8", "3", true}, {"\\sin(\\pi/6)", "1/2", true}, {"\\cos(0)", "1", true}, {"\\sqrt{12}", "3.46", false},
    {"2^{100}", "1267650600228229401496703205376", true}, {"\\frac{\\sqrt{3}}{2}", "0.8660254", true},
    {"1+\\sqrt{2}", "\\sqrt{2}+1", true}, {"\\sqrt{2}", "-\\sqrt{2}", false}, {"2^{1/2}", "\\sqrt{2}", true},
    {"\\frac{\\sqrt{5}-1}{2}", "0.6180339887", true}, {"\\frac{\\sqrt{5}-1}{2}", "0.618", false},
    {"\\sqrt{2}\\cdot\\sqrt{3}", "\\sqrt{6}", true}, {"\\left(\\frac{1}{2}\\right)^{2}", "0.25", true},
    {"\\frac{1}{\\sqrt{3}}", "\\frac{\\sqrt{3}}{3}", true}, {"45^\\circ", "\\frac{\\pi}{4}", false},
    // symbolic: variables sampled at rational points
    {"x^2+2x+1", "(x+1)^2", true}, {"2x", "x+x", true}, {"x^2-1", "(x-1)(x+1)", true}, {"x+y", "y+x", true},
    {"x", "y", false}, {"2a+b", "a+2b", false}, {"\\frac{x}{2}", "0.5x", true}, {"3i+4", "4+3i", true},
    {"\\alpha+1", "1+\\alpha", true}, {"x_1+x_2", "x_2+x_1", true}, {"n(n+1)/2", "\\frac{n^2+n}{2}", true},
    {"\\pi r^2", "r^2\\pi", true}, {"\\pi r^2", "\\pi r", false}, {"2^{x}", "2^x", true},
    {"\\sin^2 x+\\cos^2 x", "1", true}, {"(a+b)^2", "a^2+b^2", false}, {"\\frac{1}{x}", "x^{-1}", true},
    // tuples: element-wise, in order, same brackets
    {"(1,2)", "(1, 2)", true}, {"(1,2)", "(2,1)", false}, {"(1,2)", "[1,2]", false}, {"(\\frac12, 3)", "(0.5,3)", true},
    {"(1,2,3)", "(1,2)", false}, {"\\left( 3, \\frac{\\pi}{2} \\right)", "(3,\\pi/2)", true},
    {"(1,(2,3))", "(1,(2,3))", true}, {"(1,(2,3))", "(1,(3,2))", false}, {"(x,y)", "(x, y)", true},
    // intervals: bracket kinds matter, unions are order-insensitive
    {"[1,2)", "[1,2)", true}, {"[1,2)", "[1,2]", false}, {"(-\\infty,3]", "(-\\infty, 3]", true},
    {"(-\\infty,3)", "(-\\infty,3]", false}, {"[0.5,1]", "[\\frac12,1]", true},
    {"(-\\infty,1)\\cup(2,\\infty)", "(2,\\infty)\\cup(-\\infty,1)", true},
    {"(-\\infty,1)\\cup(2,\\infty)", "(-\\infty,1)\\cup(3,\\infty)", false}, {"(0,\\infty)", "(0,\\infty)", true},
    // sets: order-insensitive
    {"\\{1,2,3\\}", "\\{3,2,1\\}", true}, {"\\{1,2\\}", "\\{1,2,3\\}", false}, {"\\left\\{1,2\\right\\}", "\\{2,1\\}", true},
    {"\\{1,2\\}", "(1,2)", false}, {"\\{\\frac12, 2\\}", "\\{2, 0.5\\}", true}, {"\\{1,1\\}", "\\{1,2\\}", false},
    // bare lists of alternatives: order-insensitive, "x =" prefixes per element
    {"1, 2", "2, 1", true}, {"x=2, x=3", "3,2", true}, {"2 \\text{ or } 3", "3, 2", true}, {"1,2", "1,3", false},
    {"2 and 3", "2,3", true}, {"-1, 1", "1,-1", true},
    // words and choices
    {"\\text{Yes}", "yes", true}, {"No", "yes", false}, {"A", "(A)", true}, {"\\text{(C)}", "C", true},
    {"seven", "7", false},
    // things that must not be equal or must not break
    {"", "5", false}, {"5", "", false}, {"\\infty", "\\infty", true}, {"\\infty", "-\\infty", false},
    {"\\frac{1}{0}", "5", false}, {"\\sqrt{-1}", "1", false}, {"1/0", "2/0", false}, {"0^{-1}", "0", false},
};

TEST(MathEqual, TableOfRules) {
  size_t n = 0;
  for (const auto& c : kCases) {
    MathCompare m = math_equal(c.got, c.ref);
    EXPECT_EQ(m.equal, c.equal) << "ref '" << c.ref << "' got '" << c.got << "' rule " << m.rule;
    MathCompare back = math_equal(c.ref, c.got);
    EXPECT_EQ(back.equal, c.equal) << "symmetry: ref '" << c.ref << "' got '" << c.got << "'";
    ++n;
  }
  EXPECT_GE(n, 150u);
}

TEST(MathEqual, RulesAreNamed) {
  EXPECT_EQ(math_equal("\\dfrac{1}{2}", "\\frac{1}{2}").rule, "exact match");
  EXPECT_EQ(math_equal("0.5", "\\frac{1}{2}").rule, "exact value");
  EXPECT_EQ(math_equal("\\sqrt{8}", "2\\sqrt{2}").rule, "numeric");
  EXPECT_EQ(math_equal("\\{1,2\\}", "\\{2,1\\}").rule, "set");
  EXPECT_EQ(math_equal("[1,2)", "[1,2.0)").rule, "interval");
  EXPECT_EQ(math_equal("(1,2)", "(1,2.0)").rule, "tuple");
}

TEST(MathEqual, ToleranceIsAnOption) {
  MathOptions loose;
  loose.rel_tol = 1e-2;
  EXPECT_TRUE(math_equal("\\pi", "3.14", loose).equal);
  EXPECT_FALSE(math_equal("\\pi", "3.14").equal);
}

TEST(MathEqual, WallClockLimitAnswersZero) {
  MathOptions none;
  none.time_limit_s = 0;
  MathCompare m = math_equal("\\sqrt{8}", "2\\sqrt{2}", none);
  EXPECT_FALSE(m.equal);
  EXPECT_EQ(m.rule, "time limit");
  Verdict v = verify_math("\\boxed{2\\sqrt{2}}", "\\sqrt{8}", none);
  EXPECT_EQ(v.reward, 0.0);
  EXPECT_NE(v.reason.find("time limit"), std::string::npos);
}

TEST(MathVerify, ResponseAgainstReference) {
  EXPECT_EQ(verify_math("Thus the result is \\boxed{\\frac{1}{2}}.", "0.5").reward, 1.0);
  EXPECT_EQ(verify_math("... so the answer is 7.", "7").reward, 1.0);
  EXPECT_EQ(verify_math("we get 3 then 8", "8").reward, 1.0);
  // A MATH-style reference solution: its last \boxed{} is the target.
  EXPECT_EQ(verify_math("\\boxed{6}", "Adding, $2+4=\\boxed{6}$.").reward, 1.0);
  Verdict none = verify_math("I do not know", "5");
  EXPECT_EQ(none.reward, 0.0);
  EXPECT_EQ(none.reason, "no answer found");
  Verdict wrong = verify_math("\\boxed{4}", "5");
  EXPECT_EQ(wrong.reason, "expected '5', got '4'");
  EXPECT_EQ(verify_math("\\boxed{4}", "").reason, "empty reference answer");
}

TEST(MathVerify, AdversarialInputsAreBounded) {
  const std::string nasty[] = {
      std::string(100000, '('), std::string(100000, '{'), "\\boxed{" + std::string(50000, '{'),
      "2^{2^{2^{2^{2^{2^{2}}}}}}", "9^{9^{9^{9}}}", "99999!", "1/0", "0^0", "\\frac{\\frac{\\frac{1}{0}}{0}}{0}",
      std::string(3000, '1'), "\\sqrt{\\sqrt{\\sqrt{\\sqrt{-1}}}}", "\\log_{1}5", "\\boxed{}", "\\boxed{\\}",
      "x^{x^{x^{x^{x^{x}}}}}", "\\{\\{\\{\\{1\\}\\}\\}\\}", "((((((((((1,2))))))))))", "\xff\xfe\xfd",
      "1e999999", "1e-999999", "\\frac", "\\sqrt", "^^^^", "|||", "\\left(\\right)", "e^{e^{e^{e^{10}}}}",
      std::string(2000, '9') + "/" + std::string(2000, '9')};
  for (const auto& s : nasty) {
    auto t0 = std::chrono::steady_clock::now();
    Verdict a = verify_math("\\boxed{" + s + "}", "5");
    Verdict b = verify_math(s, s.substr(0, 900));
    MathCompare c = math_equal(s, s + "+1");
    (void)a, (void)b, (void)c;
    double sec = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    EXPECT_LT(sec, 3 * 2.0 + 1.0) << s.substr(0, 40);  // three checks, each under its 2 s limit
  }
  EXPECT_FALSE(math_equal("9^{9^{9^{9}}}", "9^{9^{9^{9}}}+1").equal);
}

TEST(MathVerify, FuzzRandomStringsNeverCrash) {
  sdz::Rng r(7);
  const std::vector<std::string> atoms = {"\\frac", "\\sqrt", "\\pi", "\\left(", "\\right)", "{", "}", "(", ")",
                                          "[", "]", "^", "_", "1", "2", "0", ".", ",", "-", "+", "*", "/", "x",
                                          "e", "\\{", "\\}", "\\cup", "=", "\\text{", "%", "\\boxed{", "!", "|",
                                          " ", "\\infty", "\\cdot", "9", "\\sin", "\\log_"};
  int equal = 0;
  for (int i = 0; i < 4000; ++i) {
    std::string a, b;
    for (int k = r.randint(0, 14); k > 0; --k) a += atoms[size_t(r.randint(0, int64_t(atoms.size()) - 1))];
    for (int k = r.randint(0, 14); k > 0; --k) b += atoms[size_t(r.randint(0, int64_t(atoms.size()) - 1))];
    MathCompare m = math_equal(a, b);
    equal += m.equal;
    EXPECT_TRUE(math_equal(a, a).equal || normalize_math_answer(a).empty()) << a;
    verify_math(a, b);
  }
  EXPECT_LT(equal, 400);
}
