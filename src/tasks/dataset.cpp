// JSONL questions, hash splits and built-in question streams.
#include "sdzero/tasks/dataset.hpp"

#include <fstream>
#include <iterator>
#include <utility>
#include <nlohmann/json.hpp>

#include "sdzero/core/error.hpp"
#include "sdzero/core/files.hpp"
#include "sdzero/core/rng.hpp"
#include "sdzero/core/strings.hpp"

namespace sdz::tasks {

const char* split_name(Split s) { return s == Split::Q1 ? "q1" : s == Split::Q2 ? "q2" : "eval"; }

namespace {
double unit(uint64_t h) { return double(h >> 11) * (1.0 / 9007199254740992.0); }  // [0, 1) from 53 bits
}  // namespace

Split split_of(const std::string& id, const SplitSpec& spec) {
  double u = unit(key_seed({spec.seed, hash_string(id)}));
  if (u < spec.eval_fraction) return Split::Eval;
  double rest = spec.eval_fraction < 1 ? (u - spec.eval_fraction) / (1 - spec.eval_fraction) : 0;
  return rest < spec.q1_fraction ? Split::Q1 : Split::Q2;
}

struct JsonlReader::Impl {
  std::ifstream in;
};

JsonlReader::JsonlReader(const std::string& path, FieldNames fields)
    : impl_(new Impl), path_(path), fields_(std::move(fields)) {
  if (is_directory(path)) {  // an ifstream opens one and then fails at the first read ("DIR:0")
    delete impl_;
    throw Error("is a directory, not a JSONL file", path, "check data.path / data.eval_path");
  }
  impl_->in.open(path, std::ios::binary);
  if (!impl_->in) {
    delete impl_;
    throw Error("cannot open dataset file", path, "check data.path / data.eval_path");
  }
}

JsonlReader::~JsonlReader() { delete impl_; }

namespace {

// The first of `names` present in j (nullptr when none).
const nlohmann::json* field(const nlohmann::json& j, const std::vector<std::string>& names, std::string& which) {
  for (const auto& n : names)
    if (j.contains(n) && !j[n].is_null()) return which = n, &j[n];
  return nullptr;
}

std::string as_text(const nlohmann::json& v, const std::string& name, const std::string& where) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number()) return v.dump();
  throw Error("field '" + name + "' must be a string or a number, not " + std::string(v.type_name()), where);
}

std::string base_name(const std::string& p) {
  size_t s = p.rfind('/');
  return s == std::string::npos ? p : p.substr(s + 1);
}

}  // namespace

bool JsonlReader::next(Question& q) {
  std::string text;
  while (std::getline(impl_->in, text)) {
    ++line_;
    if (trim(text).empty()) continue;
    const std::string where = at_line(path_, line_);
    nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
    if (j.is_discarded()) throw Error("invalid JSON", where, "each line must be one JSON object");
    if (!j.is_object()) throw Error("line is not a JSON object", where);
    q = Question();
    q.source = where;
    std::string name;
    const nlohmann::json* v = field(j, fields_.id, name);
    q.id = v ? as_text(*v, name, where) : base_name(path_) + ":" + std::to_string(line_);
    v = field(j, fields_.kind, name);
    q.kind = v ? as_text(*v, name, where) : fields_.default_kind;
    if (q.kind != "math" && q.kind != "code" && !is_builtin_task(q.kind))
      throw Error("unknown kind '" + q.kind + "'", where, "math, code, div, cd, mul, arith or countdown");
    v = field(j, fields_.question, name);
    if (!v)
      throw Error("missing field '" + fields_.question.front() + "' (looked for " + join(fields_.question, ", ") + ")",
                  where, "set data.question_field to the name your file uses");
    q.prompt = as_text(*v, name, where);
    if ((v = field(j, fields_.demonstration, name))) q.demonstration = as_text(*v, name, where);
    if ((v = field(j, fields_.language, name))) q.target.language = as_text(*v, name, where);
    if (q.kind == "code") {
      v = field(j, fields_.tests, name);
      if (!v)
        throw Error("missing field '" + fields_.tests.front() + "' (looked for " + join(fields_.tests, ", ") + ")",
                    where, "code questions need tests: [{\"input\": ..., \"output\": ...}]");
      if (!v->is_array() || v->empty()) throw Error("field '" + name + "' must be a non-empty array", where);
      for (size_t k = 0; k < v->size(); ++k) {
        const auto& t = (*v)[k];
        std::string tn = name + "[" + std::to_string(k) + "]";
        if (!t.is_object() || !t.contains("input") || !t.contains("output"))
          throw Error("field '" + tn + "' needs \"input\" and \"output\"", where);
        q.target.tests.push_back({as_text(t["input"], tn + ".input", where), as_text(t["output"], tn + ".output", where)});
      }
    } else {
      v = field(j, fields_.answer, name);
      if (!v)
        throw Error("missing field '" + fields_.answer.front() + "' (looked for " + join(fields_.answer, ", ") + ")",
                    where, "set data.answer_field to the name your file uses");
      q.target.answer = as_text(*v, name, where);
    }
    return true;
  }
  if (impl_->in.bad()) throw Error("read error", at_line(path_, line_));
  return false;
}

