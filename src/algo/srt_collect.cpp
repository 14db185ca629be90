// SRT collection clean-ups (see srt_collect.hpp).
#include "sdzero/algo/srt_collect.hpp"

#include <cctype>
#include <set>
#include <tuple>
#include <utility>

#include "sdzero/core/error.hpp"

namespace sdz::algo {

std::string cut_repeated_tail(const std::string& text, int min_repeats, int max_period, int min_chars,
                              int min_period) {
  const size_t n = text.size();
  // The shortest period wins: "abab..." is cut as "ab", not as "abab".
  for (size_t p = size_t(std::max(1, min_period)); p <= size_t(std::max(0, max_period)) && p * size_t(std::max(2, min_repeats)) <= n; ++p) {
    size_t copies = 1;
    while ((copies + 1) * p <= n &&
           text.compare(n - (copies + 1) * p, p, text, n - p, p) == 0)
      ++copies;
    if (copies >= size_t(min_repeats) && copies * p >= size_t(min_chars)) return text.substr(0, n - (copies - 1) * p);
  }
  return text;
}

namespace {
std::string fold(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    // U+2019 RIGHT SINGLE QUOTATION MARK (E2 80 99) -> '
    if (i + 2 < s.size() && (unsigned char)s[i] == 0xE2 && (unsigned char)s[i + 1] == 0x80 &&
        (unsigned char)s[i + 2] == 0x99) {
      out += '\'';
      i += 2;
      continue;
    }
    out += char(std::tolower((unsigned char)s[i]));
  }
  return out;
}
}  // namespace

bool has_sycophantic_opening(const std::string& text, const std::vector<std::string>& openings) {
  size_t b = 0;
  while (b < text.size() && std::isspace((unsigned char)text[b])) ++b;
  const std::string head = fold(text.substr(b, 512));
  for (const auto& o : openings) {
    const std::string f = fold(o);
    if (!f.empty() && head.compare(0, f.size(), f) == 0) return true;
  }
  return false;
}

std::string strip_sycophantic_opening(const std::string& text, const std::vector<std::string>& openings) {
  if (!has_sycophantic_opening(text, openings)) return text;
  size_t b = 0;
  while (b < text.size() && std::isspace((unsigned char)text[b])) ++b;
  size_t end = text.size();  // no sentence end: the whole text was the opening
  for (size_t i = b; i < text.size(); ++i) {
    const char ch = text[i];
    if (ch == '\n') { end = i; break; }
    if ((ch == '.' || ch == '!' || ch == '?') && (i + 1 == text.size() || std::isspace((unsigned char)text[i + 1]))) {
      end = i + 1;
      break;
    }
  }
  while (end < text.size() && std::isspace((unsigned char)text[end])) ++end;
  return text.substr(end);
}

std::vector<std::string> split_list(const std::string& s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    size_t end = s.find(sep, start);
    if (end == std::string::npos) end = s.size();
    std::string item = s.substr(start, end - start);
    size_t a = item.find_first_not_of(" \t"), z = item.find_last_not_of(" \t");
    if (a != std::string::npos) out.push_back(item.substr(a, z - a + 1));
    start = end + 1;
  }
  return out;
}

ReviseWhich parse_revise_which(const std::string& s) {
  if (s == "wrong") return ReviseWhich::Wrong;
  if (s == "correct") return ReviseWhich::Correct;
  if (s == "both") return ReviseWhich::Both;
  throw Error("unknown value '" + s + "'", "srt.revise", "use wrong, correct or both");
}

bool should_revise(float initial_reward, ReviseWhich which) {
  const bool correct = initial_reward > 0.5f;
  return which == ReviseWhich::Both || (which == ReviseWhich::Correct) == correct;
}

