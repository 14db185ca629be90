// The demo base's pretraining documents (TOY-STUDY.md's masks): on Countdown-lite, plain worked
// solutions train every response token; revision chains never train the first attempt, a cue (unless
// cue_loss), or a wrong attempt's operands, and train what follows a cue when it is correct; the
// stop token always. cue_loss adds exactly the cue tokens and changes nothing else; claim_fraction
// turns that share of the wrong attempts into untrained false claims (3+7=21). Self-chain documents:
// the cue, the revision's loss, and the unlikelihood row at the token where a wrong answer leaves
// every correct one.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "sdzero/core/error.hpp"
#include "sdzero/pipeline/pretrain.hpp"
#include "sdzero/tasks/builtin.hpp"
#include "sdzero/tasks/dataset.hpp"
#include "sdzero/tasks/equation.hpp"
#include "sdzero/text/char_tokenizer.hpp"

using namespace sdz;
using namespace sdz::pipeline;

namespace {

Components cd_components(size_t questions) {
  Components c;
  c.tokenizer = std::make_unique<text::CharTokenizer>(text::CharTokenizer::toy());
  c.prompts = text::PromptConfig::toy();
  c.method_context.cue_correct_ids = c.tokenizer->encode(text::cue_text(c.prompts, true));
  c.method_context.cue_wrong_ids = c.tokenizer->encode(text::cue_text(c.prompts, false));
  c.method_context.stop_ids = stop_ids(*c.tokenizer, c.prompts);
  auto task = tasks::make_builtin_task("cd");
  c.questions = tasks::builtin_split(*task, tasks::SplitSpec{7}, tasks::Split::Q1, questions);
  return c;
}

PretrainOptions chain_options(bool cue_loss) {
  PretrainOptions o;
  o.seed = 99;
  o.chain_fraction = 0.6;
  o.correction_uses_attempt = false;
  o.slip_fraction = 0.5;
  o.task = "cd";
  o.cue_loss = cue_loss;
  return o;
}

// Positions (into ids) of every cue of the document's response.
std::vector<size_t> cue_positions(const Components& c, const algo::Ids& ids, size_t from) {
  std::vector<size_t> at;
  for (const algo::Ids* cue : {&c.method_context.cue_correct_ids, &c.method_context.cue_wrong_ids})
    for (size_t i = from; i + cue->size() <= ids.size(); ++i)
      if (std::equal(cue->begin(), cue->end(), ids.begin() + long(i)))
        for (size_t k = 0; k < cue->size(); ++k) at.push_back(i + k);
  std::sort(at.begin(), at.end());
  return at;
}

}  // namespace

TEST(PretrainDocs, PlainSolutionsAndChainsHaveTheirMasks) {
  Components c = cd_components(200);
  const std::vector<PretrainDoc> docs = pretraining_documents(c, chain_options(false));
  ASSERT_EQ(docs.size(), c.questions.size());
  const int32_t stop = c.method_context.stop_ids.front();
  size_t chains = 0;
  for (size_t q = 0; q < docs.size(); ++q) {
    const PretrainDoc& d = docs[q];
    ASSERT_EQ(d.ids.size(), d.w.size());
    const size_t p = c.prompt_ids(c.questions[q]).size();
    for (size_t i = 0; i < p; ++i) EXPECT_EQ(d.w[i], 0.f) << "prompt token trained, question " << q;
    ASSERT_EQ(d.ids.back(), stop);
    EXPECT_EQ(d.w.back(), 1.f) << "the stop token is not trained, question " << q;
    const std::vector<size_t> cues = cue_positions(c, d.ids, p);
    if (cues.empty()) {  // a plain worked solution: every response token is a target
      EXPECT_EQ(c.tokenizer->decode(algo::Ids(d.ids.begin() + long(p), d.ids.end() - 1)),
                c.questions[q].worked_solution());
      for (size_t i = p; i < d.ids.size(); ++i) EXPECT_EQ(d.w[i], 1.f) << "question " << q << " token " << i;
      continue;
    }
    ++chains;
    for (size_t i : cues) EXPECT_EQ(d.w[i], 0.f) << "a cue is trained without cue_loss, question " << q;
    // The first attempt: at most its value digits (an honest miss), never its operands.
    const std::string first = c.tokenizer->decode(algo::Ids(d.ids.begin() + long(p), d.ids.begin() + long(cues[0])));
    const size_t eq = first.find('=');
    ASSERT_NE(eq, std::string::npos) << first;
    for (size_t i = p; i <= p + eq; ++i) EXPECT_EQ(d.w[i], 0.f) << "first attempt's operands trained: " << first;
    // The last attempt (after the last cue) is correct and trained whole.
    const std::string last = c.tokenizer->decode(algo::Ids(d.ids.begin() + long(cues.back()) + 1, d.ids.end() - 1));
    auto task = tasks::make_builtin_task("cd");
    EXPECT_GT(task->verify(last, c.questions[q].target.answer).reward, 0.5f) << "chain ends wrong: " << last;
    for (size_t i = cues.back() + 1; i < d.ids.size(); ++i) EXPECT_EQ(d.w[i], 1.f) << "last attempt " << last;
  }
  // 60% chains: about 120 of 200 (binomial sd 7).
  EXPECT_GT(chains, 90u);
  EXPECT_LT(chains, 150u);
}

