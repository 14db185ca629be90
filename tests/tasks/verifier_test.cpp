// The single verifier interface, reward.command, the [data]/[reward] keys and JSONL datasets.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>

#include "sdzero/core/config.hpp"
#include "sdzero/core/error.hpp"
#include "sdzero/tasks/dataset.hpp"
#include "sdzero/tasks/external.hpp"
#include "sdzero/tasks/keys.hpp"
#include "sdzero/tasks/verifier.hpp"

using namespace sdz::tasks;
namespace fs = std::filesystem;

namespace {

struct TempDir {
  fs::path path;
  TempDir() {
    path = fs::temp_directory_path() / ("sdz-tasks-test-" + std::to_string(getpid()) + "-" + std::to_string(counter()++));
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
  std::string write(const std::string& name, const std::string& text) const {
    std::ofstream(path / name, std::ios::binary) << text;
    return (path / name).string();
  }
  static int& counter() {
    static int c = 0;
    return c;
  }
};

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const sdz::Error& e) {
    return e.what();
  }
  return "(no error)";
}

Target answer(const std::string& a) {
  Target t;
  t.answer = a;
  return t;
}

// An external verifier in Python: reward 1 when the response equals the answer; the reason carries
// its pid and call count, so a test can see that one process served every call.
const char* kEchoVerifier =
    "import json, os, sys\n"
    "n = 0\n"
    "for line in sys.stdin:\n"
    "    q = json.loads(line)\n"
    "    n += 1\n"
    "    ok = q['response'].strip() == q['answer'].strip()\n"
    "    print(json.dumps({'reward': 1.0 if ok else 0.0, 'reason': '%d:%d:%s' % (os.getpid(), n, q['kind'])}), flush=True)\n";

}  // namespace

TEST(Verifier, DispatchesByKind) {
  Verifier v;
  EXPECT_EQ(v.verify("math", "\\boxed{0.5}", answer("\\frac12")).reward, 1.0);
  EXPECT_EQ(v.verify("div", "57*8=456", answer("456/8")).reward, 1.0);
  EXPECT_EQ(v.verify("countdown", "#50*7+8-3+1", answer("25,50,3,7,8,1>356")).reward, 1.0);
  Target code;
  code.tests = {{"2\n", "4\n"}};
  EXPECT_EQ(v.verify("code", "```python\nprint(int(input())*2)\n```", code).reward, 1.0);
  Verdict unknown = v.verify("chess", "e4", answer("e4"));
  EXPECT_EQ(unknown.reward, 0.0);
  EXPECT_NE(unknown.reason.find("unknown task kind"), std::string::npos);
}

TEST(Verifier, BatchKeepsInputOrderWithParallelWorkers) {
  VerifierOptions o;
  o.workers = 4;
  Verifier v(o);
  std::vector<VerifyItem> items;
  for (int i = 0; i < 40; ++i) items.push_back({"math", "\\boxed{" + std::to_string(i % 3) + "}", answer("1")});
  auto out = v.verify_batch(items);
  ASSERT_EQ(out.size(), 40u);
  for (int i = 0; i < 40; ++i) EXPECT_EQ(out[size_t(i)].reward, i % 3 == 1 ? 1.0 : 0.0) << i;
}

TEST(ExternalVerifier, OneProcessServesEveryCall) {
  TempDir d;
  std::string script = d.write("judge.py", kEchoVerifier);
  VerifierOptions o;
  o.command = "python3 " + script;
  Verifier v(o);
  Verdict a = v.verify("math", "42", answer("42"));
  Verdict b = v.verify("whatever", "41", answer("42"));
  EXPECT_EQ(a.reward, 1.0);
  EXPECT_EQ(b.reward, 0.0);
  std::string pid = a.reason.substr(0, a.reason.find(':'));
  EXPECT_EQ(a.reason, pid + ":1:math");
  EXPECT_EQ(b.reason, pid + ":2:whatever");
  std::vector<VerifyItem> items(10, {"x", "7", answer("7")});
  for (const auto& r : v.verify_batch(items)) EXPECT_EQ(r.reason.substr(0, r.reason.find(':')), pid);
}