std::vector<Question> load_jsonl_split(const std::string& path, const FieldNames& fields, const SplitSpec& spec,
                                       Split which, size_t limit) {
  std::vector<Question> out;
  JsonlReader r(path, fields);
  Question q;
  while ((limit == 0 || out.size() < limit) && r.next(q))
    if (split_of(q.id, spec) == which) out.push_back(std::move(q));
  return out;
}

bool builtin_held_out(const BuiltinTask& task, const std::string& prompt, const SplitSpec& spec) {
  if (spec.eval_fraction <= 0) return false;
  return unit(key_seed({spec.seed, hash_string(task.name()), hash_string(prompt)})) < spec.eval_fraction;
}

Question builtin_question(const BuiltinTask& task, const SplitSpec& spec, Split which, uint64_t index) {
  const bool want_eval = which == Split::Eval;
  if (!want_eval && spec.eval_fraction >= 1)
    throw Error("data.eval_fraction = 1 holds out every question of built-in task " + task.name() +
                    ": nothing is left to train on", "data.eval_fraction", "use a value below 1");
  // Redraw until the question is on the split's side of the held-out partition; without one
  // (eval_fraction 0) the first draw stands and evaluation questions may repeat training ones.
  constexpr uint64_t kDraws = 100000;
  for (uint64_t draw = 0; draw < kDraws; ++draw) {
    Problem p = task.generate(draw == 0 ? key_seed({spec.seed, hash_string(task.name()), uint64_t(which), index})
                                        : key_seed({spec.seed, hash_string(task.name()), uint64_t(which), index, draw}));
    if (spec.eval_fraction > 0 && builtin_held_out(task, p.question, spec) != want_eval) continue;
    Question q;
    q.id = task.name() + "-" + split_name(which) + "-" + std::to_string(index);
    q.kind = task.name();
    q.prompt = p.question;
    q.target.answer = p.target;
    q.demonstration = task.demonstration(p);
    q.worked = task.solution(p);
    q.source = "built-in:" + q.id;
    return q;
  }
  throw Error(strprintf("no %s question of built-in task %s in %llu draws: its question space is too small for the "
                        "held-out share", want_eval ? "held-out" : "training", task.name().c_str(),
                        (unsigned long long)kDraws),
              "data.eval_fraction", "raise or lower it, or widen the task's ranges (e.g. data.div_quotient_max)");
}

std::vector<Question> builtin_split(const BuiltinTask& task, const SplitSpec& spec, Split which, size_t count) {
  std::vector<Question> out;
  out.reserve(count);
  for (size_t i = 0; i < count; ++i) out.push_back(builtin_question(task, spec, which, i));
  return out;
}

std::vector<Question> builtin_split_besides(const BuiltinTask& task, const SplitSpec& spec, Split which, size_t skip,
                                            size_t count, const std::set<std::string>& exclude) {
  SDZ_CHECK(which != Split::Eval, "only a training split has questions besides its own", "tasks::builtin_split_besides");
  std::vector<Question> out;
  for (size_t i = skip; out.size() < count; ++i) {
    if (i >= skip + 100 * count)
      throw Error(strprintf("built-in task %s has fewer than %zu %s questions besides the %zu excluded ones",
                            task.name().c_str(), count, split_name(which), exclude.size()),
                  "data.task", "a task with a larger question space (e.g. data.cd_numbers = 4)");
    Question q = builtin_question(task, spec, which, i);
    if (!exclude.count(q.prompt)) out.push_back(std::move(q));
  }
  return out;
}

std::vector<Question> builtin_training_besides(const DatasetSpec& spec, size_t pass, const std::set<std::string>& exclude) {
  if (spec.task == "jsonl") throw Error("only a built-in task can draw other training questions", "data.task");
  const auto task = make_builtin_task(spec.task, spec.knobs);
  std::vector<Question> out;
  for (auto [which, n] : {std::pair{Split::Q1, spec.q1_size}, std::pair{Split::Q2, spec.q2_size}}) {
    auto part = builtin_split_besides(*task, spec.split, which, pass * n, n, exclude);
    out.insert(out.end(), std::make_move_iterator(part.begin()), std::make_move_iterator(part.end()));
  }
  return out;
}

std::vector<Question> load_split(const DatasetSpec& spec, Split which) {
  size_t n = which == Split::Q1 ? spec.q1_size : which == Split::Q2 ? spec.q2_size : spec.eval_size;
  if (spec.task != "jsonl") return builtin_split(*make_builtin_task(spec.task, spec.knobs), spec.split, which, n);
  if (spec.path.empty()) throw Error("data.task is jsonl but data.path is empty", "data.path");
  if (!spec.eval_path.empty()) {
    if (which == Split::Eval) {
      SplitSpec all = spec.split;
      all.eval_fraction = 1.0;
      return load_jsonl_split(spec.eval_path, spec.fields, all, Split::Eval, n);
    }
    SplitSpec train = spec.split;
    train.eval_fraction = 0.0;
    return load_jsonl_split(spec.path, spec.fields, train, which, n);
  }
  return load_jsonl_split(spec.path, spec.fields, spec.split, which, n);
}

}  // namespace sdz::tasks
