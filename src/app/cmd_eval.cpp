// `sdzero eval`: evaluate any model (a model directory or a checkpoint) on a JSONL question file:
// avg@k, pass@k, greedy, length, self-revision rate, generate-then-revise, hindsight, and the
// token-level self-localization diagnostic with its plot. Questions are shared out over MPI ranks.
#include <unistd.h>

#include <cstdlib>
#include <iostream>

#include "sdzero/app/command.hpp"
#include "sdzero/app/schema.hpp"
#include "sdzero/app/setup.hpp"
#include "sdzero/ckpt/checkpoint.hpp"
#include "sdzero/ckpt/run_dir.hpp"
#include "sdzero/ckpt/torch_state.hpp"
#include "sdzero/core/error.hpp"
#include "sdzero/core/files.hpp"
#include "sdzero/core/log.hpp"
#include "sdzero/core/strings.hpp"
#include "sdzero/model/config.hpp"
#include "sdzero/model/weights.hpp"
#include "sdzero/pipeline/eval_localization.hpp"
#include "sdzero/pipeline/eval_protocol.hpp"
#include "sdzero/tasks/dataset.hpp"
#include "sdzero/text/char_tokenizer.hpp"

namespace sdz::app {

namespace {

bool is_checkpoint(const std::string& path) {
  if (ends_with(path, ".h5")) return true;
  return !file_exists(path + "/config.json") && file_exists(ckpt::checkpoint_dir(path));
}

// A checkpoint file, or the newest one of a run directory.
std::string checkpoint_file(const std::string& path) {
  if (ends_with(path, ".h5")) return path;
  auto all = ckpt::list_checkpoints(path);
  if (all.empty()) throw Error("no checkpoint in " + ckpt::checkpoint_dir(path), path);
  return all.back().second;
}

// A resolved config.ini (Config::to_ini) lists every key; keys still at their defaults must stay
// defaults when it is read back (prompt.format = toy picks toy cues only for keys left at their
// defaults), so only the keys marked "# set at ..." are kept.
std::string explicit_keys_only(const std::string& ini) {
  std::string out;
  bool keep_next = false;
  for (const std::string& line : split(ini, '\n')) {
    const std::string t = trim(line);
    if (starts_with(t, "[")) {
      out += t + "\n";
    } else if (starts_with(t, "# set at")) {
      keep_next = true;
    } else if (!t.empty() && t[0] != '#' && t[0] != ';') {
      if (keep_next) out += line + "\n";
      keep_next = false;
    }
  }
  return out;
}

// The configuration that describes the model when no --config is given: a checkpoint's own, or the
// config.ini of the run directory a saved policy (RUN/final) sits in. "" when there is none.
std::string implied_config_text(const std::string& model_path) {
  if (is_checkpoint(model_path))
    return explicit_keys_only(ckpt::load_checkpoint(checkpoint_file(model_path)).config_text);
  std::string parent = model_path;
  while (!parent.empty() && parent.back() == '/') parent.pop_back();
  const size_t slash = parent.rfind('/');
  parent = slash == std::string::npos ? "." : parent.substr(0, slash);
  return file_exists(parent + "/config.ini") ? explicit_keys_only(read_file(parent + "/config.ini")) : "";
}

struct LoadedModel {
  std::unique_ptr<model::Transformer> model;
  std::unique_ptr<text::Tokenizer> tokenizer;
};

// A model directory (config.json + safetensors + tokenizer.json) or a checkpoint. A checkpoint holds
// no tokenizer: it comes from --tokenizer, else from the configuration (train.init / model.path
// directory, else the char tokenizer of [tokenizer]). `teacher_weights`: a checkpoint's own teacher
// weights when it holds them.
LoadedModel load_model(const std::string& path, const Config& cfg, const std::string& tokenizer_path,
                       bool teacher_weights) {
  LoadedModel m;
  if (!is_checkpoint(path)) {
    if (!file_exists(path + "/config.json"))
      throw Error("not a model directory (no config.json) nor a checkpoint", path,
                  "give a model directory, a checkpoint .h5 file or a run directory with checkpoints/");
    m.model = model::load_model_dir(path);
    m.tokenizer = text::load_tokenizer(tokenizer_path.empty() ? path + "/tokenizer.json" : tokenizer_path);
    return m;
  }
  const std::string file = checkpoint_file(path);
  ckpt::TrainingState s = ckpt::load_checkpoint(file);
  if (s.model_config_json.empty()) throw Error("the checkpoint holds no model configuration", file);
  m.model = std::make_unique<model::Transformer>(model::config_from_hf_json(s.model_config_json, file));
  const bool own_teacher = teacher_weights && !s.teacher.params.empty();
  ckpt::copy_into(m.model->named_parameters(), own_teacher ? s.teacher.params : s.model,
                  file + (own_teacher ? " /teacher/params" : " /model"));
  std::string dir = cfg.get_string("train.init");
  if (dir.empty()) dir = cfg.get_string("model.path");
  if (!tokenizer_path.empty()) {
    m.tokenizer = text::load_tokenizer(tokenizer_path);
  } else if (!dir.empty()) {
    m.tokenizer = text::load_tokenizer(dir + "/tokenizer.json");
  } else {
    m.tokenizer = std::make_unique<text::CharTokenizer>(text::CharTokenizer::from_config(cfg));
  }
  return m;
}

// What the protocols need from Components: tokenizer, prompts, cues, stops, verifier, policy.
pipeline::Components eval_components(const Config& cfg, LoadedModel m, const std::string& source) {
  pipeline::Components c;
  c.tokenizer = std::move(m.tokenizer);
  c.policy = std::move(m.model);
  c.model_source = source;
  if (c.policy->config().vocab_size < c.tokenizer->vocab_size())
    throw Error("the tokenizer has more ids than the model's vocabulary", source, "check --tokenizer or --config");
  c.prompts = text::PromptConfig::from_config(
      cfg, text::auto_chat_format(c.tokenizer->kind(), c.policy->config().family == model::Family::Olmo3));
  c.method_context.cue_correct_ids = c.tokenizer->encode(text::cue_text(c.prompts, true));
  c.method_context.cue_wrong_ids = c.tokenizer->encode(text::cue_text(c.prompts, false));
  c.method_context.stop_ids = pipeline::stop_ids(*c.tokenizer, c.prompts);
  if (c.method_context.stop_ids.empty())
    throw Error("none of the chat format's stop strings is a token of the tokenizer", "prompt.format",
                "the model was probably trained with another prompt.format: pass its --config");
  c.verifier = std::make_unique<tasks::Verifier>(tasks::verifier_options_from(cfg));
  return c;
}


int eval_cmd(const std::vector<std::string>& args) {
  CommandLine cl = parse_command_line(
      args, {"model=", "data=", "k=", "revise", "localization", "teacher=", "out=", "tokenizer=", "limit=",
             "temperature=", "max-new-tokens=", "seed=", "hindsight=", "localization-samples=", "no-greedy",
             "no-rephrase", "samples"});
  if (!cl.flags.count("model") || !cl.flags.count("data"))
    throw Error("eval needs --model DIR|CHECKPOINT and --data FILE", "sdzero eval", "see `sdzero help eval`");
  const std::string model_path = cl.flags["model"], data_path = cl.flags["data"];
  if (!file_exists(model_path)) throw Error("no such model directory or checkpoint", model_path);
  if (!file_exists(data_path)) throw Error("no such data file", data_path);
  if (is_directory(data_path)) throw Error("is a directory, not a JSONL file", "--data " + data_path);
  std::string implied = cl.config_path.empty() ? implied_config_text(model_path) : "";
  if (!cl.config_path.empty() && file_exists(cl.config_path)) {
    // A run's resolved config.ini given as --config: read as the keys it marks as set (see above).
    const std::string text = read_file(cl.config_path);
    if (text.find("# set at ") != std::string::npos) {
      implied = explicit_keys_only(text);
      cl.config_path.clear();
    }
  }
  Session s = start_session(cl, RunDir::None, implied, "the model's config.ini");
  if (!implied.empty()) log::info("eval: configuration: the keys the run set (of its resolved config.ini)");
  const Config& cfg = s.cfg;
  MPI_Comm comm = s.world->comm();
  const bool root = s.world->rank() == 0;
  const std::string out = cl.flags.count("out") ? cl.flags["out"] : "eval";
  if (file_exists(out) && !is_directory(out))  // before the evaluation, not after it
    throw Error("exists and is not a directory", "--out " + out, "--out names the directory eval.json goes into");
  const std::string tok_path = cl.flags.count("tokenizer") ? cl.flags["tokenizer"] : "";

  pipeline::Components c = eval_components(cfg, load_model(model_path, cfg, tok_path, false), model_path);
  std::unique_ptr<model::Transformer> teacher;
  if (cl.flags.count("teacher")) teacher = load_model(cl.flags["teacher"], cfg, tok_path, true).model;

  // Every question of the file (no split: the file is the evaluation set).
  std::vector<tasks::Question> questions;
  {
    tasks::JsonlReader reader(data_path, tasks::dataset_spec_from(cfg).fields);
    tasks::Question q;
    const int64_t limit = flag_int(cl, "limit", 0, 0, int64_t(1) << 40);
    while ((limit == 0 || int64_t(questions.size()) < limit) && reader.next(q)) questions.push_back(q);
  }
  if (questions.empty()) throw Error("the data file holds no questions", data_path);

  pipeline::EvalProtocol p;
  p.k = flag_int(cl, "k", 4, 1, 4096);
  p.temperature = flag_in(cl, "temperature", cfg.get_float("method.temperature"), 0.0, 10.0);
  p.max_new_tokens = flag_int(cl, "max-new-tokens", cfg.get_int("method.max_new_tokens"), 1, int64_t(1) << 40);
  p.seed = uint64_t(flag_int(cl, "seed", cfg.get_int("run.seed"), 0, int64_t(1) << 53));
  p.slots = std::max<int64_t>(1, cfg.get_int("train.slots"));
  p.greedy = !cl.flags.count("no-greedy");
  p.revise = cl.flags.count("revise") > 0;
  p.rephrase_row = !cl.flags.count("no-rephrase");
  p.hindsight_samples = flag_int(cl, "hindsight", 0, 0, int64_t(1) << 40);
  p.keep_samples = cl.flags.count("samples") > 0;
  p.progress = true;
  log::info(strprintf("eval: %zu questions from %s, model %s, k = %lld, temperature %g, %d rank(s)", questions.size(),
                      data_path.c_str(), model_path.c_str(), (long long)p.k, p.temperature, s.world->size()));
  pipeline::EvalReport rep = pipeline::evaluate_policy(c, *c.policy, questions, p, comm);

  nlohmann::json j = rep.to_json();
  j["model"] = model_path;
  j["data"] = data_path;
  j["protocol"] = {{"k", p.k},
                   {"temperature", p.temperature},
                   {"top_p", p.top_p},
                   {"max_new_tokens", p.max_new_tokens},
                   {"seed", p.seed},
                   {"greedy", p.greedy},
                   {"revise", p.revise},
                   {"hindsight_samples", p.revise ? p.hindsight() : 0},
                   {"ranks", s.world->size()}};
  std::string table = rep.table("eval " + model_path);

  if (cl.flags.count("localization")) {
    pipeline::LocalizationOptions lo;
    lo.samples = flag_int(cl, "localization-samples", 1, 1, int64_t(1) << 40);
    lo.temperature = p.temperature;
    lo.max_new_tokens = p.max_new_tokens;
    lo.slots = p.slots;
    lo.seed = p.seed;
    model::Transformer& t = teacher ? *teacher : *c.policy;
    pipeline::LocalizationResult lr = pipeline::evaluate_localization(c, *c.policy, t, questions, lo, comm);
    j["localization"] = lr.metrics.to_json();
    j["localization"]["teacher"] = teacher ? cl.flags["teacher"] : model_path;
    const auto& m = lr.metrics;
    table += strprintf("  localization  top %.0f%% share: wrong %.3f (%lld)  correct %.3f (%lld)  argmax within %lld of "
                       "first error %.3f of %lld (chance %.3f)\n",
                       100 * m.top_fraction, m.wrong_top_share, (long long)m.wrong, m.correct_top_share,
                       (long long)m.correct, (long long)m.window, m.argmax_hit_rate, (long long)m.located,
                       m.argmax_hit_chance);
    if (root) {
      make_dirs(out);
      std::string lines;
      for (const auto& r : lr.responses)
        lines += r.to_json().dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
      write_file_atomic(out + "/localization.jsonl", lines);
      // The plot is a convenience: a missing matplotlib is a warning, the numbers are in eval.json.
      const std::string script = find_tool("plot-localization");
      const std::string cmd = "'" + script + "' '" + out + "/localization.jsonl' '" + out + "/localization.png'";
      if (script.empty() || std::system(cmd.c_str()) != 0)
        log::warn("eval: the localization plot was not drawn (tools/plot-localization " +
                  std::string(script.empty() ? "not found: set SDZ_TOOLS_DIR" : "failed: it needs python3-matplotlib") + ")");
      else
        j["localization"]["plot"] = out + "/localization.png";
    }
  }
  if (root) {
    make_dirs(out);
    if (p.keep_samples) write_file_atomic(out + "/samples.jsonl", rep.samples_jsonl);
    write_file_atomic(out + "/eval.json", j.dump(2) + "\n");
    std::cout << table << "wrote " << out << "/eval.json" << (p.keep_samples ? " and samples.jsonl" : "") << "\n";
  }
  return 0;
}

}  // namespace

SDZ_COMMAND("eval", "evaluate a model on a JSONL question file (avg@k, pass@k, revise, hindsight, localization)",
            "usage: [mpirun -np N] sdzero eval --model DIR|CHECKPOINT --data FILE [--k 4] [--config FILE]\n"
            "       [--revise] [--localization] [--teacher DIR|CHECKPOINT] [--out DIR (eval)] [--limit N]\n"
            "       [--temperature T] [--max-new-tokens N] [--seed S] [--hindsight M] [--no-greedy] [--no-rephrase]\n"
            "       [--localization-samples N] [--samples] [--tokenizer FILE] [--section.key=value ...]\n"
            "Samples k responses per question (avg@k, pass@k, mean length, self-revision rate) and one greedy\n"
            "response. --revise: generate-then-revise with the oracle cue (and the \"rephrase\" cue on every\n"
            "attempt), and the hindsight test: on questions whose first sample failed, M revisions after the\n"
            "\"wrong\" cue against M fresh samples (M default k-1). --localization: per-token gap\n"
            "log p_student - log p_teacher(.. y, cue ..) of one response per question into\n"
            "OUT/localization.jsonl, its summary into eval.json and OUT/localization.png (tools/plot-localization).\n"
            "--samples: every response with its reward into OUT/samples.jsonl, one line per question (the k\n"
            "samples and the hindsight's fresh ones, the greedy one, the revisions after each cue).\n"
            "The teacher defaults to the model itself; a checkpoint as --teacher gives its own teacher weights.\n"
            "A checkpoint is a .h5 file or a run directory (its newest). Without --config the model's run\n"
            "configuration is used (a checkpoint's own, or RUN/config.ini next to RUN/final); temperature and\n"
            "max-new-tokens default to [method]. Writes OUT/eval.json (docs/EVAL.md names every key).",
            eval_cmd);

}  // namespace sdz::app