TEST(ExternalVerifier, FailuresAreClearErrorsAndTheNextCallRestarts) {
  TempDir d;
  ExternalVerifier dies("exit 3", 5.0);
  std::string e = error_of([&] { dies.verify("math", "1", answer("1")); });
  EXPECT_NE(e.find("reward.command"), std::string::npos) << e;
  EXPECT_NE(e.find("exited with status 3"), std::string::npos) << e;

  ExternalVerifier missing("/no/such/judge-sdz", 5.0);
  e = error_of([&] { missing.verify("math", "1", answer("1")); });
  EXPECT_NE(e.find("status 127"), std::string::npos) << e;
  EXPECT_NE(e.find("not found"), std::string::npos) << "stderr is quoted: " << e;

  ExternalVerifier garbage("while read l; do echo 'not json'; done", 5.0);
  e = error_of([&] { garbage.verify("math", "1", answer("1")); });
  EXPECT_NE(e.find("not a JSON object: not json"), std::string::npos) << e;

  ExternalVerifier no_reward("while read l; do echo '{\"score\": 1}'; done", 5.0);
  e = error_of([&] { no_reward.verify("math", "1", answer("1")); });
  EXPECT_NE(e.find("without a numeric \"reward\""), std::string::npos) << e;

  ExternalVerifier silent("cat > /dev/null", 0.3);
  e = error_of([&] { silent.verify("math", "1", answer("1")); });
  EXPECT_NE(e.find("no answer within 0.3 s"), std::string::npos) << e;

  // After a failure the next call starts the program again.
  std::string script = d.write("judge.py", kEchoVerifier);
  std::string flag = (d.path / "crashed").string();
  std::string flaky = d.write("flaky.sh", "if [ ! -e " + flag + " ]; then touch " + flag + "; exit 1; fi\nexec python3 " + script + "\n");
  ExternalVerifier again("sh " + flaky, 5.0);
  EXPECT_NE(error_of([&] { again.verify("math", "1", answer("1")); }), "(no error)");
  EXPECT_EQ(again.verify("math", "1", answer("1")).reward, 1.0);
  EXPECT_EQ(again.starts(), 2);
  EXPECT_THROW(ExternalVerifier("  ", 1.0), sdz::Error);
}

TEST(Keys, DataAndRewardKeysFillTheOptions) {
  sdz::Schema s;
  sdz::declare_tasks_keys(s);
  sdz::Config c = sdz::Config::load(s, "", {"--data.task=jsonl", "--data.path=x.jsonl", "--data.question_field=q, problem",
                                            "--reward.workers=3", "--reward.code_time_limit=0.5",
                                            "--reward.sandbox_network=require", "--data.mul_digits=6"});
  DatasetSpec d = dataset_spec_from(c);
  EXPECT_EQ(d.fields.question, (std::vector<std::string>{"q", "problem"}));
  EXPECT_EQ(d.knobs.mul_digits, 6);
  VerifierOptions v = verifier_options_from(c);
  EXPECT_EQ(v.workers, 3);
  EXPECT_EQ(v.code.run.wall_seconds, 0.5);
  EXPECT_EQ(v.code.sandbox.network, NetworkPolicy::Require);
  sdz::Config bad = sdz::Config::load(s, "", {"--data.task=jsonl"});
  EXPECT_NE(error_of([&] { dataset_spec_from(bad); }).find("data.path"), std::string::npos);
  // A file given to a built-in task would be ignored: refused by name instead.
  sdz::Config ignored = sdz::Config::load(s, "", {"--data.task=div", "--data.path=x.jsonl"});
  EXPECT_NE(error_of([&] { dataset_spec_from(ignored); }).find("data.path"), std::string::npos);
  EXPECT_NE(error_of([&] { dataset_spec_from(ignored); }).find("reads no file"), std::string::npos);
  sdz::Config ignored_eval = sdz::Config::load(s, "", {"--data.task=cd", "--data.eval_path=e.jsonl"});
  EXPECT_NE(error_of([&] { dataset_spec_from(ignored_eval); }).find("data.eval_path"), std::string::npos);
  sdz::Config inverted = sdz::Config::load(s, "", {"--data.div_quotient_min=50"});
  EXPECT_NE(error_of([&] { dataset_spec_from(inverted); }).find("data.div_quotient_min"), std::string::npos);
  // cd's operators: a set of + - *, each once; anything else is refused by key.
  EXPECT_EQ(dataset_spec_from(sdz::Config::load(s, "", {"--data.cd_ops=*+"})).knobs.cd_ops, "*+");
  for (const char* ops : {"--data.cd_ops=+/", "--data.cd_ops=++", "--data.cd_ops="})
    EXPECT_NE(error_of([&] { dataset_spec_from(sdz::Config::load(s, "", {ops})); }).find("data.cd_ops"), std::string::npos)
        << ops;
  // Demonstrations in another style: div questions carry them, other tasks refuse the key by name.
  sdz::Config other = sdz::Config::load(s, "", {"--data.task=div", "--data.demo_style=other", "--data.q1_size=3"});
  DatasetSpec od = dataset_spec_from(other);
  EXPECT_TRUE(od.knobs.demo_other_style);
  for (const Question& q : load_split(od, Split::Q1)) {
    const std::string own = make_builtin_task("div")->solution({q.prompt, q.prompt, ""});
    EXPECT_NE(q.demonstration, own) << q.prompt;
    EXPECT_EQ(q.worked_solution(), own) << "the base still pretrains on the task's own notation";
    EXPECT_EQ(verify_builtin("div", q.worked_solution(), q.target.answer).reward, 1.0);
    EXPECT_NE(q.demonstration.find("|"), std::string::npos) << q.demonstration;
  }
  for (const char* task : {"mul", "jsonl"}) {
    const std::string path = std::string(task) == "jsonl" ? "--data.path=x.jsonl" : "--data.path=";
    sdz::Config no = sdz::Config::load(s, "", {std::string("--data.task=") + task, path, "--data.demo_style=other"});
    EXPECT_NE(error_of([&] { dataset_spec_from(no); }).find("data.demo_style"), std::string::npos) << task;
  }
}

