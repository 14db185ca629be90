// One profiled training step for `sdzero bench --profile` (see bench_profile.hpp).
#include "sdzero/app/bench_profile.hpp"

#include <torch/csrc/autograd/profiler_kineto.h>
#include <torch/torch.h>

#include <algorithm>
#include <map>

#include "sdzero/core/timer.hpp"
#include "sdzero/dist/device.hpp"

namespace sdz::app {

namespace {

namespace prof = torch::autograd::profiler;
namespace impl = torch::profiler::impl;

// torch 2.x reports nanoseconds, 1.13 microseconds: take whichever the event has.
template <class E>
auto duration_ns(const E& e, int) -> decltype(uint64_t(e.durationNs())) {
  return e.durationNs();
}
template <class E>
uint64_t duration_ns(const E& e, long) {
  return uint64_t(e.durationUs()) * 1000;
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return char(std::tolower(c)); });
  return s;
}

// Coarse kernel classes: what a fused or tuned implementation could change differs per class.
std::string kernel_class(const std::string& name) {
  const std::string n = lower(name);
  for (const char* k : {"flash", "fmha", "attention", "sdpa"})
    if (n.find(k) != std::string::npos) return "attention";
  for (const char* k : {"gemm", "cutlass", "cublas", "nvjet", "sm90_xmma", "matmul", "splitk"})
    if (n.find(k) != std::string::npos) return "gemm";
  if (n.find("memcpy") != std::string::npos || n.find("memset") != std::string::npos) return "memcpy/memset";
  if (n.find("reduce") != std::string::npos || n.find("norm") != std::string::npos ||
      n.find("softmax") != std::string::npos)
    return "reductions/norms/softmax";
  return "elementwise/other";
}

}  // namespace

nlohmann::json profile_step(const std::function<void()>& step, const c10::Device& dev, const std::string& trace_path,
                            int top) {
  const bool gpu = dev.is_cuda();
  impl::ProfilerConfig cfg(impl::ProfilerState::KINETO);
  std::set<impl::ActivityType> acts{impl::ActivityType::CPU};
  if (gpu) acts.insert(impl::ActivityType::CUDA);
  prof::prepareProfiler(cfg, acts);
  synchronize(dev);
  prof::enableProfiler(cfg, acts);
  Timer t;
  step();
  synchronize(dev);
  const double wall = t.seconds();
  auto result = prof::disableProfiler();

  struct Agg {
    uint64_t ns = 0;
    int64_t count = 0;
  };
  std::map<std::string, Agg> by_name, by_class;
  uint64_t busy = 0;
  int64_t launches = 0;
  for (const auto& e : result->events()) {
    const bool on_gpu = e.deviceType() == c10::DeviceType::CUDA;
    if (on_gpu != gpu) continue;
    const uint64_t ns = duration_ns(e, 0);
    std::string name = e.name();
    if (gpu) {
      busy += ns;
      ++launches;
      auto& c = by_class[kernel_class(name)];
      c.ns += ns, ++c.count;
    }
    if (name.size() > 120) name = name.substr(0, 117) + "...";
    auto& a = by_name[name];
    a.ns += ns, ++a.count;
  }
  std::vector<std::pair<std::string, Agg>> rows(by_name.begin(), by_name.end());
  std::sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) { return a.second.ns > b.second.ns; });
  if (int(rows.size()) > top) rows.resize(size_t(top));

  nlohmann::json j;
  j["what"] = gpu ? "GPU kernels of one training step (device time)"
                  : "CPU operators of one training step (inclusive times: nested operators overlap)";
  j["step_wall_s"] = wall;
  j["events"] = result->events().size();
  if (gpu) {
    j["gpu_busy_s"] = double(busy) * 1e-9;
    j["gpu_busy_frac"] = double(busy) * 1e-9 / wall;  // below 1: the GPU waits for the host (launches)
    j["kernel_launches"] = launches;
    for (const auto& [cls, a] : by_class)
      j["classes"][cls] = {{"s", double(a.ns) * 1e-9}, {"launches", a.count}, {"share", double(a.ns) / double(busy)}};
  }
  for (const auto& [name, a] : rows) j["top"].push_back({{"name", name}, {"s", double(a.ns) * 1e-9}, {"count", a.count}});
  try {
    result->save(trace_path);
    j["trace"] = trace_path;
  } catch (const c10::Error& e) {
    std::string why = e.what_without_backtrace();
    j["trace"] = nullptr;
    j["trace_not_written"] = why.substr(0, why.find('\n'));
  }
  return j;
}

}  // namespace sdz::app
