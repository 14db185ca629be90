// Token layouts of the teacher, SDFT, SRT and plain response sequences (see layout.hpp).
#include "sdzero/algo/layout.hpp"

#include <algorithm>

#include "sdzero/core/error.hpp"

namespace sdz::algo {

namespace {
bool is_stop(int32_t id, const Ids& stop_ids) {
  return std::find(stop_ids.begin(), stop_ids.end(), id) != stop_ids.end();
}
void append(Ids& dst, const Ids& src) { dst.insert(dst.end(), src.begin(), src.end()); }
void check_prompt(const Ids& prompt, const char* where) {
  SDZ_CHECK(!prompt.empty(), "empty prompt: no position predicts the first response token", where,
            "render the chat template before laying out a sequence");
}
}  // namespace

int64_t TeacherSignal::n_scored() const {
  if (topk_ids.defined()) return topk_ids.size(0);
  if (full_logprobs.defined()) return full_logprobs.size(0);
  if (token_logprobs.defined()) return token_logprobs.size(0);
  return 0;
}

Ids strip_stop(const Ids& response, const Ids& stop_ids) {
  if (!response.empty() && is_stop(response.back(), stop_ids)) return Ids(response.begin(), response.end() - 1);
  return response;
}

ScoredLayout revision_layout(const Ids& prompt, const Ids& response, const Ids& cue, const Ids& stop_ids,
                             int64_t teacher_limit) {
  check_prompt(prompt, "algo::revision_layout");
  Ids body = strip_stop(response, stop_ids);
  Ids scored = response;
  const int64_t full = int64_t(prompt.size() + body.size() + cue.size() + response.size());
  bool truncated = false;
  if (teacher_limit > 0 && full > teacher_limit) {
    const int64_t room = std::max<int64_t>(0, (teacher_limit - int64_t(prompt.size() + cue.size())) / 2);
    body.resize(size_t(std::min<int64_t>(room, int64_t(body.size()))));
    scored = body;  // a cut response never ended: its stop id is not a target
    truncated = true;
  }
  ScoredLayout out;
  out.student_ids = prompt;
  append(out.student_ids, scored);
  out.teacher_ids = prompt;
  append(out.teacher_ids, body);
  append(out.teacher_ids, cue);
  out.teacher_row = int64_t(out.teacher_ids.size()) - 1;
  append(out.teacher_ids, scored);
  out.student_row = int64_t(prompt.size()) - 1;
  out.scored_ids = std::move(scored);
  out.truncated = truncated;
  return out;
}

ScoredLayout demonstration_layout(const Ids& prompt, const Ids& teacher_prompt, const Ids& response,
                                  const Ids& stop_ids, int64_t teacher_limit) {
  check_prompt(prompt, "algo::demonstration_layout");
  check_prompt(teacher_prompt, "algo::demonstration_layout (teacher prompt)");
  Ids scored = response;
  bool truncated = false;
  if (teacher_limit > 0 && int64_t(teacher_prompt.size() + response.size()) > teacher_limit) {
    Ids body = strip_stop(response, stop_ids);
    const int64_t room = std::max<int64_t>(0, teacher_limit - int64_t(teacher_prompt.size()));
    body.resize(size_t(std::min<int64_t>(room, int64_t(body.size()))));
    scored = body;
    truncated = true;
  }
  ScoredLayout out;
  out.student_ids = prompt;
  append(out.student_ids, scored);
  out.teacher_ids = teacher_prompt;
  append(out.teacher_ids, scored);
  out.student_row = int64_t(prompt.size()) - 1;
  out.teacher_row = int64_t(teacher_prompt.size()) - 1;
  out.scored_ids = std::move(scored);
  out.truncated = truncated;
  return out;
}

void limit_student(ScoredLayout& l, int64_t student_limit) {
  const int64_t prompt = l.student_row + 1;
  const int64_t room = std::max<int64_t>(0, student_limit - prompt);
  if (student_limit <= 0 || l.n_scored() <= room) return;
  SDZ_CHECK(l.teacher_row + 1 + l.n_scored() == int64_t(l.teacher_ids.size()),
            "the teacher's scored span is not the tail of its sequence", "algo::limit_student");
  l.scored_ids.resize(size_t(room));
  l.student_ids.resize(size_t(prompt + room));
  l.teacher_ids.resize(size_t(l.teacher_row + 1 + room));
  l.truncated = true;
}

int64_t MaskedSequence::n_targets() const {
  return int64_t(std::count_if(mask.begin(), mask.end(), [](uint8_t m) { return m != 0; }));
}

MaskedSequence response_layout(const Ids& prompt, const Ids& response, int64_t max_tokens) {
  check_prompt(prompt, "algo::response_layout");
  MaskedSequence out;
  out.ids = prompt;
  append(out.ids, response);
  out.mask.assign(prompt.size(), 0);
  out.mask.resize(out.ids.size(), 1);
  if (max_tokens > 0 && int64_t(out.ids.size()) > max_tokens) {
    out.ids.resize(size_t(max_tokens));
    out.mask.resize(size_t(max_tokens));
  }
  return out;
}

SrtLayout srt_layout(const Ids& prompt, const Ids& initial, const Ids& cue, const Ids& revision,
                     const Ids& stop_ids, int64_t max_tokens) {
  check_prompt(prompt, "algo::srt_layout");
  SrtLayout out;
  out.ids = prompt;
  append(out.ids, strip_stop(initial, stop_ids));
  append(out.ids, cue);
  const size_t rev_begin = out.ids.size();
  append(out.ids, revision);
  out.generation_mask.assign(prompt.size(), 0);
  out.generation_mask.resize(out.ids.size(), 1);
  out.revision_mask.assign(rev_begin, 0);
  out.revision_mask.resize(out.ids.size(), 1);
  if (max_tokens > 0 && int64_t(out.ids.size()) > max_tokens) {
    out.ids.resize(size_t(max_tokens));
    out.generation_mask.resize(size_t(max_tokens));
    out.revision_mask.resize(size_t(max_tokens));
  }
  return out;
}

}  // namespace sdz::algo
