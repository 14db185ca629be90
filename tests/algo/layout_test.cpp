// Byte-exact layouts: a test tokenizer maps every byte to its own id and the template's special
// tokens to single ids (as the real tokenizers do), so decoding a layout must give exactly the text
// of SDZERO.md's teacher / SRT sequences, for the ChatML template and the toy char template.
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "sdzero/algo/layout.hpp"
#include "sdzero/core/error.hpp"

using namespace sdz::algo;

namespace {

class ByteTok {
 public:
  ByteTok() {
    for (const char* s : {"<|im_start|>", "<|im_end|>", "<|endoftext|>", "<q>", "<a>", "<e>", "<w>", "<r>"}) add(s);
  }
  Ids encode(const std::string& text) const {
    Ids out;
    for (size_t i = 0; i < text.size();) {
      bool special = false;
      for (auto& [s, id] : specials_)
        if (text.compare(i, s.size(), s) == 0) {
          out.push_back(id);
          i += s.size();
          special = true;
          break;
        }
      if (!special) out.push_back(int32_t((unsigned char)text[i++]));
    }
    return out;
  }
  std::string decode(const Ids& ids) const {
    std::string out;
    for (int32_t id : ids) out += id < 256 ? std::string(1, char(id)) : names_.at(id);
    return out;
  }
  int32_t id(const std::string& s) const { return specials_.at(s); }

 private:
  void add(const std::string& s) {
    const int32_t id = 256 + int32_t(names_.size());
    specials_[s] = id;
    names_[id] = s;
  }
  std::map<std::string, int32_t> specials_;
  std::map<int32_t, std::string> names_;
};

const std::string kChatPrompt =
    "<|im_start|>system\nYou are a helpful assistant that solves math problems step by step.<|im_end|>\n"
    "<|im_start|>user\nWhat is 6*7?\n\nPlease reason step by step, and put your final answer within "
    "\\boxed{}.<|im_end|>\n<|im_start|>assistant\n";

}  // namespace

TEST(RevisionLayout, ChatMLTeacherSequenceIsByteExact) {
  ByteTok tok;
  const Ids prompt = tok.encode(kChatPrompt);
  const Ids y = tok.encode("6*7 = 43, so \\boxed{43}.<|im_end|>");
  const Ids cue = tok.encode("\n\nWait, this response is not correct, let me start over.\n\n");
  const Ids stop = {tok.id("<|im_end|>"), tok.id("<|endoftext|>")};
  ScoredLayout l = revision_layout(prompt, y, cue, stop, 0);
  EXPECT_EQ(tok.decode(l.teacher_ids),
            kChatPrompt + "6*7 = 43, so \\boxed{43}.\n\nWait, this response is not correct, let me start over.\n\n"
                          "6*7 = 43, so \\boxed{43}.<|im_end|>");
  EXPECT_EQ(tok.decode(l.student_ids), kChatPrompt + "6*7 = 43, so \\boxed{43}.<|im_end|>");
  EXPECT_EQ(l.scored_ids, y);
  EXPECT_FALSE(l.truncated);
  // Index alignment: row student_row + t predicts y_t in the student, teacher_row + t in the teacher.
  for (int64_t t = 0; t < l.n_scored(); ++t) {
    EXPECT_EQ(l.student_ids[size_t(l.student_row + t + 1)], y[size_t(t)]);
    EXPECT_EQ(l.teacher_ids[size_t(l.teacher_row + t + 1)], y[size_t(t)]);
  }
  EXPECT_EQ(l.student_row, int64_t(prompt.size()) - 1);
  EXPECT_EQ(l.teacher_row, int64_t(prompt.size() + y.size() - 1 + cue.size()) - 1);
  EXPECT_EQ(l.teacher_row + l.n_scored() + 1, int64_t(l.teacher_ids.size()));
}

TEST(RevisionLayout, ToyTemplateWithSingleTokenCueIsByteExact) {
  ByteTok tok;
  const Ids prompt = tok.encode("<q>456/8<a>");
  const Ids y = tok.encode("56*8=448<e>");
  ScoredLayout l = revision_layout(prompt, y, {tok.id("<w>")}, {tok.id("<e>")}, 0);
  EXPECT_EQ(tok.decode(l.teacher_ids), "<q>456/8<a>56*8=448<w>56*8=448<e>");
  EXPECT_EQ(tok.decode(l.student_ids), "<q>456/8<a>56*8=448<e>");
  EXPECT_EQ(l.teacher_row, int64_t(tok.encode("<q>456/8<a>56*8=448<w>").size()) - 1);
  // A response cut by max_new_tokens has no stop id: both copies are the same tokens.
  ScoredLayout u = revision_layout(prompt, tok.encode("56*8=4"), {tok.id("<r>")}, {tok.id("<e>")}, 0);
  EXPECT_EQ(tok.decode(u.teacher_ids), "<q>456/8<a>56*8=4<r>56*8=4");
}

