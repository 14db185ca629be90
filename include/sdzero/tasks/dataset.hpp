// defines: Question and the datasets that produce them. JSONL files are read as a stream, one line at
// a time, with configurable field names (first present name wins); every problem names file:line and
// the field. Splits are deterministic by seed and by question id (a hash, not file order), so a
// question keeps its split when a file grows: Q1 (the SRT set), Q2 (the distillation set), Eval.
// Built-in tasks generate their questions from (seed, split, index).
#pragma once
#include <cstdint>
#include <functional>
#include <set>
#include <string>
#include <vector>

#include "sdzero/tasks/builtin.hpp"
#include "sdzero/tasks/verdict.hpp"

namespace sdz {
class Config;
}

namespace sdz::tasks {

struct Question {
  std::string id;             // the id field, else "<file basename>:<line>"; built-in: "<task>-<split>-<index>"
  std::string kind;           // "math" | "code" | a built-in task name
  std::string prompt;         // the question text the model sees
  Target target;              // what the verifier checks against
  std::string demonstration;  // a worked solution (SFT data, SDFT's teacher); may be empty
  // The task's worked solution in its own notation, what the demo's base pretrains on: built-in tasks'
  // solution() (differs from the demonstration with data.demo_style = other); empty for JSONL rows,
  // whose demonstration serves (worked_solution()).
  std::string worked;
  const std::string& worked_solution() const { return worked.empty() ? demonstration : worked; }
  std::string source;         // file:line, for error messages and samples.jsonl
};

struct FieldNames {
  std::vector<std::string> question = {"question", "problem", "prompt"};
  std::vector<std::string> answer = {"answer", "solution"};
  std::vector<std::string> tests = {"tests", "test_cases"};
  std::vector<std::string> demonstration = {"demonstration", "solution"};
  std::vector<std::string> id = {"id"};
  std::vector<std::string> kind = {"kind"};
  std::vector<std::string> language = {"language"};
  std::string default_kind = "math";  // rows without a kind field
};

enum class Split { Q1, Q2, Eval };
const char* split_name(Split s);  // "q1" | "q2" | "eval"

struct SplitSpec {
  uint64_t seed = 1234;
  double eval_fraction = 0.1;  // of all questions
  double q1_fraction = 0.5;    // of the non-eval questions; the rest is Q2
};
Split split_of(const std::string& id, const SplitSpec& spec);

// Streaming reader: one Question per non-blank line. Throws sdz::Error naming file:line for invalid
// JSON, a missing or mistyped field, or an unknown kind.
class JsonlReader {
 public:
  JsonlReader(const std::string& path, FieldNames fields = {});
  ~JsonlReader();
  JsonlReader(const JsonlReader&) = delete;
  JsonlReader& operator=(const JsonlReader&) = delete;
  bool next(Question& q);  // false at end of file
  long line() const { return line_; }

 private:
  struct Impl;
  Impl* impl_;
  std::string path_;
  FieldNames fields_;
  long line_ = 0;
};

// Every question of `path` in `which` split, in file order (limit 0 = all).
std::vector<Question> load_jsonl_split(const std::string& path, const FieldNames& fields, const SplitSpec& spec,
                                       Split which, size_t limit = 0);

// Built-in questions: the index-th question of a split is generated from key_seed(seed, split, index).
// The question space is partitioned by a hash of the question text: a share spec.eval_fraction of it
// is held out, and Eval draws only held-out questions while Q1 and Q2 (and so the demo's pretraining)
// never do. Small spaces need it: div has 320 distinct questions, and without the partition 97% of
// its evaluation questions were training questions. eval_fraction 0: no partition.
bool builtin_held_out(const BuiltinTask& task, const std::string& prompt, const SplitSpec& spec);
Question builtin_question(const BuiltinTask& task, const SplitSpec& spec, Split which, uint64_t index);
std::vector<Question> builtin_split(const BuiltinTask& task, const SplitSpec& spec, Split which, size_t count);
// `count` more questions of a training split (Q1 or Q2), drawn past its first `skip` (indices skip,
// skip + 1, ...), none of whose prompts is in `exclude`: the same distribution, other questions.
// Throws when the space runs out (100 x count draws).
std::vector<Question> builtin_split_besides(const BuiltinTask& task, const SplitSpec& spec, Split which, size_t skip,
                                            size_t count, const std::set<std::string>& exclude);

// The [data] keys: what to load and how many.
struct DatasetSpec {
  std::string task = "cd";  // built-in task name, or "jsonl"
  std::string path, eval_path;
  FieldNames fields;
  SplitSpec split;
  TaskKnobs knobs;
  size_t q1_size = 512, q2_size = 512, eval_size = 400;  // built-in: counts; jsonl: limits (0 = all)
};
DatasetSpec dataset_spec_from(const Config& cfg);
// As many Q1 and Q2 questions of a built-in task as `spec` names, the pass-th set past the splits'
// own (pass p draws from index p x q1_size of Q1 and p x q2_size of Q2), none of whose prompts is in
// `exclude`. The demo's bases read them: demo.pretrain_on = other (pass 1), demo.self_chain_on =
// fresh (pass 2 + round). Throws for a jsonl spec, or when the space runs out.
std::vector<Question> builtin_training_besides(const DatasetSpec& spec, size_t pass, const std::set<std::string>& exclude);
// The questions of one split as the configuration describes them. With data.eval_path set, Eval
// comes from that file (all of it) and data.path holds only Q1 and Q2.
std::vector<Question> load_split(const DatasetSpec& spec, Split which);

}  // namespace sdz::tasks