TEST(Dataset, ReadsConfigurableFieldsAsAStream) {
  TempDir d;
  std::string path = d.write("q.jsonl",
                             "{\"problem\": \"1+1?\", \"solution\": \"so $\\\\boxed{2}$\", \"id\": \"a\"}\n"
                             "\n"
                             "{\"question\": \"2+2?\", \"answer\": 4}\n"
                             "{\"prompt\": \"sum\", \"kind\": \"code\", \"tests\": [{\"input\": \"1 2\", \"output\": \"3\"}], \"language\": \"cpp\"}\n"
                             "{\"question\": \"456/8\", \"answer\": \"456/8\", \"kind\": \"div\", \"demonstration\": \"57*8=456\"}\n");
  JsonlReader r(path);
  Question q;
  ASSERT_TRUE(r.next(q));
  EXPECT_EQ(q.id, "a");
  EXPECT_EQ(q.prompt, "1+1?");
  EXPECT_EQ(q.kind, "math");
  EXPECT_EQ(q.demonstration, "so $\\boxed{2}$");
  EXPECT_EQ(Verifier().verify(q.kind, "\\boxed{2}", q.target).reward, 1.0) << "answer taken from the solution's box";
  ASSERT_TRUE(r.next(q));
  EXPECT_EQ(q.id, "q.jsonl:3");
  EXPECT_EQ(q.source, path + ":3");
  EXPECT_EQ(q.target.answer, "4");
  ASSERT_TRUE(r.next(q));
  EXPECT_EQ(q.kind, "code");
  ASSERT_EQ(q.target.tests.size(), 1u);
  EXPECT_EQ(q.target.tests[0].output, "3");
  EXPECT_EQ(q.target.language, "cpp");
  ASSERT_TRUE(r.next(q));
  EXPECT_EQ(q.kind, "div");
  EXPECT_EQ(q.demonstration, "57*8=456");
  EXPECT_FALSE(r.next(q));

  FieldNames custom;
  custom.question = {"text"};
  custom.answer = {"gold"};
  std::string other = d.write("o.jsonl", "{\"text\": \"x\", \"gold\": \"y\"}\n");
  JsonlReader r2(other, custom);
  ASSERT_TRUE(r2.next(q));
  EXPECT_EQ(q.prompt, "x");
  EXPECT_EQ(q.target.answer, "y");
}

