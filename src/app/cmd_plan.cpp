// `sdzero plan --memory`: the bytes each role needs on its device for a run config (model/memory_plan),
// whether that fits a device of --device-gib, what would make it fit, and with --measure the peak of
// one real learner step and one rollout generate call next to the plan (app/plan_measure.hpp).
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>

#include "sdzero/algo/keys.hpp"
#include "sdzero/algo/method.hpp"
#include "sdzero/app/command.hpp"
#include "sdzero/app/plan_measure.hpp"
#include "sdzero/app/schema.hpp"
#include "sdzero/app/setup.hpp"
#include "sdzero/core/config.hpp"
#include "sdzero/core/error.hpp"
#include "sdzero/core/files.hpp"
#include "sdzero/core/strings.hpp"
#include "sdzero/dist/device.hpp"
#include "sdzero/dist/layout.hpp"
#include "sdzero/model/memory_plan.hpp"
#include "sdzero/text/char_tokenizer.hpp"

namespace sdz::app {

namespace {

using model::kGiB;
using model::RunSizes;

struct Resolved {
  model::ModelConfig mc;
  std::string model_source;
  RunSizes rs;
  std::string method;
  std::string layout;  // describe()
  int64_t questions = 0, samples = 0;
};

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / std::max<int64_t>(b, 1); }

model::ModelConfig resolve_model(const Config& cfg, const CommandLine& cl, std::string& source) {
  if (cl.flags.count("shape") && cl.flags.count("model-config"))
    throw Error("give one of --shape and --model-config", "sdzero plan");
  if (cl.flags.count("shape")) {
    source = "shape " + cl.flags.at("shape");
    return model::shape_config(cl.flags.at("shape"));
  }
  if (cl.flags.count("model-config")) {
    source = cl.flags.at("model-config");
    return model::config_from_hf_json(read_file(source), source);
  }
  std::string dir = cfg.get_string("train.init");
  if (dir.empty()) dir = cfg.get_string("model.path");
  if (!dir.empty()) {
    if (!file_exists(dir + "/config.json"))
      throw Error("no config.json in the model directory", dir,
                  "give the shape without weights: --shape " + join(model::shape_names(), "|") +
                      " or --model-config FILE (a Hugging Face config.json)");
    source = dir;
    return model::config_from_hf_dir(dir);
  }
  int64_t vocab = cfg.get_int("model.vocab_size");
  if (vocab == 0) vocab = text::CharTokenizer::from_config(cfg).vocab_size();
  source = "[model] keys";
  return model::config_from_keys(cfg, vocab);
}

// The sizes a run config sets, for a job of `ranks` ranks, as the pipeline uses them.
Resolved resolve(const Config& cfg, const CommandLine& cl) {
  Resolved r;
  r.mc = resolve_model(cfg, cl, r.model_source);
  const int ranks = int(flag_int(cl, "ranks", 1, 1, 1 << 20));
  const algo::AlgoConfig a = algo::algo_config(cfg);
  r.method = a.method;
  algo::MethodContext ctx;
  ctx.cue_correct_ids = ctx.cue_wrong_ids = algo::Ids(size_t(kCueTokens), 0);
  ctx.stop_ids = {0};
  auto method = algo::make_method(a, ctx);
  r.samples = method->sampling().samples_per_question;
  r.questions = cfg.get_int("train.questions_per_step");
  algo::Trajectory probe;
  probe.prompt_ids = probe.response_ids = probe.teacher_prompt_ids = {0};
  bool teacher = false;
  try {
    teacher = method->uses_teacher(probe);
  } catch (const Error&) {
    teacher = true;
  }
  const bool srt = a.method == "srt", sft = a.method == "sft";
  if (srt || sft) teacher = false;
  // SRT trains data-parallel on every rank whatever [layout] says (pipeline/srt.cpp).
  Layout lay = srt ? make_layout("colocated", 0, 0, 0, ranks, false) : make_layout(cfg, ranks, teacher);
  r.layout = lay.describe();

  RunSizes& rs = r.rs;
  rs.dtype_bytes = cfg.get_string("model.dtype") == "bf16" ? 2 : 4;
  if (cfg.schema().find("model.activation_checkpointing"))
    rs.activation_checkpointing = cfg.get_bool("model.activation_checkpointing");
  const std::string target = cl.flags.count("target") ? cl.flags.at("target") : "gpu";
  if (target != "gpu" && target != "cpu") throw Error("unknown target '" + target + "'", "--target", "use gpu or cpu");
  rs.gpu = target == "gpu";
  rs.colocated = lay.colocated;
  const int64_t learners = lay.colocated ? ranks : lay.learner;
  const int64_t rollouts = lay.colocated ? ranks : lay.rollout;
  const int64_t teachers = lay.colocated ? ranks : lay.teacher;
  rs.learners = learners;
  rs.zero1 = cfg.get_bool("dist.zero1") && learners > 1;
  rs.bucket_bytes = cfg.get_int("dist.bucket_mb") << 20;
  rs.chunk_rows = a.chunk_rows;
  rs.top_k = a.teacher_scoring.top_k;
  const int64_t prompt = flag_int(cl, "prompt-tokens", 512, 1, int64_t(1) << 30);
  rs.prompt_tokens = prompt;
  rs.max_new_tokens = a.sampling.max_new_tokens;
  const int64_t sequences = r.questions * r.samples;
  rs.slots = sft ? 0 : std::min<int64_t>(cfg.get_int("train.slots"), ceil_div(sequences, rollouts));
  rs.sampling_filter = a.sampling.top_p < 1.0 || (srt && a.srt.revision_top_p < 1.0);
  if (srt || sft) {
    rs.student_tokens = srt ? a.srt.max_tokens : a.student_max_tokens;
    rs.scored_tokens = std::max<int64_t>(1, rs.student_tokens - prompt);
  } else {
    rs.student_tokens = std::min(prompt + a.sampling.max_new_tokens, a.student_max_tokens);
    rs.scored_tokens = std::max<int64_t>(1, rs.student_tokens - prompt);
  }
  rs.student_tokens = std::min(rs.student_tokens, r.mc.max_position);
  rs.scored_tokens = std::min(rs.scored_tokens, rs.student_tokens);
  rs.learner_sequences = flag_int(cl, "learner-sequences", ceil_div(sequences, learners), 1, int64_t(1) << 30);
  // algo::train_step back-propagates micro-batch by micro-batch (algo::RowBatch): as many sequences
  // of the plan's length as fit in method.micro_batch_tokens share a graph (at least one).
  const int64_t packed = a.micro_batch_tokens > 1
                            ? std::clamp<int64_t>(a.micro_batch_tokens / rs.student_tokens, 1, rs.learner_sequences)
                            : 1;
  rs.live_sequences = flag_int(cl, "live-sequences", packed, 1, int64_t(1) << 30);
  rs.has_teacher = teacher;
  if (teacher) {
    const int64_t n = rs.scored_tokens;
    int64_t T = a.method == "grpo" ? rs.student_tokens
                : a.method == "sdft" ? prompt + a.sampling.max_new_tokens + n  // demonstration in context
                                     : prompt + 2 * n + kCueTokens;
    int64_t scored = n;
    if (a.teacher_max_tokens > 0 && T > a.teacher_max_tokens) {
      scored = std::max<int64_t>(1, (a.teacher_max_tokens - prompt - kCueTokens) / 2);
      T = a.teacher_max_tokens;
    }
    rs.teacher_tokens = std::min(T, r.mc.max_position);
    rs.teacher_scored = std::min(scored, rs.teacher_tokens);
    rs.teacher_sequences = ceil_div(sequences, teachers);
  }
  const double overhead = flag_in(cl, "overhead-gib", rs.gpu ? 2.0 : 0.0, 0.0, 1e6);
  rs.overhead_bytes = int64_t(overhead * kGiB);
  return r;
}

std::string gib(int64_t b) { return strprintf("%.2f", double(b) / kGiB); }

struct Verdict {
  bool fits = true;
  std::vector<std::string> hints;
};

bool role_fits(const model::MemoryPlan& p, const std::string& role, int64_t cap) {
  const model::RolePlan* r = p.find(role);
  return !r || r->total() <= cap;
}

// Every device of the layout must hold its role; colocated: the one combined column.
bool plan_fits(const model::MemoryPlan& p, int64_t cap) {
  if (p.find("colocated")) return p.find("colocated")->total() <= cap;
  for (const auto& r : p.roles)
    if (r.total() > cap) return false;
  return true;
}

// What would fit: each alternative is the same plan with one (or all) of the levers moved.
Verdict verdict(const model::ModelConfig& mc, const RunSizes& rs, const model::MemoryPlan& p, int64_t cap) {
  Verdict v;
  v.fits = plan_fits(p, cap);
  if (v.fits) return v;
  auto total = [&](const RunSizes& x) {
    const model::MemoryPlan q = model::plan_memory(mc, x);
    return q.find("colocated") ? q.find("colocated")->total() : q.find("learner")->total();
  };
  auto say = [&](const std::string& what, const RunSizes& x) {
    const int64_t t = total(x);
    v.hints.push_back(strprintf("%s: %s GiB per %s (%s)", what.c_str(), gib(t).c_str(),
                                rs.colocated ? "device" : "learner", t <= cap ? "fits" : "does not fit"));
  };
  const bool learner_over = !role_fits(p, "learner", cap) || (p.find("colocated") && !role_fits(p, "colocated", cap));
  if (learner_over) {
    if (!rs.activation_checkpointing) {
      RunSizes x = rs;
      x.activation_checkpointing = true;
      say("model.activation_checkpointing=true", x);
    }
    if (rs.dtype_bytes == 4) {
      RunSizes x = rs;
      x.dtype_bytes = 2;
      say("model.dtype=bf16 (fused attention on GPU)", x);
    }
    if (!rs.activation_checkpointing && rs.dtype_bytes == 4) {
      RunSizes x = rs;
      x.activation_checkpointing = true;
      x.dtype_bytes = 2;
      say("both: activation checkpointing + bf16", x);
    }
    for (int64_t k : {2, 4, 8}) {
      if (rs.colocated) break;
      RunSizes x = rs;
      x.learners = rs.learners * k;
      x.zero1 = true;
      x.learner_sequences = ceil_div(rs.learner_sequences, k);
      x.live_sequences = std::min(rs.live_sequences, x.learner_sequences);
      say(strprintf("dist.zero1=true with %lld learners (batch split too)", (long long)x.learners), x);
      RunSizes z = x;
      z.fused_sliding = true;
      if (rs.gpu && rs.dtype_bytes == 2 &&
          total(x) - model::plan_memory(mc, z).find("learner")->total() > int64_t(kGiB))
        say("  + sliding-window layers through a fused kernel (not done yet)", z);
    }
  }
  if (rs.gpu && rs.dtype_bytes == 2 && !rs.fused_sliding) {
    // Sliding-window layers (Olmo-3: 3 of 4) still materialise [heads, T, T] scores on the GPU.
    RunSizes x = rs;
    x.fused_sliding = true;
    const model::MemoryPlan q = model::plan_memory(mc, x);
    for (const char* role : {"learner", "teacher"}) {
      const model::RolePlan *a = p.find(role), *b = q.find(role);
      if (a && b && a->total() > cap && a->total() - b->total() > int64_t(kGiB))
        v.hints.push_back(strprintf("%s: sliding-window layers through a fused attention kernel too (not done yet): "
                                    "%s GiB instead of %s",
                                    role, gib(b->total()).c_str(), gib(a->total()).c_str()));
    }
  }
  if (!role_fits(p, "rollout", cap)) {
    RunSizes x = rs;
    while (x.slots > 1 && !role_fits(model::plan_memory(mc, x), "rollout", cap)) x.slots /= 2;
    v.hints.push_back(strprintf("rollout: train.slots=%lld -> %s GiB", (long long)x.slots,
                                gib(model::plan_memory(mc, x).find("rollout")->total()).c_str()));
  }
  if (!role_fits(p, "teacher", cap)) {
    RunSizes x = rs;
    while (x.teacher_tokens > 256 && !role_fits(model::plan_memory(mc, x), "teacher", cap)) {
      x.teacher_tokens /= 2;
      x.teacher_scored = std::min(x.teacher_scored, std::max<int64_t>(1, (x.teacher_tokens - rs.prompt_tokens) / 2));
    }
    v.hints.push_back(strprintf("teacher: distill.teacher_max_tokens=%lld -> %s GiB", (long long)x.teacher_tokens,
                                gib(model::plan_memory(mc, x).find("teacher")->total()).c_str()));
  }
  return v;
}

std::string table(const model::MemoryPlan& p) {
  // Rows in a fixed order (persistent state first), whichever role has them.
  std::vector<std::string> names;
  for (const char* n : {"weights", "compute copy", "grads", "optimizer", "activations", "KV cache", "logits",
                        "batch data", "working set", "comm buffers", "CUDA context"})
    for (const auto& r : p.roles)
      for (const auto& part : r.parts)
        if (part.name == n && std::find(names.begin(), names.end(), part.name) == names.end()) names.push_back(n);
  std::string out = strprintf("  %-14s", "GiB");
  for (const auto& r : p.roles) out += strprintf(" %11s", r.role.c_str());
  out += "\n";
  for (const auto& n : names) {
    out += strprintf("  %-14s", n.c_str());
    for (const auto& r : p.roles) {
      bool has = false;
      for (const auto& part : r.parts) has |= part.name == n;
      out += strprintf(" %11s", has ? gib(r.part(n)).c_str() : "-");
    }
    out += "\n";
  }
  out += strprintf("  %-14s", "total");
  for (const auto& r : p.roles) out += strprintf(" %11s", gib(r.total()).c_str());
  return out + "\n";
}

nlohmann::json to_json(const Resolved& r, const model::MemoryPlan& p, int64_t cap, const Verdict& v) {
  nlohmann::json j;
  j["model"] = {{"source", r.model_source}, {"family", model::family_name(r.mc.family)}, {"params", p.params},
                {"block_params", p.block_params}};
  const RunSizes& s = r.rs;
  j["sizes"] = {{"dtype_bytes", s.dtype_bytes}, {"activation_checkpointing", s.activation_checkpointing},
                {"gpu_paths", s.gpu}, {"learners", s.learners}, {"zero1", s.zero1},
                {"live_sequences", s.live_sequences}, {"learner_sequences", s.learner_sequences},
                {"student_tokens", s.student_tokens},
                {"scored_tokens", s.scored_tokens}, {"chunk_rows", s.chunk_rows}, {"slots", s.slots},
                {"prompt_tokens", s.prompt_tokens}, {"max_new_tokens", s.max_new_tokens},
                {"teacher_tokens", s.teacher_tokens}, {"teacher_scored", s.teacher_scored},
                {"teacher_sequences", s.teacher_sequences}, {"colocated", s.colocated},
                {"overhead_bytes", s.overhead_bytes}};
  j["method"] = r.method;
  j["layout"] = r.layout;
  j["device_bytes"] = cap;
  j["roles"] = nlohmann::json::array();
  for (const auto& role : p.roles) {
    nlohmann::json parts = nlohmann::json::object();
    for (const auto& part : role.parts) parts[part.name] = part.bytes;
    j["roles"].push_back({{"role", role.role}, {"parts", parts}, {"total", role.total()}, {"fits", role.total() <= cap}});
  }
  j["fits"] = v.fits;
  j["hints"] = v.hints;
  return j;
}

int plan_cmd(const std::vector<std::string>& args) {
  CommandLine cl = parse_command_line(args, {"memory", "shape=", "model-config=", "device-gib=", "ranks=",
                                             "prompt-tokens=", "live-sequences=", "learner-sequences=", "overhead-gib=", "target=",
                                             "json", "measure", "measure-role="});
  if (!cl.flags.count("memory") && !cl.flags.count("measure-role"))
    throw Error("say what to plan: --memory", "sdzero plan", "sdzero help plan");
  Config cfg = Config::load(schema(), cl.config_path, cl.overrides);
  if (cl.flags.count("measure") || cl.flags.count("measure-role")) {
    // The measured device decides the code paths the plan must follow.
    if (!cl.flags.count("target")) cl.flags["target"] = pick_device(cfg.get_string("dist.device"), 0, 1).is_cuda() ? "gpu" : "cpu";
  }
  Resolved r = resolve(cfg, cl);
  if (cl.flags.count("measure-role")) {
    const std::string role = cl.flags["measure-role"];
    if (role != "learner" && role != "rollout") throw Error("unknown role '" + role + "'", "--measure-role");
    return measure_role(cfg, r.mc, r.rs, role);
  }
  const double dev_gib = flag_in(cl, "device-gib", 80, 1e-3, 1e6);
  const int64_t cap = int64_t(dev_gib * kGiB);
  const model::MemoryPlan p = model::plan_memory(r.mc, r.rs);
  const Verdict v = verdict(r.mc, r.rs, p, cap);
  nlohmann::json j = to_json(r, p, cap, v);

  if (cl.flags.count("measure")) {
    j["measured"] = nlohmann::json::array();
    std::vector<std::string> child_args = args;
    if (!cl.flags.count("target")) child_args.push_back("--target=" + cl.flags["target"]);
    for (const std::string role : {"learner", "rollout"}) {
      if (role == "rollout" && r.rs.slots == 0) continue;
      nlohmann::json m = measure_in_child(child_args, role);
      const model::RolePlan* pr = p.find(role);
      const int64_t planned = pr->total() - pr->part("CUDA context");
      m["plan_bytes"] = planned;
      m["ratio"] = m["peak_bytes"].get<int64_t>() > 0 ? double(planned) / double(m["peak_bytes"].get<int64_t>()) : 0.0;
      j["measured"].push_back(m);
    }
  }
  if (cl.flags.count("json")) {
    std::cout << j.dump(2) << "\n";
    return 0;
  }
  const RunSizes& s = r.rs;
  std::cout << strprintf("model      %s: %s, %.3fB parameters (%lld in blocks)\n", r.model_source.c_str(),
                         model::family_name(r.mc.family), double(p.params) / 1e9, (long long)p.block_params)
            << strprintf("run        method %s, layout %s, %s%s, %s paths\n", r.method.c_str(), r.layout.c_str(),
                         s.dtype_bytes == 2 ? "bf16" : "fp32",
                         s.activation_checkpointing ? ", activation checkpointing" : "", s.gpu ? "GPU" : "CPU")
            << strprintf("learner    %lld learner(s)%s, %lld sequences each, %lld graph(s) live, %lld tokens (%lld scored), "
                         "chunk_rows %lld\n",
                         (long long)s.learners, s.zero1 ? " with ZeRO-1" : "", (long long)s.learner_sequences,
                         (long long)s.live_sequences,
                         (long long)s.student_tokens, (long long)s.scored_tokens, (long long)s.chunk_rows)
            << strprintf("rollout    %lld slots x (%lld prompt + %lld new tokens)\n", (long long)s.slots,
                         (long long)s.prompt_tokens, (long long)s.max_new_tokens);
  if (s.has_teacher)
    std::cout << strprintf("teacher    %lld tokens (%lld scored), %lld sequences per teacher rank\n",
                           (long long)s.teacher_tokens, (long long)s.teacher_scored, (long long)s.teacher_sequences);
  std::cout << "\n" << table(p);
  std::cout << strprintf("\ndevice     %.1f GiB; CUDA context allowance %s GiB included per device\n", dev_gib,
                         gib(s.overhead_bytes).c_str());
  std::cout << (v.fits ? "FITS" : "DOES NOT FIT");
  if (!p.find("colocated")) {
    std::cout << ":";
    for (const auto& role : p.roles)
      std::cout << " " << role.role << " " << (role.total() <= cap ? "fits" : "over");
  }
  std::cout << "\n";
  for (const auto& h : v.hints) std::cout << "  hint: " << h << "\n";
  if (j.contains("measured")) {
    std::cout << "\nmeasured   role      plan GiB   peak GiB   plan/peak   device\n";
    for (const auto& m : j["measured"])
      std::cout << strprintf("           %-8s %9s %10s %11.2f   %s\n", m["role"].get<std::string>().c_str(),
                             gib(m["plan_bytes"].get<int64_t>()).c_str(), gib(m["peak_bytes"].get<int64_t>()).c_str(),
                             m["ratio"].get<double>(), m["device"].get<std::string>().c_str());
    std::cout << "(plan without the CUDA allowance; CPU peak = peak RSS minus the RSS before the model was built)\n";
  }
  return 0;
}

}  // namespace

