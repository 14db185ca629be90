// `sdzero generate`: prompt -> completion(s) from a Hugging Face model directory, through the same
// generation engine the rollouts use (keyed sampling, KV cache, continuous batching).
#include <torch/torch.h>

#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "sdzero/app/command.hpp"
#include "sdzero/app/setup.hpp"
#include "sdzero/core/error.hpp"
#include "sdzero/dist/device.hpp"
#include "sdzero/core/files.hpp"
#include "sdzero/core/log.hpp"
#include "sdzero/core/strings.hpp"
#include "sdzero/model/compute_weights.hpp"
#include "sdzero/model/generate.hpp"
#include "sdzero/model/weights.hpp"
#include "sdzero/text/chat.hpp"
#include "sdzero/text/tokenizer.hpp"

namespace sdz::app {

namespace {

std::vector<int32_t> parse_ids(const std::string& s) {
  std::vector<int32_t> ids;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ',')) {
    size_t used = 0;
    long v = -1;
    try {
      v = std::stol(item, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used == 0 || used != item.size() || v < 0 || v > INT32_MAX)
      throw Error("not a token id: \"" + item + "\"", "--prompt-ids", "write ids as 1,2,3");
    ids.push_back(int32_t(v));
  }
  if (ids.empty()) throw Error("no token ids given", "--prompt-ids", "write ids as 1,2,3");
  return ids;
}

int generate_cmd(const std::vector<std::string>& args) {
  CommandLine cl = parse_command_line(args, {"model=", "prompt=", "prompt-ids=", "tokenizer=", "chat=",
                                             "max-new-tokens=", "temperature=", "top-p=", "top-k=", "seed=",
                                             "samples=", "threads=", "dtype=", "random-weights", "json", "logits-out=",
                                             "device="});
  if (!cl.flags.count("model")) throw Error("--model DIR is required", "sdzero generate", "sdzero help generate");
  const std::string dir = cl.flags["model"];
  const bool have_text = cl.flags.count("prompt") > 0, have_ids = cl.flags.count("prompt-ids") > 0;
  if (have_text == have_ids) throw Error("give exactly one of --prompt and --prompt-ids", "sdzero generate");
  torch::set_num_threads(int(flag_int(cl, "threads", 2, 1, 1024)));

  // Weights: from the directory, or random (config smoke tests) with --random-weights.
  std::unique_ptr<model::Transformer> m;
  if (cl.flags.count("random-weights")) {
    m = std::make_unique<model::Transformer>(model::config_from_hf_dir(dir));
    m->init_random(uint64_t(flag_int(cl, "seed", 0, 0, int64_t(1) << 53)));
  } else {
    m = model::load_model_dir(dir);
  }
  if (cl.flags.count("dtype")) m->set_dtype(model::parse_dtype(cl.flags["dtype"], "--dtype"));
  m->to(pick_device(cl.flags.count("device") ? cl.flags["device"] : "cpu", 0, 1));

  std::unique_ptr<text::Tokenizer> tok;
  const std::string tok_path = cl.flags.count("tokenizer") ? cl.flags["tokenizer"] : dir + "/tokenizer.json";
  if (cl.flags.count("tokenizer") || have_text || file_exists(tok_path)) tok = text::load_tokenizer(tok_path);
  if (tok && tok->vocab_size() > m->config().vocab_size)  // its ids would index past the embedding
    throw Error("the tokenizer has more ids (" + std::to_string(tok->vocab_size()) + ") than the model's vocabulary (" +
                    std::to_string(m->config().vocab_size) + ")",
                tok_path, "use the tokenizer the model was trained with");

  model::SamplingParams sp;
  // The ranges of the method.* keys: temperature 0 = greedy, top-p a mass in (0, 1], top-k 0 = off.
  sp.temperature = flag_in(cl, "temperature", 0.7, 0.0, 10.0);
  sp.top_p = flag_in(cl, "top-p", 1.0, 1e-6, 1.0);
  sp.top_k = flag_int(cl, "top-k", 0, 0, int64_t(1) << 31);
  sp.max_new_tokens = flag_int(cl, "max-new-tokens", 64, 1, int64_t(1) << 30);
  sp.seed = uint64_t(flag_int(cl, "seed", 0, 0, int64_t(1) << 53));
  sp.stop_ids = m->config().eos_ids;
  const int64_t samples = flag_int(cl, "samples", 1, 1, 65536);

  std::vector<int32_t> prompt;
  if (have_ids) {
    prompt = parse_ids(cl.flags["prompt-ids"]);
  } else {
    std::string text = cl.flags["prompt"];
    if (cl.flags.count("chat")) {
      auto f = text::parse_chat_format(cl.flags["chat"], "--chat");
      text = text::render_chat(f, {{"user", text}}, true);
      for (const auto& s : text::stop_strings(f))
        if (auto id = tok->token_to_id(s)) sp.stop_ids.push_back(*id);
    }
    prompt = tok->encode(text);
  }
  if (cl.flags.count("logits-out")) {
    // The model's logits at every prompt position (fp32, [T, V]) as JSON: the numbers another
    // implementation is compared against (tools/device/hf_compare.py), no generation.
    torch::NoGradGuard ng;
    auto ids = torch::tensor(std::vector<int64_t>(prompt.begin(), prompt.end()), torch::kInt64).unsqueeze(0);
    auto lg = m->logits(ids).squeeze(0).to(torch::kFloat32).cpu().contiguous();
    nlohmann::json j{{"ids", prompt}, {"dtype", model::dtype_name(m->dtype())}, {"logits", nlohmann::json::array()}};
    for (int64_t t = 0; t < lg.size(0); ++t)
      j["logits"].push_back(std::vector<float>(lg[t].data_ptr<float>(), lg[t].data_ptr<float>() + lg.size(1)));
    write_file_atomic(cl.flags["logits-out"], j.dump() + "\n");
    return 0;
  }
  std::vector<model::GenRequest> reqs;
  for (int64_t i = 0; i < samples; ++i) reqs.push_back({0, uint64_t(i), prompt});
  model::GenerationEngine engine(*m, std::min<int64_t>(samples, 64));
  auto results = engine.generate(reqs, sp);

  for (const auto& r : results) {
    if (cl.flags.count("json")) {
      nlohmann::json j{{"sample", r.sample_index}, {"prompt_ids", prompt}, {"ids", r.tokens},
                       {"logprobs", r.logprobs}, {"stopped", r.stopped}};
      if (tok) j["text"] = tok->decode(r.tokens);
      std::cout << j.dump() << "\n";
    } else if (tok) {
      std::cout << tok->decode(r.tokens) << "\n";
    } else {
      for (size_t i = 0; i < r.tokens.size(); ++i) std::cout << (i ? "," : "") << r.tokens[i];
      std::cout << "\n";
    }
  }
  return 0;
}

}  // namespace

SDZ_COMMAND("generate", "complete a prompt with a Hugging Face model directory",
            "usage: sdzero generate --model DIR (--prompt TEXT | --prompt-ids 1,2,3) [--chat chatml|olmo3|toy]\n"
            "       [--max-new-tokens 64] [--temperature 0.7 (0: greedy)] [--top-p 1] [--top-k 0] [--seed 0]\n"
            "       [--samples 1] [--tokenizer FILE (DIR/tokenizer.json)] [--threads 2] [--dtype fp32|bf16 (fp32)]\n"
            "       [--json] [--random-weights] [--device cpu|cuda (cpu)] [--logits-out FILE]\n"
            "--logits-out writes the prompt's logits ([T, V] fp32, JSON) to FILE instead of generating.\n"
            "DIR holds config.json (Qwen3ForCausalLM or Olmo3ForCausalLM) and model.safetensors or a sharded\n"
            "index. Sample i of a prompt uses the randomness keyed by (seed, 0, i). --json prints one line per\n"
            "sample with ids, sampling log-probs and text. --random-weights ignores the weight files (smoke tests).",
            generate_cmd);

}  // namespace sdz::app
