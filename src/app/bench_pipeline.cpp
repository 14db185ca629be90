// `sdzero bench --pipeline` (see bench_pipeline.hpp). Each measurement is a real `sdzero train` job
// of this binary: 1 rank colocated, 2 ranks colocated (data-parallel), 3 ranks split 1+1+1, 4 ranks
// split 2+1+1; SD-Zero with a teacher; throughput from the run's own metrics.jsonl (generated tokens
// and optimizer steps over the training loop's elapsed time, model building excluded).
#include "sdzero/app/bench_pipeline.hpp"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "sdzero/app/setup.hpp"
#include "sdzero/core/error.hpp"
#include "sdzero/core/files.hpp"
#include "sdzero/core/strings.hpp"
#include "sdzero/core/timer.hpp"

namespace sdz::app {

namespace {

struct Shape {
  int hidden, intermediate, layers, heads, kv_heads, head_dim;
};
// The transformer body of `sdzero bench`'s shapes; the vocabulary is the char tokenizer's (the
// training pipeline decodes and verifies text, so the model cannot emit ids the tokenizer lacks).
Shape shape_of(const std::string& name) {
  if (name == "tiny") return {64, 128, 2, 4, 4, 16};
  if (name == "small") return {512, 1536, 8, 8, 4, 64};
  throw Error("unknown pipeline bench shape \"" + name + "\"", "--shape", "use tiny or small");
}

std::string config_text(const Shape& s, int64_t steps, int64_t questions, int64_t new_tokens) {
  std::ostringstream o;
  o << "[run]\nname = bench-pipeline\n[model]\nfamily = qwen3\nhidden_size = " << s.hidden
    << "\nintermediate_size = " << s.intermediate << "\nnum_layers = " << s.layers << "\nnum_heads = " << s.heads
    << "\nnum_kv_heads = " << s.kv_heads << "\nhead_dim = " << s.head_dim << "\nmax_position = 256\n"
    << "[prompt]\nformat = toy\n[data]\ntask = div\nq1_size = 64\nq2_size = 64\neval_size = 8\n"
    << "[method]\nname = sdzero\nsamples_per_question = 4\ntemperature = 1.0\nmax_new_tokens = " << new_tokens
    << "\n[train]\nsteps = " << steps << "\nquestions_per_step = " << questions << "\nslots = 32\nsamples_per_step = 0\n"
    << "[optim]\nlr = 1e-4\nwarmup_steps = 1\n";
  return o.str();
}

struct Setup {
  int ranks;
  std::string layout;  // "colocated" or "R+T+L"
  std::vector<std::string> flags;
};
Setup setup_for(int ranks) {
  switch (ranks) {
    case 1: return {1, "colocated", {"--layout.mode=colocated"}};
    case 2: return {2, "colocated", {"--layout.mode=colocated"}};
    case 3: return {3, "1+1+1", {"--layout.mode=split", "--layout.rollout=1", "--layout.teacher=1", "--layout.learner=1"}};
    case 4: return {4, "2+1+1", {"--layout.mode=split", "--layout.rollout=2", "--layout.teacher=1", "--layout.learner=1"}};
  }
  throw Error("pipeline bench runs 1 to 4 ranks, not " + std::to_string(ranks), "--ranks", "e.g. --ranks 1,2,3,4");
}

std::string self_exe() {
  char buf[4096];
  ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) throw Error("cannot find the sdzero binary (/proc/self/exe)", "bench --pipeline");
  return std::string(buf, size_t(n));
}

nlohmann::json measure(const Setup& su, int64_t staleness, const std::string& exe, const std::string& ini,
                       const std::string& dir, int threads) {
  const std::string name = strprintf("r%d-s%lld", su.ranks, (long long)staleness);
  const std::string run_dir = dir + "/" + name, log = dir + "/" + name + ".log";
  std::string cmd;
  if (su.ranks > 1) {
    const char* mpirun = std::getenv("MPIEXEC");
    cmd = std::string(mpirun ? mpirun : "mpirun") + " -np " + std::to_string(su.ranks) + " --oversubscribe --bind-to none ";
  }
  cmd += "'" + exe + "' train --config '" + ini + "' --run.dir='" + run_dir + "' --run.threads=" +
         std::to_string(threads) + " --dist.max_staleness=" + std::to_string(staleness);
  for (const auto& f : su.flags) cmd += " " + f;
  cmd += " > '" + log + "' 2>&1";
  Timer t;
  int rc = std::system(cmd.c_str());
  const double process_seconds = t.seconds();
  if (rc != 0) throw Error("the benchmark run failed (exit " + std::to_string(rc) + "): " + cmd, log, "see the log");
  std::ifstream in(run_dir + "/metrics.jsonl");
  double tokens = 0, elapsed = 0, weighted = 0;
  int64_t steps = 0;
  std::map<std::string, double> share;
  const std::vector<std::string> phases = {"generate", "verify", "teacher", "learn", "sync", "exchange", "idle"};
  for (std::string line; std::getline(in, line);) {
    if (line.empty()) continue;
    auto r = nlohmann::json::parse(line);
    ++steps;
    tokens += r.value("generated_tokens", 0.0);
    elapsed = std::max(elapsed, r.value("t_elapsed", 0.0));
    const double w = r.value("t_step", 0.0);
    weighted += w;
    for (const auto& p : phases) share[p] += w * r.value("share_" + p, 0.0);
  }
  if (steps == 0 || elapsed <= 0) throw Error("the benchmark run wrote no metrics", run_dir + "/metrics.jsonl");
  nlohmann::json j = {{"ranks", su.ranks}, {"layout", su.layout}, {"max_staleness", staleness}, {"steps", steps},
                      {"generated_tokens", tokens}, {"seconds", elapsed}, {"process_seconds", process_seconds},
                      {"tokens_per_s", tokens / elapsed}, {"steps_per_s", double(steps) / elapsed}};
  for (const auto& p : phases) j["phase_share"][p] = weighted > 0 ? share[p] / weighted : 0.0;
  return j;
}

std::vector<int> parse_ranks(const std::string& s) {
  std::vector<int> out;
  std::stringstream ss(s);
  for (std::string item; std::getline(ss, item, ',');) {
    const std::string t = trim(item);
    if (t.size() != 1 || t[0] < '0' || t[0] > '9')
      throw Error("--ranks wants a comma-separated list of 1..4, got \"" + s + "\"", "--ranks");
    out.push_back(t[0] - '0');
    setup_for(out.back());
  }
  return out;
}

}  // namespace

