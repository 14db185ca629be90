// The [data] and [reward] keys, and the structs they fill.
#include "sdzero/tasks/keys.hpp"

#include "sdzero/core/error.hpp"
#include "sdzero/core/strings.hpp"
#include "sdzero/tasks/builtin.hpp"
#include "sdzero/tasks/dataset.hpp"
#include "sdzero/tasks/verifier.hpp"

namespace sdz {

void declare_tasks_keys(Schema& s) {
  s.add_string("data.task", "cd", "Questions: a built-in task (div, cd, mul, arith, countdown) or 'jsonl' to read data.path.",
               {"div", "cd", "mul", "arith", "countdown", "jsonl"});
  s.add_string("data.path", "", "JSONL file of questions (data.task = jsonl); read as a stream.");
  s.add_string("data.eval_path", "", "Optional JSONL file of held-out questions; when set, data.path gives only Q1 and Q2.");
  s.add_string("data.kind", "math", "Verifier of JSONL rows that have no kind field.", {"math", "code", "div", "cd", "mul", "arith", "countdown"});
  s.add_string("data.question_field", "question,problem,prompt", "Field names of the question text; the first present wins.");
  s.add_string("data.answer_field", "answer,solution", "Field names of the reference answer (a \\boxed{} inside it is extracted).");
  s.add_string("data.tests_field", "tests,test_cases", "Field names of code tests: [{\"input\": ..., \"output\": ...}].");
  s.add_string("data.demo_field", "demonstration,solution", "Field names of a worked solution (SDFT demonstrations).");
  s.add_string("data.demo_style", "own",
               "Built-in tasks' demonstrations (what SDFT's teacher reads): own (the worked solution, the "
               "pretraining's notation) or other (what another model might write: div the same answer in another "
               "notation; cd another of the correct equations where there are several; div and cd only).",
               {"own", "other"});
  s.add_string("data.id_field", "id", "Field names of a stable question id (default: file:line); splits hash the id.");
  s.add_string("data.kind_field", "kind", "Field names of the per-row verifier kind.");
  s.add_int("data.split_seed", 1234, "Seed of the Q1/Q2/eval split and of built-in question generation.", 0);
  s.add_float("data.eval_fraction", 0.1,
              "Share held out for evaluation: of a JSONL file's rows by id (without data.eval_path), or of a "
              "built-in task's question space by question text (evaluation draws only those, training "
              "never; 0 = no partition, so evaluation may repeat training questions).",
              0.0, 1.0);
  s.add_float("data.q1_fraction", 0.5, "Share of the training questions in Q1 (the SRT set); the rest is Q2 (distillation).", 0.0, 1.0);
  s.add_int("data.q1_size", 512, "Questions in Q1: built-in count, or JSONL limit (0 = all).", 0);
  s.add_int("data.q2_size", 512, "Questions in Q2: built-in count, or JSONL limit (0 = all).", 0);
  s.add_int("data.eval_size", 400, "Held-out questions: built-in count, or JSONL limit (0 = all).", 0);
  s.add_int("data.div_quotient_min", 10, "div: smallest quotient.", 1, 1000000);
  s.add_int("data.div_quotient_max", 49, "div: largest quotient.", 1, 1000000);
  s.add_int("data.div_divisor_min", 2, "div: smallest divisor.", 1, 1000000);
  s.add_int("data.div_divisor_max", 9, "div: largest divisor.", 1, 1000000);
  s.add_int("data.cd_numbers", 4, "cd (Countdown-lite): numbers offered.", 2, 10);
  s.add_int("data.cd_max", 9, "cd: largest number offered.", 2, 1000);
  s.add_string("data.cd_ops", "+-*", "cd: the operators whose equations set the targets and write the worked solutions, "
               "wrong attempts and corrections (any of + - *, each once). Fewer operators: fewer candidate equations "
               "per question. The verifier accepts any of + - * whatever this says.");
  s.add_int("data.mul_digits", 4, "mul: digits of the multiplicand (the multiplier has one).", 1, 12);
  s.add_int("data.mul_multiplier_max", 9, "mul: largest multiplier.", 2, 9);
  s.add_int("data.arith_ops", 3, "arith: operators per expression (scratchpad steps).", 1, 8);
  s.add_int("data.arith_max", 99, "arith: largest operand.", 2, 99);
  s.add_bool("data.arith_mul", true, "arith: allow '*' (done before + and -).");
  s.add_int("data.countdown_numbers", 6, "countdown: numbers offered.", 3, 8);
  s.add_int("data.countdown_target_min", 100, "countdown: smallest target.", 1, 1000000);
  s.add_int("data.countdown_target_max", 999, "countdown: largest target.", 1, 1000000);

  s.add_string("reward.command", "", "External verifier: a program kept alive that reads {\"kind\",\"response\",\"answer\"} JSON lines and writes {\"reward\"} lines. Empty: built-in verifiers.");
  s.add_float("reward.command_timeout", 30.0, "Seconds reward.command may take per answer before it is an error.", 0.001, 86400.0);
  s.add_int("reward.workers", 4, "Parallel verifications (and tests of one program).", 1, 256);
  s.add_float("reward.math_timeout", 2.0, "Wall-clock seconds per math equivalence check (over: reward 0).", 0.0, 600.0);
  s.add_float("reward.math_rel_tol", 1e-6, "Relative tolerance of numeric math comparisons.", 0.0, 1.0);
  s.add_string("reward.code_language", "python", "Language of code without a fence tag or dataset language.", {"python", "cpp"});
  s.add_float("reward.code_time_limit", 2.0, "Wall-clock and CPU seconds per test run.", 0.01, 3600.0);
  s.add_float("reward.compile_time_limit", 30.0, "Wall-clock seconds for g++.", 0.1, 3600.0);
  s.add_int("reward.code_memory_mb", 1024, "Address-space limit of a test run, MiB.", 16, 1 << 20);
  s.add_int("reward.code_output_kb", 1024, "Stdout cap of a test run, KiB (over: killed, reward 0).", 1, 1 << 20);
  s.add_int("reward.code_processes", 64, "Process limit of the sandbox user (fork bombs).", 1, 100000);
  s.add_string("reward.sandbox_network", "isolate", "isolate: new network namespace where permitted (warn otherwise); require: refuse to run without one; allow: no isolation.",
               {"isolate", "require", "allow"});
  s.add_bool("reward.sandbox_userns", true, "Not running as root: get the network namespace through a new user namespace where the kernel allows.");
  s.add_string("reward.python", "python3", "Python interpreter for code questions.");
  s.add_string("reward.cxx", "g++", "C++ compiler for code questions.");
}

namespace tasks {

static std::vector<std::string> names(const Config& c, const std::string& key) {
  std::vector<std::string> out;
  for (const auto& p : split(c.get_string(key), ','))
    if (!trim(p).empty()) out.push_back(trim(p));
  return out;
}

TaskKnobs task_knobs_from(const Config& c) {
  TaskKnobs k;
  k.demo_other_style = c.get_string("data.demo_style") == "other";
  k.div_quotient_min = int(c.get_int("data.div_quotient_min"));
  k.div_quotient_max = int(c.get_int("data.div_quotient_max"));
  k.div_divisor_min = int(c.get_int("data.div_divisor_min"));
  k.div_divisor_max = int(c.get_int("data.div_divisor_max"));
  k.cd_numbers = int(c.get_int("data.cd_numbers"));
  k.cd_max = int(c.get_int("data.cd_max"));
  k.cd_ops = c.get_string("data.cd_ops");
  for (size_t i = 0; i < k.cd_ops.size(); ++i)
    if (std::string("+-*").find(k.cd_ops[i]) == std::string::npos || k.cd_ops.find(k.cd_ops[i]) != i)
      throw Error("\"" + k.cd_ops + "\" is not a set of + - *", "data.cd_ops", "e.g. +-* or +*");
  if (k.cd_ops.empty()) throw Error("is empty", "data.cd_ops", "e.g. +-* or +*");
  k.mul_digits = int(c.get_int("data.mul_digits"));
  k.mul_multiplier_max = int(c.get_int("data.mul_multiplier_max"));
  k.arith_ops = int(c.get_int("data.arith_ops"));
  k.arith_max = int(c.get_int("data.arith_max"));
  k.arith_mul = c.get_bool("data.arith_mul");
  k.countdown_numbers = int(c.get_int("data.countdown_numbers"));
  k.countdown_target_min = int(c.get_int("data.countdown_target_min"));
  k.countdown_target_max = int(c.get_int("data.countdown_target_max"));
  if (k.div_quotient_min > k.div_quotient_max)
    throw Error("data.div_quotient_min is larger than data.div_quotient_max", "data.div_quotient_min");
  if (k.div_divisor_min > k.div_divisor_max)
    throw Error("data.div_divisor_min is larger than data.div_divisor_max", "data.div_divisor_min");
  if (k.countdown_target_min > k.countdown_target_max)
    throw Error("data.countdown_target_min is larger than data.countdown_target_max", "data.countdown_target_min");
  return k;
}

DatasetSpec dataset_spec_from(const Config& c) {
  DatasetSpec d;
  d.task = c.get_string("data.task");
  d.path = c.get_string("data.path");
  d.eval_path = c.get_string("data.eval_path");
  d.fields.default_kind = c.get_string("data.kind");
  d.fields.question = names(c, "data.question_field");
  d.fields.answer = names(c, "data.answer_field");
  d.fields.tests = names(c, "data.tests_field");
  d.fields.demonstration = names(c, "data.demo_field");
  d.fields.id = names(c, "data.id_field");
  d.fields.kind = names(c, "data.kind_field");
  if (d.fields.question.empty()) throw Error("no field names given", "data.question_field");
  if (d.fields.answer.empty()) throw Error("no field names given", "data.answer_field");
  if (d.fields.tests.empty()) throw Error("no field names given", "data.tests_field");
  d.split.seed = uint64_t(c.get_int("data.split_seed"));
  d.split.eval_fraction = c.get_float("data.eval_fraction");
  d.split.q1_fraction = c.get_float("data.q1_fraction");
  d.knobs = task_knobs_from(c);
  d.q1_size = size_t(c.get_int("data.q1_size"));
  d.q2_size = size_t(c.get_int("data.q2_size"));
  d.eval_size = size_t(c.get_int("data.eval_size"));
  if (d.task == "jsonl" && d.path.empty()) throw Error("data.task is jsonl but no file is given", "data.path");
  if (d.task != "jsonl" && (!d.path.empty() || !d.eval_path.empty()))  // a file that would be silently ignored
    throw Error("data.task = " + d.task + " is a built-in task and reads no file",
                d.path.empty() ? "data.eval_path" : "data.path", "set data.task = jsonl to read the file, or leave the key empty");
  if (d.knobs.demo_other_style && (d.task == "jsonl" || !make_builtin_task(d.task, d.knobs)->has_other_style_demonstrations()))
    throw Error("demonstrations in another style exist for the built-in div and cd tasks only, not '" + d.task + "'",
                "data.demo_style", "use data.demo_style = own, or data.task = div or cd");
  return d;
}

VerifierOptions verifier_options_from(const Config& c) {
  VerifierOptions v;
  v.command = c.get_string("reward.command");
  v.command_timeout_s = c.get_float("reward.command_timeout");
  v.workers = int(c.get_int("reward.workers"));
  v.math.time_limit_s = c.get_float("reward.math_timeout");
  v.math.rel_tol = c.get_float("reward.math_rel_tol");
  v.code.workers = v.workers;
  v.code.default_language = c.get_string("reward.code_language");
  v.code.run.wall_seconds = v.code.run.cpu_seconds = c.get_float("reward.code_time_limit");
  v.code.run.memory_bytes = size_t(c.get_int("reward.code_memory_mb")) << 20;
  v.code.run.output_bytes = size_t(c.get_int("reward.code_output_kb")) << 10;
  v.code.run.processes = int(c.get_int("reward.code_processes"));
  v.code.compile.wall_seconds = v.code.compile.cpu_seconds = c.get_float("reward.compile_time_limit");
  v.code.compile.processes = int(c.get_int("reward.code_processes"));
  const std::string& net = c.get_string("reward.sandbox_network");
  v.code.sandbox.network = net == "require" ? NetworkPolicy::Require : net == "allow" ? NetworkPolicy::Allow : NetworkPolicy::Isolate;
  v.code.sandbox.user_namespace = c.get_bool("reward.sandbox_userns");
  v.code.python = c.get_string("reward.python");
  v.code.cxx = c.get_string("reward.cxx");
  return v;
}

}  // namespace tasks
}  // namespace sdz