std::vector<RevisionCandidate> clean_revisions(std::vector<RevisionCandidate> cands, const CleanupOptions& opt,
                                               const std::function<Ids(const std::string&)>& retokenize,
                                               CollectStats* stats) {
  CollectStats st;
  st.candidates = int64_t(cands.size());
  std::set<std::tuple<int64_t, std::string, std::string>> seen;
  std::vector<RevisionCandidate> kept;
  // Cuts text's repeated tail (cut_passes passes) and re-encodes ids; false when there was none.
  auto cut_tail = [&](std::string& text, Ids& ids, const char* what) {
    std::string cut = text;
    for (int pass = 0; pass < std::max(1, opt.cut_passes); ++pass) {  // a loop inside a loop: cut again
      std::string again = cut_repeated_tail(cut, opt.min_repeats, opt.max_period, 32, opt.min_period);
      if (again.size() == cut.size()) break;
      cut = std::move(again);
    }
    if (cut.size() == text.size()) return false;
    text = std::move(cut);
    SDZ_CHECK(bool(retokenize), std::string("a ") + what + " was cut but no tokenizer was given to re-encode it",
              "algo::clean_revisions");
    ids = retokenize(text);
    return true;
  };
  for (auto& c : cands) {
    if (c.reward <= 0.5f) { ++st.unverified; continue; }
    // The released code cleans y0 as well. A cut y0 keeps its unlikelihood mark only where it still
    // writes the marked token (its stop id is stripped where y0 is laid out).
    if (opt.cut_repeats && opt.clean_initial && cut_tail(c.initial_text, c.initial_ids, "initial answer")) {
      ++st.initial_cut;
      if (c.avoid_at >= 0 && (c.avoid_at >= int64_t(c.initial_ids.size()) ||
                              c.initial_ids[size_t(c.avoid_at)] != c.avoid_token))
        c.avoid_at = -1, c.avoid_token = -1;
    }
    if (opt.cut_repeats && cut_tail(c.revision_text, c.revision_ids, "revision")) ++st.cut;
    if (has_sycophantic_opening(c.revision_text, opt.sycophantic_openings)) {
      ++st.sycophantic;
      if (!opt.strip_sycophantic) continue;
      c.revision_text = strip_sycophantic_opening(c.revision_text, opt.sycophantic_openings);
      if (c.revision_text.empty()) continue;
      SDZ_CHECK(bool(retokenize), "a revision was stripped but no tokenizer was given to re-encode it",
                "algo::clean_revisions");
      Ids ids = retokenize(c.revision_text);  // ends with the stop id: keep it only where the revision had one
      if (!ids.empty() && (c.revision_ids.empty() || c.revision_ids.back() != ids.back())) ids.pop_back();
      c.revision_ids = std::move(ids);
    }
    if (opt.dedupe &&
        !seen.insert({c.question_id, opt.dedupe_per_initial ? c.initial_text : std::string(), c.revision_text}).second) {
      ++st.duplicates;
      continue;
    }
    kept.push_back(std::move(c));
  }
  st.kept = int64_t(kept.size());
  if (stats) *stats = st;
  return kept;
}

SrtTrace to_trace(const RevisionCandidate& c) {
  SrtTrace t;
  t.question_id = c.question_id;
  t.prompt_ids = c.prompt_ids;
  t.initial_ids = c.initial_ids;
  t.cue_ids = c.cue_ids;
  t.revision_ids = c.revision_ids;
  t.initial_reward = c.initial_reward;
  t.avoid_at = c.avoid_at;
  t.avoid_token = c.avoid_token;
  return t;
}

nlohmann::json trace_json(const RevisionCandidate& c) {
  nlohmann::json j{{"question_id", c.question_id}, {"prompt", c.prompt_text},
                   {"initial", c.initial_text},    {"initial_reward", c.initial_reward},
                   {"revision", c.revision_text},  {"reward", c.reward},
                   {"prompt_ids", c.prompt_ids},   {"initial_ids", c.initial_ids},
                   {"cue_ids", c.cue_ids},         {"revision_ids", c.revision_ids}};
  // Only traces that carry an unlikelihood row say so: without srt.unlikelihood the file is as before.
  if (c.avoid_at >= 0) j["avoid"] = {{"at", c.avoid_at}, {"token", c.avoid_token}};
  return j;
}

SrtTrace trace_from_json(const nlohmann::json& j, const std::string& where) {
  if (!j.is_object()) throw Error("an SRT trace must be a JSON object", where);
  auto ids = [&](const char* field) {
    auto it = j.find(field);
    if (it == j.end() || !it->is_array())
      throw Error(std::string("SRT trace has no '") + field + "' id array", where,
                  "traces are read back from the JSONL that SRT collection wrote (it carries the token ids)");
    Ids out;
    out.reserve(it->size());
    for (const auto& v : *it) {
      if (!v.is_number_integer()) throw Error(std::string("non-integer token id in '") + field + "'", where);
      out.push_back(v.get<int32_t>());
    }
    return out;
  };
  SrtTrace t;
  if (!j.contains("question_id") || !j["question_id"].is_number_integer())
    throw Error("SRT trace has no integer 'question_id'", where);
  t.question_id = j["question_id"].get<int64_t>();
  t.prompt_ids = ids("prompt_ids");
  t.initial_ids = ids("initial_ids");
  t.cue_ids = ids("cue_ids");
  t.revision_ids = ids("revision_ids");
  if (!j.contains("initial_reward") || !j["initial_reward"].is_number())
    throw Error("SRT trace has no numeric 'initial_reward'", where);
  t.initial_reward = j["initial_reward"].get<float>();
  if (auto a = j.find("avoid"); a != j.end()) {
    if (!a->is_object() || !a->contains("at") || !(*a)["at"].is_number_integer() || !a->contains("token") ||
        !(*a)["token"].is_number_integer())
      throw Error("SRT trace's 'avoid' must be {\"at\": integer, \"token\": integer}", where);
    t.avoid_at = (*a)["at"].get<int64_t>();
    t.avoid_token = (*a)["token"].get<int32_t>();
    if (t.avoid_at < 0 || t.avoid_at > int64_t(t.initial_ids.size()) || t.avoid_token < 0)
      throw Error("SRT trace's 'avoid' is outside its initial response (at " + std::to_string(t.avoid_at) + ", " +
                      std::to_string(t.initial_ids.size()) + " initial tokens)", where);
  }
  return t;
}

}  // namespace sdz::algo