TEST(PretrainDocs, CueLossTrainsExactlyTheCues) {
  Components c = cd_components(200);
  const std::vector<PretrainDoc> off = pretraining_documents(c, chain_options(false));
  const std::vector<PretrainDoc> on = pretraining_documents(c, chain_options(true));
  ASSERT_EQ(off.size(), on.size());
  size_t cue_tokens = 0;
  for (size_t q = 0; q < on.size(); ++q) {
    ASSERT_EQ(on[q].ids, off[q].ids) << "cue_loss changed the document of question " << q;
    const std::vector<size_t> cues = cue_positions(c, on[q].ids, c.prompt_ids(c.questions[q]).size());
    for (size_t i = 0; i < on[q].ids.size(); ++i) {
      const bool cue = std::binary_search(cues.begin(), cues.end(), i);
      EXPECT_EQ(on[q].w[i], cue ? 1.f : off[q].w[i]) << "question " << q << " token " << i;
    }
    cue_tokens += cues.size();
  }
  EXPECT_GT(cue_tokens, 100u);
}

namespace {

// The attempts of a chain document: token ranges [begin, end) between the prompt, the cues and the stop.
std::vector<std::pair<size_t, size_t>> attempts(const Components& c, const PretrainDoc& d, size_t prompt) {
  std::vector<std::pair<size_t, size_t>> out;
  const std::vector<size_t> cues = cue_positions(c, d.ids, prompt);
  size_t begin = prompt;
  for (size_t i = 0; i < cues.size(); ++i) {
    if (i > 0 && cues[i] == cues[i - 1] + 1) { begin = cues[i] + 1; continue; }  // a multi-token cue
    out.push_back({begin, cues[i]});
    begin = cues[i] + 1;
  }
  out.push_back({begin, d.ids.size() - 1});
  return out;
}

// Counts false claims (false arithmetic whose value is the target) among the wrong attempts of every
// chain; checks that none of their tokens is trained.
std::pair<size_t, size_t> claims_and_wrong(const Components& c, const std::vector<PretrainDoc>& docs) {
  auto task = tasks::make_builtin_task("cd");
  size_t claims = 0, wrong = 0;
  for (size_t q = 0; q < docs.size(); ++q) {
    std::vector<int64_t> numbers;
    int64_t target = 0;
    EXPECT_TRUE(tasks::parse_numbers_target(c.questions[q].prompt, numbers, target));
    for (auto [b, e] : attempts(c, docs[q], c.prompt_ids(c.questions[q]).size())) {
      const std::string text = c.tokenizer->decode(algo::Ids(docs[q].ids.begin() + long(b), docs[q].ids.begin() + long(e)));
      if (task->verify(text, c.questions[q].target.answer).reward > 0.5f) continue;
      ++wrong;
      auto eq = tasks::last_equation(text);
      if (!eq || eq->v != target || tasks::apply_op(eq->a, eq->op, eq->b) == eq->v) continue;
      ++claims;
      for (size_t i = b; i < e; ++i) EXPECT_EQ(docs[q].w[i], 0.f) << "a false claim is trained: " << text;
    }
  }
  return {claims, wrong};
}

}  // namespace

