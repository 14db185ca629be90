// defines: Components — everything a run is made of, built from its configuration: tokenizer and
// prompt layout, the policy model (and the teacher copy when the method has one), the method, the
// questions of the training split and the held-out split, and the verifier.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "sdzero/algo/keys.hpp"
#include "sdzero/algo/method.hpp"
#include "sdzero/model/transformer.hpp"
#include "sdzero/tasks/dataset.hpp"
#include "sdzero/tasks/verifier.hpp"
#include "sdzero/text/prompts.hpp"
#include "sdzero/text/tokenizer.hpp"

namespace sdz {
class Config;
}

namespace sdz::pipeline {

struct Components {
  std::unique_ptr<text::Tokenizer> tokenizer;
  text::PromptConfig prompts;
  algo::AlgoConfig algo;
  algo::MethodContext method_context;
  std::unique_ptr<algo::Method> method;
  std::unique_ptr<model::Transformer> policy;
  std::unique_ptr<model::Transformer> teacher;  // null when the method never asks a teacher
  tasks::DatasetSpec data;
  std::vector<tasks::Question> questions;       // the [train] split, in split order
  std::unique_ptr<tasks::Verifier> verifier;
  std::string model_source;                     // "random tiny", or the directory loaded
  torch::Device device = torch::kCPU;           // where policy and teacher live (dist.device)

  // chat(x) as token ids for one question.
  algo::Ids prompt_ids(const tasks::Question& q) const;
};

// Where the model comes from: train.init, else model.path, else a random tiny model from [model]
// with the char tokenizer of [tokenizer]. `needs_teacher`: allocate the teacher copy.
Components build_components(const Config& cfg, bool needs_teacher);

// Ids of the stop strings of a chat format that exist in the vocabulary.
algo::Ids stop_ids(const text::Tokenizer& tok, const text::PromptConfig& pc);

// The questions of a split name ("q1" | "q2" | "train" | "eval").
std::vector<tasks::Question> load_questions(const tasks::DatasetSpec& spec, const std::string& split);

// Writes policy + tokenizer as a model directory that build_components (train.init) reads back.
void save_policy(const model::Transformer& m, const text::Tokenizer& tok, const std::string& dir);

}  // namespace sdz::pipeline
