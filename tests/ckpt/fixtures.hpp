// Shared test helpers: a realistic TrainingState (tiny Qwen3-shaped parameters under HF names),
// temporary run directories, file damage, and a log capture.
#pragma once
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include <torch/torch.h>

#include "sdzero/ckpt/state.hpp"
#include "sdzero/core/log.hpp"
#include "sdzero/core/rng.hpp"

namespace ckpt_test {

inline std::string temp_dir(const std::string& tag) {
  std::string tmpl = "/tmp/sdz_ckpt_" + tag + "_XXXXXX";
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  if (!mkdtemp(buf.data())) throw std::runtime_error("mkdtemp failed");
  return buf.data();
}

// SDZ_KEEP_TEST_FILES=1 keeps the files for a look with h5dump / sdzero inspect.
inline void remove_tree(const std::string& dir) {
  if (std::getenv("SDZ_KEEP_TEST_FILES")) return;
  if (dir.rfind("/tmp/sdz_ckpt_", 0) == 0) std::system(("rm -rf '" + dir + "'").c_str());
}

// Tiny Qwen3-like layout. `width` scales the tensors (bytes ~ 14 * width^2 * layers).
inline sdz::ckpt::TrainingState make_state(uint64_t seed, int64_t width = 16, int layers = 2, int64_t step = 7) {
  torch::manual_seed(seed);
  sdz::ckpt::TrainingState s;
  s.step = step;
  s.policy_version = step + 3;
  s.phase = sdz::ckpt::kPhaseDistill;
  s.config_text = "[run]\nname = test\nseed = " + std::to_string(seed) + "\n\n[ckpt]\nevery_steps = 10\n";
  s.metrics_json = R"({"reward_mean":0.625,"loss":1.25})";
  int64_t v = 4 * width, h = width;
  s.model["model.embed_tokens.weight"] = torch::randn({v, h}).to(torch::kBFloat16);
  for (int l = 0; l < layers; ++l) {
    std::string p = "model.layers." + std::to_string(l) + ".";
    s.model[p + "self_attn.q_proj.weight"] = torch::randn({h, h});
    s.model[p + "self_attn.k_proj.weight"] = torch::randn({h / 2, h});
    s.model[p + "self_attn.q_norm.weight"] = torch::ones({h / 4});
    s.model[p + "mlp.up_proj.weight"] = torch::randn({3 * h, h}).to(torch::kBFloat16);
    s.model[p + "input_layernorm.weight"] = torch::rand({h}).to(torch::kHalf);
  }
  s.model["lm_head.weight"] = torch::randn({v, h});
  s.optimizer.hyper_json = R"({"groups":[{"lr":5e-06}]})";
  for (const auto& [name, t] : s.model) {
    sdz::ckpt::ParamSlots ps;
    ps.step = step;
    ps.slots["exp_avg"] = torch::randn(t.sizes());
    ps.slots["exp_avg_sq"] = torch::rand(t.sizes());
    s.optimizer.params[name] = ps;
  }
  s.teacher.rule = "frozen";
  s.teacher.synced_version = 0;
  s.teacher.schedule_json = R"({"syncs":0,"last_sync_step":0})";
  s.teacher.params["lm_head.weight"] = torch::randn({v, h});
  sdz::Rng r(seed);
  r.next();
  s.rngs["sampler"] = r.state();
  s.rngs["data"] = sdz::Rng(seed + 1).state();
  auto gen = at::detail::createCPUGenerator(seed);
  s.torch_rngs["cpu"] = gen.get_state();
  s.data["train"] = sdz::ckpt::DataCursor{2, 17, 1041};
  s.data["srt_q1"] = sdz::ckpt::DataCursor{0, 0, 0};
  s.budget["generations"] = 9000;
  s.budget["teacher_tokens"] = int64_t(1) << 40;
  s.extra["int64_ids"] = torch::tensor({INT64_MIN, int64_t(-1), int64_t(0), INT64_MAX}, torch::kLong);
  s.extra["mask"] = torch::tensor({true, false, true}, torch::kBool);
  s.extra["scalar"] = torch::tensor(3.5, torch::kDouble);
  s.extra["empty"] = torch::empty({0, 5});
  s.texts["srt_traces"] = R"({"path":"runs/x/srt_traces.jsonl","crc32c":305419896,"traces":6012})";
  s.texts["blank"] = "";
  return s;
}

inline void flip_byte(const std::string& path, int64_t offset) {
  int fd = ::open(path.c_str(), O_RDWR);
  if (fd < 0) throw std::runtime_error("open " + path);
  unsigned char c = 0;
  if (::pread(fd, &c, 1, offset) != 1) throw std::runtime_error("pread");
  c ^= 0x5A;
  if (::pwrite(fd, &c, 1, offset) != 1) throw std::runtime_error("pwrite");
  ::close(fd);
}

inline int64_t file_size(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 ? int64_t(st.st_size) : -1;
}

inline void copy_file(const std::string& from, const std::string& to) {
  std::ifstream in(from, std::ios::binary);
  std::ofstream out(to, std::ios::binary | std::ios::trunc);
  out << in.rdbuf();
}

// Captures log lines while alive.
struct LogCapture {
  std::ostringstream out;
  LogCapture() {
    sdz::log::init(0, 1, sdz::log::Level::Info);
    sdz::log::set_sink(&out);
  }
  ~LogCapture() { sdz::log::set_sink(nullptr); }
  std::string text() const { return out.str(); }
};

}  // namespace ckpt_test