TEST(PretrainDocs, ClaimFractionMakesWrongAttemptsFalseClaims) {
  Components c = cd_components(200);
  PretrainOptions o = chain_options(false);
  const auto [none, wrong0] = claims_and_wrong(c, pretraining_documents(c, o));
  EXPECT_EQ(none, 0u) << "false claims without claim_fraction";
  EXPECT_GT(wrong0, 50u);
  o.claim_fraction = 1.0;
  const auto [claims, wrong1] = claims_and_wrong(c, pretraining_documents(c, o));
  EXPECT_GT(wrong1, 50u);
  // A guess that already has the target's value cannot be a claim (it is another correct answer or
  // is rewritten as an honest guess): nearly all, not all.
  EXPECT_GE(double(claims), 0.9 * double(wrong1)) << claims << " of " << wrong1;
  o.claim_fraction = 0.5;
  const auto [half, wrong2] = claims_and_wrong(c, pretraining_documents(c, o));
  EXPECT_GT(double(half), 0.3 * double(wrong2)) << half << " of " << wrong2;
  EXPECT_LT(double(half), 0.7 * double(wrong2)) << half << " of " << wrong2;
}

// The longest shared prefix with any correct response, in tokens.
TEST(PretrainDocs, LeavingPointIsWhereNoCorrectResponseContinues) {
  const algo::Ids a{1, 2, 3, 4}, b{1, 5, 3, 4}, c{7, 2, 3, 4};
  EXPECT_EQ(leaving_point({1, 2, 9, 4}, {a, b}), 2);
  EXPECT_EQ(leaving_point({1, 9, 3, 4}, {a, b}), 1);
  EXPECT_EQ(leaving_point({9, 2, 3, 4}, {a, b, c}), 0);
  EXPECT_EQ(leaving_point({7, 2, 3}, {a, c}), 3);  // a strict prefix: it stopped too early
  EXPECT_EQ(leaving_point(b, {a, b}), -1);
  EXPECT_EQ(leaving_point({}, {a}), 0);
  EXPECT_EQ(leaving_point({1, 2, 3, 4, 5}, {a}), 4);  // went on past a correct response
}

// 3,7,2>21 has the answers 3*7=21 and 7*3=21. After "wrong", the unlikelihood row is the prompt, the
// attempt, the cue and the attempt up to where it goes wrong; the token to avoid is the one there.
TEST(PretrainDocs, SelfChainUnlikelihoodSitsWhereTheAttemptGoesWrong) {
  Components c = cd_components(1);
  tasks::Question q;
  q.kind = "cd", q.prompt = "3,7,2>21", q.target.answer = "3,7,2>21", q.worked = "3*7=21";
  const algo::Ids prompt = c.prompt_ids(q);
  const algo::Ids& wrong_cue = c.method_context.cue_wrong_ids;
  auto task = tasks::make_builtin_task("cd");
  PretrainOptions o = chain_options(false);
  o.unlikelihood = 0.5;
  auto enc = [&](const std::string& s) { return c.tokenizer->encode(s); };
  struct Case {
    std::string attempt, kept, avoid;  // avoid "" = the stop token
  };
  for (const Case& k : std::vector<Case>{{"3+7=21", "3", "+"},     // a false claim: the operator
                                         {"3*7=24", "3*7=2", "4"},  // a slip: the digit
                                         {"7+3=10", "7", "+"},      // commuted order is a correct start
                                         {"2*8=16", "", "2"},       // no correct answer starts with 2
                                         {"3*7", "3*7", ""}}) {     // stopped early
    const PretrainDoc d = self_chain_document(c, o, task.get(), q, prompt, enc(k.attempt), false);
    algo::Ids ctx = prompt;
    for (const algo::Ids& part : {enc(k.attempt), wrong_cue, enc(k.kept)}) ctx.insert(ctx.end(), part.begin(), part.end());
    ASSERT_EQ(d.avoid.size(), 1u) << k.attempt;
    EXPECT_EQ(d.avoid[0].ids, ctx) << k.attempt;
    EXPECT_EQ(d.avoid[0].token, k.avoid.empty() ? c.method_context.stop_ids.front() : enc(k.avoid).front()) << k.attempt;
    EXPECT_FLOAT_EQ(d.avoid[0].w, 0.5f);
    // The NLL part is unchanged by the unlikelihood: loss on the worked solution and the stop only.
    PretrainOptions plain = o;
    plain.unlikelihood = 0;
    const PretrainDoc p = self_chain_document(c, plain, nullptr, q, prompt, enc(k.attempt), false);
    EXPECT_EQ(p.ids, d.ids);
    EXPECT_EQ(p.w, d.w);
    EXPECT_TRUE(p.avoid.empty());
    float trained = 0;
    for (float x : d.w) trained += x;
    EXPECT_EQ(trained, float(enc("3*7=21").size() + 1)) << k.attempt;
  }
  // A right answer: the "right" cue, a copy, and nothing to avoid.
  const PretrainDoc r = self_chain_document(c, o, task.get(), q, prompt, enc("7*3=21"), true);
  EXPECT_TRUE(r.avoid.empty());
  EXPECT_THROW(self_chain_document(c, o, nullptr, q, prompt, enc("3+7=21"), false), Error);
}