TEST(RevisionLayout, TruncationGuardCutsTheSameYForStudentAndTeacher) {
  ByteTok tok;
  const Ids prompt = tok.encode("<q>12<a>");           // 4 ids
  const Ids y = tok.encode("abcdefghij<e>");            // 11 ids, body 10
  const Ids cue = {tok.id("<w>")};                      // 1 id
  // Full teacher length 4 + 10 + 1 + 11 = 26. Exactly at the limit: untouched.
  EXPECT_FALSE(revision_layout(prompt, y, cue, {tok.id("<e>")}, 26).truncated);
  // One under: y is cut to floor((25 - 4 - 1) / 2) = 10 tokens, the stop id is no longer scored.
  ScoredLayout l = revision_layout(prompt, y, cue, {tok.id("<e>")}, 25);
  EXPECT_TRUE(l.truncated);
  EXPECT_EQ(tok.decode(l.scored_ids), "abcdefghij");
  EXPECT_EQ(tok.decode(l.teacher_ids), "<q>12<a>abcdefghij<w>abcdefghij");
  EXPECT_EQ(tok.decode(l.student_ids), "<q>12<a>abcdefghij");
  // Tighter: floor((16 - 5) / 2) = 5.
  l = revision_layout(prompt, y, cue, {tok.id("<e>")}, 16);
  EXPECT_EQ(tok.decode(l.teacher_ids), "<q>12<a>abcde<w>abcde");
  EXPECT_LE(int64_t(l.teacher_ids.size()), 16);
  EXPECT_EQ(l.teacher_ids[size_t(l.teacher_row + 1)], l.scored_ids[0]);
  // No room at all: nothing is scored.
  l = revision_layout(prompt, y, cue, {tok.id("<e>")}, 5);
  EXPECT_EQ(l.n_scored(), 0);
  EXPECT_THROW(revision_layout({}, y, cue, {}, 0), sdz::Error);
}

TEST(DemonstrationLayout, TeacherSeesItsOwnPrompt) {
  ByteTok tok;
  const Ids prompt = tok.encode("<q>3+4<a>");
  const Ids tprompt = tok.encode("<q>3+4 example: 3+4=7<a>");
  const Ids y = tok.encode("3+4=7<e>");
  ScoredLayout l = demonstration_layout(prompt, tprompt, y, {tok.id("<e>")}, 0);
  EXPECT_EQ(tok.decode(l.teacher_ids), "<q>3+4 example: 3+4=7<a>3+4=7<e>");
  EXPECT_EQ(tok.decode(l.student_ids), "<q>3+4<a>3+4=7<e>");
  EXPECT_EQ(l.teacher_row, int64_t(tprompt.size()) - 1);
  l = demonstration_layout(prompt, tprompt, y, {tok.id("<e>")}, int64_t(tprompt.size()) + 3);
  EXPECT_TRUE(l.truncated);
  EXPECT_EQ(tok.decode(l.student_ids), "<q>3+4<a>3+4");
}

TEST(SrtLayout, ChatMLSequenceAndBothMasksAreExact) {
  ByteTok tok;
  const Ids prompt = tok.encode(kChatPrompt);
  const Ids y0 = tok.encode("It is 43.<|im_end|>");
  const Ids cue = tok.encode("\n\nWait, this response is wrong. Let me correct it.\n\n");
  const Ids rev = tok.encode("6*7 = 42, \\boxed{42}.<|im_end|>");
  SrtLayout l = srt_layout(prompt, y0, cue, rev, {tok.id("<|im_end|>")}, 0);
  EXPECT_EQ(tok.decode(l.ids), kChatPrompt +
                                   "It is 43.\n\nWait, this response is wrong. Let me correct it.\n\n"
                                   "6*7 = 42, \\boxed{42}.<|im_end|>");
  Ids gen, revm;
  for (size_t i = 0; i < l.ids.size(); ++i) {
    if (l.generation_mask[i]) gen.push_back(l.ids[i]);
    if (l.revision_mask[i]) revm.push_back(l.ids[i]);
  }
  EXPECT_EQ(tok.decode(gen),
            "It is 43.\n\nWait, this response is wrong. Let me correct it.\n\n6*7 = 42, \\boxed{42}.<|im_end|>");
  EXPECT_EQ(tok.decode(revm), "6*7 = 42, \\boxed{42}.<|im_end|>");
  for (size_t i = 0; i < prompt.size(); ++i) EXPECT_EQ(l.generation_mask[i] + l.revision_mask[i], 0);
}

