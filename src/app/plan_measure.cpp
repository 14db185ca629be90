// The measurements of `sdzero plan --memory --measure` (see plan_measure.hpp).
#include "sdzero/app/plan_measure.hpp"

#include <ATen/CPUGeneratorImpl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <iostream>

#include "sdzero/algo/keys.hpp"
#include "sdzero/algo/method.hpp"
#include "sdzero/algo/optim.hpp"
#include "sdzero/algo/train.hpp"
#include "sdzero/core/config.hpp"
#include "sdzero/core/error.hpp"
#include "sdzero/dist/device.hpp"
#include "sdzero/model/generate.hpp"
#include "sdzero/model/transformer.hpp"
#include "sdzero/pipeline/model_scorer.hpp"

namespace sdz::app {

namespace {

int64_t current_rss() {
  std::ifstream f("/proc/self/statm");
  int64_t size = 0, resident = 0;
  f >> size >> resident;
  return resident * int64_t(sysconf(_SC_PAGESIZE));
}

std::vector<int32_t> random_ids(int64_t n, int64_t vocab, torch::Generator& g) {
  auto t = torch::randint(1, vocab, {n}, g, torch::kInt64);
  std::vector<int32_t> out(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) out[size_t(i)] = int32_t(t[i].item<int64_t>());
  return out;
}

// One learner step (method loss over the learner's batch, backward, clip, AdamW) or one rollout
// generate call, as the pipeline runs them, on dist.device; prints {"peak_bytes": ...}.
}  // namespace

int measure_role(const Config& cfg, const model::ModelConfig& mc, const model::RunSizes& rs, const std::string& role) {
  torch::set_num_threads(std::max(1, int(cfg.get_int("run.threads"))));
  const torch::Device dev = pick_device(cfg.get_string("dist.device"), 0, 1);
  const int64_t V = mc.vocab_size;
  auto gen = at::detail::createCPUGenerator(7);
  reset_peak_memory(dev);
  const int64_t base = dev.is_cuda() ? 0 : current_rss();
  nlohmann::json out;
  {
    model::Transformer m(mc);
    m.init_random(uint64_t(cfg.get_int("run.seed")));
    m.set_dtype(rs.dtype_bytes == 2 ? torch::kBFloat16 : torch::kFloat32);
    m.set_activation_checkpointing(rs.activation_checkpointing);
    m.to(dev);
    if (role == "learner") {
      m.set_requires_grad(true);
      const algo::AlgoConfig a = algo::algo_config(cfg);
      algo::MethodContext ctx;
      ctx.cue_correct_ids = random_ids(kCueTokens, V, gen);
      ctx.cue_wrong_ids = random_ids(kCueTokens, V, gen);
      ctx.stop_ids = {0};
      auto method = algo::make_method(a, ctx);
      if (!method->samples_online())
        throw Error("--measure runs a learner step on sampled trajectories; method " + a.method + " trains on fixed data",
                    "method.name", "measure with --method.name=sdzero (the same model and sequence sizes)");
      algo::Batch b;
      for (int64_t i = 0; i < rs.learner_sequences; ++i) {
        algo::Trajectory t;
        t.question_id = i;
        t.prompt_ids = random_ids(rs.prompt_tokens, V, gen);
        t.response_ids = random_ids(rs.scored_tokens, V, gen);
        t.logprobs.assign(size_t(rs.scored_tokens), -1.0f);
        t.reward = float(i % 2);
        t.advantage = i % 2 ? 1.f : -1.f;
        t.teacher_prompt_ids = t.prompt_ids;
        if (auto lay = method->teacher_layout(t)) {
          const int64_t n = lay->n_scored();
          algo::TeacherSignal s;
          s.topk_ids = torch::randint(0, V, {n, rs.top_k}, gen, torch::kInt64);
          s.topk_logits = torch::randn({n, rs.top_k}, gen, torch::kFloat32);
          s.token_logprobs = torch::full({n}, -1.0f);
          b.signals.push_back(s);
        }
        b.trajectories.push_back(std::move(t));
      }
      algo::Optimizer opt(m.parameters(), a.optim);
      pipeline::ModelScorer scorer(m);
      const algo::TokenCounts counts = method->count_tokens(b);
      algo::StepResult res = algo::train_step(*method, scorer, opt, b, counts, 0, nullptr);
      out["loss"] = res.loss;
      out["sequences"] = rs.learner_sequences;
    } else {
      model::GenerationEngine eng(m, rs.slots);
      model::SamplingParams sp;
      sp.temperature = cfg.get_float("method.temperature");
      sp.top_p = cfg.get_float("method.top_p");
      sp.max_new_tokens = rs.max_new_tokens;
      sp.seed = 1;
      std::vector<model::GenRequest> reqs;
      for (int64_t i = 0; i < rs.slots; ++i) {
        model::GenRequest q;
        q.question_id = uint64_t(i);
        q.prompt = random_ids(rs.prompt_tokens, V, gen);
        reqs.push_back(std::move(q));
      }
      auto res = eng.generate(reqs, sp);
      int64_t toks = 0;
      for (const auto& g : res) toks += int64_t(g.tokens.size());
      out["generated_tokens"] = toks;
    }
    synchronize(dev);
  }
  out["role"] = role;
  out["device"] = device_name(dev);
  out["peak_bytes"] = peak_memory_bytes(dev) - base;
  std::cout << out.dump() << std::endl;
  return 0;
}

// Runs this binary again with --measure-role and reads its one JSON line (stderr passes through).
nlohmann::json measure_in_child(const std::vector<std::string>& args, const std::string& role) {
  char exe[4096];
  const ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (len <= 0) throw Error("cannot find this executable (/proc/self/exe)", "sdzero plan --measure");
  exe[len] = 0;
  std::vector<std::string> argv_s = {exe, "plan"};
  for (const auto& a : args)
    if (a != "--measure" && a != "--json") argv_s.push_back(a);
  argv_s.push_back("--measure-role=" + role);
  std::vector<char*> argv;
  for (auto& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  int fd[2];
  if (pipe(fd) != 0) throw Error("cannot create a pipe for the measurement", "sdzero plan --measure");
  const pid_t pid = fork();
  if (pid < 0) throw Error("cannot start the measurement process", "sdzero plan --measure");
  if (pid == 0) {
    dup2(fd[1], 1);
    close(fd[0]);
    close(fd[1]);
    execv(exe, argv.data());
    _exit(127);
  }
  close(fd[1]);
  std::string text;
  char buf[4096];
  ssize_t n;
  while ((n = read(fd[0], buf, sizeof buf)) > 0) text.append(buf, size_t(n));
  close(fd[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  const size_t at = text.rfind("{\"");
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || at == std::string::npos)
    throw Error("the " + role + " measurement failed (status " + std::to_string(status) + ")", "sdzero plan --measure",
                "its error is printed above");
  return nlohmann::json::parse(text.substr(at));
}

}  // namespace sdz::app
