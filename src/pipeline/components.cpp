#include "sdzero/pipeline/components.hpp"

#include "sdzero/core/config.hpp"
#include "sdzero/core/error.hpp"
#include "sdzero/dist/device.hpp"
#include "sdzero/dist/world.hpp"
#include "sdzero/core/files.hpp"
#include "sdzero/core/log.hpp"
#include "sdzero/model/config.hpp"
#include "sdzero/model/weights.hpp"
#include "sdzero/text/char_tokenizer.hpp"
#include "sdzero/text/chat.hpp"

namespace sdz::pipeline {

algo::Ids Components::prompt_ids(const tasks::Question& q) const {
  return tokenizer->encode(text::generator_prompt(prompts, q.prompt));
}

algo::Ids stop_ids(const text::Tokenizer& tok, const text::PromptConfig& pc) {
  algo::Ids ids;
  for (const auto& s : text::stop_strings(pc.format))
    if (auto id = tok.token_to_id(s)) ids.push_back(*id);
  return ids;
}

std::vector<tasks::Question> load_questions(const tasks::DatasetSpec& spec, const std::string& split) {
  if (split == "q1") return tasks::load_split(spec, tasks::Split::Q1);
  if (split == "q2") return tasks::load_split(spec, tasks::Split::Q2);
  if (split == "eval") return tasks::load_split(spec, tasks::Split::Eval);
  if (split == "train") {
    auto a = tasks::load_split(spec, tasks::Split::Q1);
    auto b = tasks::load_split(spec, tasks::Split::Q2);
    a.insert(a.end(), b.begin(), b.end());
    return a;
  }
  throw Error("unknown split '" + split + "'", "train.split", "use q1, q2 or train");
}

void save_policy(const model::Transformer& m, const text::Tokenizer& tok, const std::string& dir) {
  make_dirs(dir);
  model::save_model_dir(m, dir);
  if (const auto* ct = dynamic_cast<const text::CharTokenizer*>(&tok)) {
    ct->save(dir + "/tokenizer.json");
  } else {
    throw Error("saving a " + tok.kind() + " tokenizer is not supported; copy tokenizer.json next to the weights", dir);
  }
}

Components build_components(const Config& cfg, bool needs_teacher) {
  Components c;
  std::string dir = cfg.get_string("train.init");
  if (dir.empty()) dir = cfg.get_string("model.path");
  if (!dir.empty()) {
    if (!file_exists(dir + "/config.json")) throw Error("no config.json in the model directory", dir);
    c.tokenizer = text::load_tokenizer(dir + "/tokenizer.json");
    c.policy = model::load_model_dir(dir);
    c.model_source = dir;
  } else {
    auto ct = std::make_unique<text::CharTokenizer>(text::CharTokenizer::from_config(cfg));
    model::ModelConfig mc = model::config_from_keys(cfg, ct->vocab_size());
    c.policy = std::make_unique<model::Transformer>(mc);
    c.policy->init_random(uint64_t(cfg.get_int("run.seed")), cfg.get_float("model.init_std"));
    c.tokenizer = std::move(ct);
    c.model_source = "random tiny";
  }
  c.policy->set_dtype(model::parse_dtype(cfg.get_string("model.dtype")));
  c.policy->set_activation_checkpointing(cfg.get_bool("model.activation_checkpointing"));
  const LaunchInfo li = launch_info_from_env();
  c.device = pick_device(cfg.get_string("dist.device"), li.local_rank, li.local_size);
  c.policy->to(c.device);
  if (c.device.is_cuda() && c.policy->dtype() == torch::kBFloat16) use_tf32_matmul(true);
  if (c.policy->config().vocab_size < c.tokenizer->vocab_size())
    throw Error("the tokenizer has more ids than the model's vocabulary", dir.empty() ? "[model]" : dir);

  c.prompts = text::PromptConfig::from_config(
      cfg, text::auto_chat_format(c.tokenizer->kind(), c.policy->config().family == model::Family::Olmo3));
  c.algo = algo::algo_config(cfg);
  c.method_context.cue_correct_ids = c.tokenizer->encode(text::cue_text(c.prompts, true));
  c.method_context.cue_wrong_ids = c.tokenizer->encode(text::cue_text(c.prompts, false));
  c.method_context.stop_ids = stop_ids(*c.tokenizer, c.prompts);
  if (c.method_context.stop_ids.empty())
    throw Error("none of the chat format's stop strings is a token of the tokenizer", "prompt.format",
                "generation would never stop: check prompt.format against the tokenizer");
  c.method = algo::make_method(c.algo, c.method_context);
  if (needs_teacher) {
    c.teacher = std::make_unique<model::Transformer>(c.policy->config());
    c.teacher->to(c.device);
    c.teacher->copy_from(*c.policy);
    c.teacher->set_dtype(c.policy->dtype());
    c.teacher->set_requires_grad(false);
  }
  c.data = tasks::dataset_spec_from(cfg);
  c.questions = load_questions(c.data, cfg.get_string("train.split"));
  if (c.questions.empty()) throw Error("the training split has no questions", "train.split");
  c.verifier = std::make_unique<tasks::Verifier>(tasks::verifier_options_from(cfg));
  return c;
}

}  // namespace sdz::pipeline