// chain_unlikelihood: every wrong chain attempt followed by "wrong" gets one row, its context the
// document up to that cue plus the attempt up to where it leaves the correct responses; the NLL part
// is the same as without it.
TEST(PretrainDocs, ChainUnlikelihoodMarksEveryWrongAttempt) {
  Components c = cd_components(200);
  PretrainOptions o = chain_options(false);
  o.claim_fraction = 0.5;
  const std::vector<PretrainDoc> plain = pretraining_documents(c, o);
  o.chain_unlikelihood = 2.0;
  const std::vector<PretrainDoc> docs = pretraining_documents(c, o);
  ASSERT_EQ(docs.size(), plain.size());
  auto task = tasks::make_builtin_task("cd");
  const algo::Ids& wrong_cue = c.method_context.cue_wrong_ids;
  size_t rows = 0, wrong_cues = 0;
  for (size_t i = 0; i < docs.size(); ++i) {
    EXPECT_EQ(docs[i].ids, plain[i].ids);
    EXPECT_EQ(docs[i].w, plain[i].w);
    EXPECT_TRUE(plain[i].avoid.empty());
    for (size_t k = 0; k + wrong_cue.size() <= docs[i].ids.size(); ++k)
      wrong_cues += std::equal(wrong_cue.begin(), wrong_cue.end(), docs[i].ids.begin() + long(k));
    for (const auto& a : docs[i].avoid) {
      ++rows;
      EXPECT_FLOAT_EQ(a.w, 2.0f);
      // The row's context is a prefix of the document up to a "wrong" cue, then the repeated prefix.
      ASSERT_LE(a.ids.size(), docs[i].ids.size() + 8);
      const std::string text = c.tokenizer->decode(a.ids), doc = c.tokenizer->decode(docs[i].ids);
      const std::string cue = c.tokenizer->decode(wrong_cue);
      const size_t at = text.rfind(cue);
      ASSERT_NE(at, std::string::npos);
      EXPECT_EQ(doc.substr(0, at + cue.size()), text.substr(0, at + cue.size()));
      // The attempt before the cue, repeated up to the token it wrote there: that prefix is in the
      // attempt, and no correct answer to the question starts with it.
      const std::string kept = text.substr(at + cue.size()) + c.tokenizer->decode({a.token});
      if (a.token == c.method_context.stop_ids.front()) continue;
      EXPECT_NE(doc.substr(0, at).find(kept), std::string::npos) << kept;
      const tasks::Question& q = c.questions[i];
      for (const auto& r : task->correct_responses({q.prompt, q.target.answer, ""}))
        EXPECT_NE(r.rfind(kept, 0), 0u) << q.prompt << ": " << kept << " starts " << r;
    }
  }
  EXPECT_EQ(rows, wrong_cues) << "one row per wrong attempt followed by the cue";
  EXPECT_GT(rows, 50u);
}