TEST(Dataset, ErrorsNameFileLineAndField) {
  TempDir d;
  auto first_error = [&](const std::string& text, FieldNames f = {}) {
    std::string p = d.write("bad.jsonl", text);
    return error_of([&] {
      JsonlReader r(p, f);
      Question q;
      while (r.next(q)) {
      }
    });
  };
  std::string p = (d.path / "bad.jsonl").string();
  EXPECT_EQ(first_error("{\"question\": \"a\", \"answer\": \"1\"}\n{oops\n"),
            p + ":2: invalid JSON (each line must be one JSON object)");
  std::string e = first_error("{\"question\": \"a\", \"answer\": \"1\"}\n\n{\"answer\": \"1\"}\n");
  EXPECT_EQ(e.rfind(p + ":3: missing field 'question' (looked for question, problem, prompt)", 0), 0u) << e;
  e = first_error("{\"question\": \"a\"}\n");
  EXPECT_NE(e.find(":1: missing field 'answer' (looked for answer, solution)"), std::string::npos) << e;
  e = first_error("{\"question\": \"a\", \"kind\": \"code\"}\n");
  EXPECT_NE(e.find(":1: missing field 'tests'"), std::string::npos) << e;
  e = first_error("{\"question\": \"a\", \"kind\": \"code\", \"tests\": [{\"input\": \"1\"}]}\n");
  EXPECT_NE(e.find("field 'tests[0]' needs \"input\" and \"output\""), std::string::npos) << e;
  e = first_error("{\"question\": [1], \"answer\": \"1\"}\n");
  EXPECT_NE(e.find("field 'question' must be a string or a number, not array"), std::string::npos) << e;
  e = first_error("{\"question\": \"a\", \"answer\": \"1\", \"kind\": \"poetry\"}\n");
  EXPECT_NE(e.find("unknown kind 'poetry'"), std::string::npos) << e;
  e = first_error("[1, 2]\n");
  EXPECT_NE(e.find(":1: line is not a JSON object"), std::string::npos) << e;
  EXPECT_NE(error_of([&] { JsonlReader r((d.path / "missing.jsonl").string()); }).find("cannot open dataset file"),
            std::string::npos);
}

TEST(Dataset, SplitsAreDeterministicBySeedAndId) {
  SplitSpec s;
  s.seed = 5;
  s.eval_fraction = 0.2;
  s.q1_fraction = 0.5;
  int counts[3] = {0, 0, 0};
  for (int i = 0; i < 10000; ++i) {
    Split a = split_of("id-" + std::to_string(i), s);
    EXPECT_EQ(a, split_of("id-" + std::to_string(i), s));
    counts[int(a)]++;
  }
  EXPECT_NEAR(counts[int(Split::Eval)], 2000, 200);
  EXPECT_NEAR(counts[int(Split::Q1)], 4000, 250);
  EXPECT_NEAR(counts[int(Split::Q2)], 4000, 250);
  SplitSpec other = s;
  other.seed = 6;
  int moved = 0;
  for (int i = 0; i < 1000; ++i) moved += split_of("id-" + std::to_string(i), s) != split_of("id-" + std::to_string(i), other);
  EXPECT_GT(moved, 300);

  TempDir d;
  std::string text;
  for (int i = 0; i < 300; ++i) text += "{\"id\": \"" + std::to_string(i) + "\", \"question\": \"q\", \"answer\": \"1\"}\n";
  std::string path = d.write("big.jsonl", text);
  std::set<std::string> seen;
  size_t total = 0;
  for (Split w : {Split::Q1, Split::Q2, Split::Eval}) {
    auto part = load_jsonl_split(path, {}, s, w);
    total += part.size();
    for (const auto& q : part) EXPECT_TRUE(seen.insert(q.id).second) << "disjoint splits";
  }
  EXPECT_EQ(total, 300u);
  EXPECT_EQ(load_jsonl_split(path, {}, s, Split::Q1, 7).size(), 7u);
}

