#include "sdzero/ckpt/state.hpp"

#include <cstring>

#include "sdzero/ckpt/h5io.hpp"

namespace sdz::ckpt {

int64_t parameter_count(const TrainingState& s) {
  int64_t n = 0;
  for (const auto& [name, t] : s.model) n += t.numel();
  return n;
}

int64_t parameter_bytes(const TrainingState& s) {
  int64_t n = 0;
  for (const auto& [name, t] : s.model) n += int64_t(t.nbytes());
  return n;
}

namespace {

std::string tensor_diff(const torch::Tensor& a, const torch::Tensor& b) {
  if (a.defined() != b.defined()) return "defined vs undefined";
  if (!a.defined()) return "";
  if (a.scalar_type() != b.scalar_type()) return h5::dtype_name(a.scalar_type()) + " vs " + h5::dtype_name(b.scalar_type());
  if (a.sizes() != b.sizes())
    return "shape " + h5::shape_text(a.sizes().vec()) + " vs " + h5::shape_text(b.sizes().vec());
  torch::Tensor x = a.detach().cpu().contiguous(), y = b.detach().cpu().contiguous();
  if (x.nbytes() && std::memcmp(x.data_ptr(), y.data_ptr(), x.nbytes()) != 0) return "bytes differ";
  return "";
}

template <class V, class F>
std::string map_diff(const std::string& where, const std::map<std::string, V>& a, const std::map<std::string, V>& b, F cmp) {
  for (const auto& [k, v] : a) {
    auto it = b.find(k);
    if (it == b.end()) return where + "/" + k + ": only in the first";
    if (std::string d = cmp(v, it->second); !d.empty()) return where + "/" + k + ": " + d;
  }
  for (const auto& [k, v] : b)
    if (!a.count(k)) return where + "/" + k + ": only in the second";
  return "";
}

std::string eq_text(bool eq) { return eq ? "" : "values differ"; }

}  // namespace

std::string first_difference(const TrainingState& a, const TrainingState& b) {
  auto scalar = [](const char* what, const auto& x, const auto& y) { return x == y ? std::string() : std::string(what) + ": values differ"; };
  for (std::string d : {scalar("step", a.step, b.step), scalar("policy_version", a.policy_version, b.policy_version),
                        scalar("phase", a.phase, b.phase), scalar("config_text", a.config_text, b.config_text),
                        scalar("code_version", a.code_version, b.code_version),
                        scalar("metrics_json", a.metrics_json, b.metrics_json),
                        scalar("model_config_json", a.model_config_json, b.model_config_json),
                        scalar("optimizer.kind", a.optimizer.kind, b.optimizer.kind),
                        scalar("optimizer.hyper_json", a.optimizer.hyper_json, b.optimizer.hyper_json),
                        scalar("teacher.rule", a.teacher.rule, b.teacher.rule),
                        scalar("teacher.synced_version", a.teacher.synced_version, b.teacher.synced_version),
                        scalar("teacher.schedule_json", a.teacher.schedule_json, b.teacher.schedule_json)})
    if (!d.empty()) return d;
  auto slots = [](const ParamSlots& x, const ParamSlots& y) {
    if (x.step != y.step) return std::string("step differs");
    return map_diff("slots", x.slots, y.slots, tensor_diff);
  };
  auto rng = [](const std::array<uint64_t, 4>& x, const std::array<uint64_t, 4>& y) { return eq_text(x == y); };
  auto cursor = [](const DataCursor& x, const DataCursor& y) {
    return eq_text(x.epoch == y.epoch && x.position == y.position && x.consumed == y.consumed);
  };
  auto i64 = [](int64_t x, int64_t y) { return eq_text(x == y); };
  for (std::string d : {map_diff("model", a.model, b.model, tensor_diff),
                        map_diff("optimizer", a.optimizer.params, b.optimizer.params, slots),
                        map_diff("teacher", a.teacher.params, b.teacher.params, tensor_diff),
                        map_diff("rngs", a.rngs, b.rngs, rng), map_diff("torch_rngs", a.torch_rngs, b.torch_rngs, tensor_diff),
                        map_diff("data", a.data, b.data, cursor), map_diff("budget", a.budget, b.budget, i64),
                        map_diff("extra", a.extra, b.extra, tensor_diff),
                        map_diff("texts", a.texts, b.texts, [](const std::string& x, const std::string& y) { return eq_text(x == y); })})
    if (!d.empty()) return d;
  return "";
}

}  // namespace sdz::ckpt