int bench_pipeline(const std::vector<std::string>& args) {
  CommandLine cl = parse_command_line(args, {"pipeline", "shape=", "ranks=", "steps=", "questions=", "max-new-tokens=",
                                             "threads=", "out=", "keep="});
  auto flag = [&](const char* k, const std::string& def) { return cl.flags.count(k) ? cl.flags[k] : def; };
  const std::string shape = flag("shape", "small");
  const Shape sh = shape_of(shape);
  const std::vector<int> ranks = parse_ranks(flag("ranks", "1,2,3,4"));
  const int64_t steps = flag_int(cl, "steps", 4, 1, 100000), questions = flag_int(cl, "questions", 8, 1, 100000);
  const int64_t new_tokens = flag_int(cl, "max-new-tokens", 16, 1, 100000);
  const int threads = int(flag_int(cl, "threads", 1, 1, 1024));
  const std::string out = flag("out", "bench-pipeline.json");
  if (steps < 2 || questions < 1 || new_tokens < 1 || threads < 1)
    throw Error("--steps must be >= 2 (async needs a full pipeline); --questions, --max-new-tokens, --threads >= 1",
                "bench --pipeline");
  if (geteuid() == 0) {  // OpenMPI refuses root unless told
    setenv("OMPI_ALLOW_RUN_AS_ROOT", "1", 0);
    setenv("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1", 0);
  }
  setenv("OMP_WAIT_POLICY", "passive", 0);  // more ranks than cores (DESIGN.md)
  std::string dir = flag("keep", "");
  const bool keep = !dir.empty();
  if (!keep) {
    char tmpl[] = "/tmp/sdz-bench-pipeline-XXXXXX";
    if (!mkdtemp(tmpl)) throw Error("cannot create a temporary directory", "/tmp");
    dir = tmpl;
  } else {
    make_dirs(dir);
  }
  const std::string ini = dir + "/bench.ini", exe = self_exe();
  write_file_atomic(ini, config_text(sh, steps, questions, new_tokens));

  nlohmann::json j;
  j["shape"] = shape;
  j["model"] = {{"hidden_size", sh.hidden}, {"intermediate_size", sh.intermediate}, {"num_layers", sh.layers},
                {"num_heads", sh.heads}, {"num_kv_heads", sh.kv_heads}, {"head_dim", sh.head_dim}, {"vocab", "char"}};
  j["method"] = "sdzero";
  j["steps"] = steps;
  j["questions_per_step"] = questions;
  j["samples_per_question"] = 4;
  j["max_new_tokens"] = new_tokens;
  j["threads_per_rank"] = threads;
  j["cores"] = int(sysconf(_SC_NPROCESSORS_ONLN));
  j["runs"] = nlohmann::json::array();
  for (int r : ranks) {
    nlohmann::json sync = measure(setup_for(r), 0, exe, ini, dir, threads);
    nlohmann::json async = measure(setup_for(r), 1, exe, ini, dir, threads);
    j["async_speedup"][std::to_string(r)] = async["tokens_per_s"].get<double>() / sync["tokens_per_s"].get<double>();
    j["runs"].push_back(sync);
    j["runs"].push_back(async);
    std::cerr << strprintf("bench --pipeline: %d rank(s) %s: %.0f tok/s on-policy, %.0f tok/s async s=1\n", r,
                           sync["layout"].get<std::string>().c_str(), sync["tokens_per_s"].get<double>(),
                           async["tokens_per_s"].get<double>());
  }
  if (!keep) std::filesystem::remove_all(dir);
  const std::string text = j.dump(2) + "\n";
  write_file_atomic(out, text);
  std::cout << text;
  return 0;
}

}  // namespace sdz::app