SDZ_COMMAND("plan", "memory plan: bytes per role (rollout, teacher, learner) for a config, and whether it fits",
            "usage: sdzero plan --memory [--config FILE] [--section.key=value ...]\n"
            "                   [--shape qwen3-0.6b|qwen3-4b|olmo3-7b | --model-config config.json]\n"
            "                   [--ranks N] [--device-gib 80] [--prompt-tokens 512] [--live-sequences 1]\n"
            "                   [--learner-sequences N] [--overhead-gib 2] [--target gpu|cpu] [--json] [--measure]\n"
            "Prints, per role, the bytes of weights (fp32 masters), bf16 compute copies, gradients, AdamW\n"
            "moments (sharded by dist.zero1), activations, KV cache, logits and batch data, for a job of\n"
            "--ranks ranks split by [layout] (colocated: one device holds every role), and FITS / DOES NOT\n"
            "FIT a device of --device-gib with what would fit (activation checkpointing, ZeRO-1 learners,\n"
            "fewer slots, shorter teacher sequences). The model comes from train.init / model.path, or\n"
            "without weights from --shape (published Hugging Face shapes) or --model-config.\n"
            "Sequence sizes are worst cases: responses of method.max_new_tokens after --prompt-tokens.\n"
            "The learner back-propagates one micro-batch at a time: method.micro_batch_tokens / the sequence\n"
            "length sequences, at least 1 (--live-sequences overrides it), and holds\n"
            "the teacher signals of its share of the batch (--learner-sequences overrides that share).\n"
            "--target gpu (default) plans the CUDA build's paths (fused attention in bf16); cpu the CPU ones.\n"
            "--measure runs one learner step and one rollout generate call of this config on dist.device\n"
            "(each in a fresh process) and prints the measured peak next to the plan. docs/MEMORY.md.",
            plan_cmd);

}  // namespace sdz::app