TEST(SrtLayout, ToyTemplateAndTailCut) {
  ByteTok tok;
  SrtLayout l = srt_layout(tok.encode("<q>9*9<a>"), tok.encode("9*9=80<e>"), {tok.id("<w>")},
                           tok.encode("9*9=81<e>"), {tok.id("<e>")}, 0);
  EXPECT_EQ(tok.decode(l.ids), "<q>9*9<a>9*9=80<w>9*9=81<e>");
  l = srt_layout(tok.encode("<q>9*9<a>"), tok.encode("9*9=80<e>"), {tok.id("<w>")}, tok.encode("9*9=81<e>"),
                 {tok.id("<e>")}, 14);
  EXPECT_EQ(tok.decode(l.ids), "<q>9*9<a>9*9=80<w>9*");
  EXPECT_EQ(l.revision_mask.size(), 14u);
  EXPECT_EQ(l.revision_mask.back(), 1);
  EXPECT_EQ(l.ids[11], tok.id("<w>"));
  EXPECT_EQ(l.revision_mask[11], 0);  // the cue is generation-only
  EXPECT_EQ(l.generation_mask[11], 1);
}

TEST(ResponseLayout, MasksTheResponse) {
  ByteTok tok;
  MaskedSequence s = response_layout(tok.encode("<q>1<a>"), tok.encode("2<e>"), 0);
  EXPECT_EQ(tok.decode(s.ids), "<q>1<a>2<e>");
  EXPECT_EQ(s.mask, (std::vector<uint8_t>{0, 0, 0, 1, 1}));
  EXPECT_EQ(s.n_targets(), 2);
  EXPECT_EQ(response_layout(tok.encode("<q>1<a>"), tok.encode("2<e>"), 4).n_targets(), 1);
}

// method.student_max_tokens: a student sequence over the limit is scored on y's head only, in the
// student and in the teacher's second copy; the teacher still reads all of y before the cue.
TEST(StudentLimit, CutsTheScoredSpanNotTheTeachersContext) {
  ByteTok tok;
  const Ids prompt = tok.encode("<q>12<a>");  // 4 ids
  const Ids y = tok.encode("abcdef<e>");      // 7 ids
  const Ids cue = {tok.id("<w>")}, stop = {tok.id("<e>")};
  ScoredLayout l = revision_layout(prompt, y, cue, stop, 0);
  limit_student(l, 11);  // 4 + 7: fits
  EXPECT_FALSE(l.truncated);
  EXPECT_EQ(l.scored_ids, y);
  limit_student(l, 0);  // no limit
  EXPECT_EQ(l.n_scored(), 7);
  limit_student(l, 8);  // 4 ids of y
  EXPECT_TRUE(l.truncated);
  EXPECT_EQ(tok.decode(l.scored_ids), "abcd");
  EXPECT_EQ(tok.decode(l.student_ids), "<q>12<a>abcd");
  EXPECT_EQ(tok.decode(l.teacher_ids), "<q>12<a>abcdef<w>abcd");
  for (int64_t t = 0; t < l.n_scored(); ++t) {
    EXPECT_EQ(l.student_ids[size_t(l.student_row + t + 1)], l.scored_ids[size_t(t)]);
    EXPECT_EQ(l.teacher_ids[size_t(l.teacher_row + t + 1)], l.scored_ids[size_t(t)]);
  }
  limit_student(l, 3);  // shorter than the prompt: nothing scored
  EXPECT_EQ(l.n_scored(), 0);
  EXPECT_EQ(tok.decode(l.teacher_ids), "<q>12<a>abcdef<w>");
  // SDFT's layout: the teacher's own prompt, then the same cut y.
  ScoredLayout d = demonstration_layout(prompt, tok.encode("<q>12<r>xy<a>"), y, stop, 0);
  limit_student(d, 6);
  EXPECT_EQ(tok.decode(d.student_ids), "<q>12<a>ab");
  EXPECT_EQ(tok.decode(d.teacher_ids), "<q>12<r>xy<a>ab");
}