// div has 320 distinct questions: without the held-out partition 97% of its evaluation questions
// were training questions (and every pretraining question is a training question).
TEST(Dataset, BuiltinEvalQuestionsAreNeverTrainingQuestions) {
  auto t = make_builtin_task("div");
  SplitSpec spec{7};
  spec.eval_fraction = 0.25;
  std::set<std::string> train, held;
  for (Split w : {Split::Q1, Split::Q2})
    for (const auto& q : builtin_split(*t, spec, w, 500)) {
      train.insert(q.prompt);
      EXPECT_FALSE(builtin_held_out(*t, q.prompt, spec)) << q.prompt;
    }
  for (const auto& q : builtin_split(*t, spec, Split::Eval, 300)) {
    EXPECT_EQ(train.count(q.prompt), 0u) << q.prompt << " is both held out and trained on";
    EXPECT_TRUE(builtin_held_out(*t, q.prompt, spec));
    held.insert(q.prompt);
  }
  // About a quarter of the space on each side's complement, and both sides cover their share.
  EXPECT_GT(held.size(), 50u);
  EXPECT_LT(held.size(), 110u);
  EXPECT_GT(train.size(), 200u);
  // Without the partition the same draws overlap heavily: the old behaviour, kept for eval_fraction 0.
  spec.eval_fraction = 0;
  std::set<std::string> train0;
  for (const auto& q : builtin_split(*t, spec, Split::Q1, 500)) train0.insert(q.prompt);
  size_t overlap = 0;
  for (const auto& q : builtin_split(*t, spec, Split::Eval, 300)) overlap += train0.count(q.prompt);
  EXPECT_GT(overlap, 200u);
  // A different split seed partitions differently.
  SplitSpec other{8};
  other.eval_fraction = 0.25;
  size_t moved = 0;
  for (const auto& p : held) moved += !builtin_held_out(*t, p, other);
  EXPECT_GT(moved, 20u);
}

TEST(Dataset, BuiltinQuestionsBesidesASplitAreOtherTrainingQuestions) {
  auto t = make_builtin_task("cd");
  SplitSpec spec{7};
  std::set<std::string> own;
  for (const auto& q : builtin_split(*t, spec, Split::Q1, 300)) own.insert(q.prompt);
  const auto other = builtin_split_besides(*t, spec, Split::Q1, 300, 300, own);
  ASSERT_EQ(other.size(), 300u);
  std::set<std::string> distinct;
  for (const auto& q : other) {
    EXPECT_EQ(own.count(q.prompt), 0u) << q.prompt << " is one of the split's own";
    EXPECT_FALSE(builtin_held_out(*t, q.prompt, spec)) << q.prompt;
    EXPECT_EQ(q.id.rfind("cd-q1-", 0), 0u) << q.id;
    distinct.insert(q.prompt);
  }
  EXPECT_GT(distinct.size(), 200u);
  EXPECT_THROW(builtin_split_besides(*t, spec, Split::Eval, 0, 1, own), sdz::Error);
  // A space too small for the request is an error naming the key, not an endless loop.
  TaskKnobs small;
  small.div_quotient_max = 12, small.div_divisor_max = 3;  // 3 x 2 = 6 questions
  auto tiny = make_builtin_task("div", small);
  std::set<std::string> all;
  for (const auto& q : builtin_split(*tiny, spec, Split::Q1, 200)) all.insert(q.prompt);
  try {
    builtin_split_besides(*tiny, spec, Split::Q1, 200, 50, all);
    ADD_FAILURE() << "no error for an exhausted question space";
  } catch (const sdz::Error& e) {
    EXPECT_NE(std::string(e.what()).find("data.task"), std::string::npos) << e.what();
  }
}

// The demo's other bases read these: as many Q1 + Q2 questions as the spec names, none excluded and
// none held out, and each pass (pretrain_on = other: 1; fresh self chains: 2, 3, ...) mostly others.
TEST(Dataset, BuiltinTrainingQuestionsBesidesEachPassOthers) {
  DatasetSpec spec;
  spec.task = "cd";
  spec.knobs.cd_numbers = 3;
  spec.split = SplitSpec{7};
  spec.q1_size = 200, spec.q2_size = 100;
  std::set<std::string> methods;
  for (auto which : {Split::Q1, Split::Q2})
    for (const auto& q : load_split(spec, which)) methods.insert(q.prompt);
  auto t = make_builtin_task("cd", spec.knobs);
  std::vector<std::set<std::string>> passes;
  for (size_t pass : {1, 2, 3}) {
    const auto qs = builtin_training_besides(spec, pass, methods);
    ASSERT_EQ(qs.size(), 300u);
    EXPECT_EQ(qs[0].id.rfind("cd-q1-", 0), 0u) << qs[0].id;
    EXPECT_EQ(qs[299].id.rfind("cd-q2-", 0), 0u) << qs[299].id;
    std::set<std::string> prompts;
    for (const auto& q : qs) {
      EXPECT_EQ(methods.count(q.prompt), 0u) << q.prompt << " is a Q1/Q2 question";
      EXPECT_FALSE(builtin_held_out(*t, q.prompt, spec.split)) << q.prompt;
      EXPECT_FALSE(t->solution(Problem(q.prompt, q.target.answer, "")).empty()) << q.prompt;
      prompts.insert(q.prompt);
    }
    passes.push_back(prompts);
  }
  for (size_t a = 0; a < passes.size(); ++a)
    for (size_t b = a + 1; b < passes.size(); ++b) {
      std::vector<std::string> both;
      std::set_intersection(passes[a].begin(), passes[a].end(), passes[b].begin(), passes[b].end(), std::back_inserter(both));
      // Drawn at random from about 4700 training-side questions: some overlap, never most.
      EXPECT_LT(both.size(), passes[a].size() / 4) << "passes " << a + 1 << " and " << b + 1;
    }
  spec.task = "jsonl";
  EXPECT_THROW(builtin_training_besides(spec, 1, methods), sdz::Error);
}

TEST(Dataset, BuiltinHeldOutShareThatLeavesNothingIsAnErrorNamingTheKey) {
  auto t = make_builtin_task("div");
  SplitSpec spec{7};
  spec.eval_fraction = 1.0;
  EXPECT_EQ(builtin_split(*t, spec, Split::Eval, 3).size(), 3u);
  try {
    builtin_split(*t, spec, Split::Q1, 1);
    FAIL() << "training questions from a fully held-out space";
  } catch (const sdz::Error& e) {
    EXPECT_NE(std::string(e.what()).find("data.eval_fraction"), std::string::npos) << e.what();
  }
  TaskKnobs k;
  k.div_quotient_min = k.div_quotient_max = 12;
  k.div_divisor_min = k.div_divisor_max = 3;  // one question: one side of any partition is empty
  auto one = make_builtin_task("div", k);
  spec.eval_fraction = 0.5;
  const bool held = builtin_held_out(*one, "36/3", spec);
  try {
    builtin_split(*one, spec, held ? Split::Q1 : Split::Eval, 1);
    FAIL() << "a question from an empty side of the partition";
  } catch (const sdz::Error& e) {
    EXPECT_NE(std::string(e.what()).find("too small"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("data.eval_fraction"), std::string::npos) << e.what();
  }
  EXPECT_EQ(builtin_split(*one, spec, held ? Split::Eval : Split::Q1, 2).size(), 2u);
}

TEST(Dataset, BuiltinSplitsAreReproducible) {
  auto t = make_builtin_task("mul");
  auto a = builtin_split(*t, SplitSpec{1}, Split::Q1, 20), b = builtin_split(*t, SplitSpec{1}, Split::Q1, 20);
  auto e = builtin_split(*t, SplitSpec{1}, Split::Eval, 20), c = builtin_split(*t, SplitSpec{2}, Split::Q1, 20);
  int same_eval = 0, same_seed = 0;
  for (size_t i = 0; i < 20; ++i) {
    EXPECT_EQ(a[i].prompt, b[i].prompt);
    EXPECT_EQ(a[i].id, "mul-q1-" + std::to_string(i));
    EXPECT_EQ(verify_builtin("mul", a[i].demonstration, a[i].target.answer).reward, 1.0);
    same_eval += a[i].prompt == e[i].prompt;
    same_seed += a[i].prompt == c[i].prompt;
  }
  EXPECT_LT(same_eval, 3);
  EXPECT_LT(same_seed, 3);
}
