#include "sdzero/ckpt/torch_state.hpp"

#include <nlohmann/json.hpp>

#include "sdzero/algo/optim.hpp"
#include "sdzero/ckpt/h5io.hpp"
#include "sdzero/core/error.hpp"

namespace sdz::ckpt {

OptimizerState capture_adamw(torch::optim::AdamW& opt, const NamedParams& params) {
  OptimizerState st;
  st.kind = "adamw";
  for (const auto& [name, p] : params) {
    const torch::optim::AdamWParamState* found = algo::adamw_param_state(opt, p);
    if (!found) continue;
    const torch::optim::AdamWParamState& s = *found;
    ParamSlots ps;
    ps.step = s.step();
    ps.slots["exp_avg"] = s.exp_avg().detach().clone();
    ps.slots["exp_avg_sq"] = s.exp_avg_sq().detach().clone();
    if (s.max_exp_avg_sq().defined()) ps.slots["max_exp_avg_sq"] = s.max_exp_avg_sq().detach().clone();
    st.params[name] = std::move(ps);
  }
  nlohmann::json groups = nlohmann::json::array();
  for (auto& g : opt.param_groups()) {
    auto& o = static_cast<torch::optim::AdamWOptions&>(g.options());
    groups.push_back({{"lr", o.lr()}, {"beta1", std::get<0>(o.betas())}, {"beta2", std::get<1>(o.betas())},
                      {"eps", o.eps()}, {"weight_decay", o.weight_decay()}, {"amsgrad", o.amsgrad()}});
  }
  st.hyper_json = nlohmann::json{{"groups", groups}}.dump();
  return st;
}

void restore_adamw(torch::optim::AdamW& opt, const NamedParams& params, const OptimizerState& st) {
  if (st.kind != "adamw") throw Error("checkpoint optimizer is '" + st.kind + "', the run uses adamw", "optimizer");
  std::map<std::string, torch::Tensor> by_name(params.begin(), params.end());
  opt.state().clear();
  for (const auto& [name, ps] : st.params) {
    auto it = by_name.find(name);
    if (it == by_name.end())
      throw Error("checkpoint has optimizer state for '" + name + "' which the model does not have", "optimizer/" + name);
    const torch::Tensor& p = it->second;
    auto s = std::make_unique<torch::optim::AdamWParamState>();
    s->step(ps.step);
    for (const char* slot : {"exp_avg", "exp_avg_sq"}) {
      auto sit = ps.slots.find(slot);
      if (sit == ps.slots.end()) throw Error(std::string("checkpoint lacks AdamW slot '") + slot + "'", "optimizer/" + name);
      if (sit->second.sizes() != p.sizes())
        throw Error(std::string("AdamW slot '") + slot + "' has shape " + h5::shape_text(sit->second.sizes().vec()) +
                        ", parameter has " + h5::shape_text(p.sizes().vec()), "optimizer/" + name);
    }
    s->exp_avg(ps.slots.at("exp_avg").to(p.device()).clone());
    s->exp_avg_sq(ps.slots.at("exp_avg_sq").to(p.device()).clone());
    if (auto m = ps.slots.find("max_exp_avg_sq"); m != ps.slots.end()) s->max_exp_avg_sq(m->second.to(p.device()).clone());
    algo::set_adamw_param_state(opt, p, std::move(s));
  }
  if (!st.hyper_json.empty()) {
    nlohmann::json h = nlohmann::json::parse(st.hyper_json, nullptr, false);
    if (h.is_object() && h.contains("groups") && h["groups"].size() == opt.param_groups().size())
      for (size_t i = 0; i < opt.param_groups().size(); ++i)
        static_cast<torch::optim::AdamWOptions&>(opt.param_groups()[i].options()).lr(h["groups"][i].value("lr", 0.0));
  }
}

torch::Tensor capture_generator(const at::Generator& g) { return g.get_state(); }

void restore_generator(at::Generator& g, const torch::Tensor& state) {
  std::lock_guard<std::mutex> lock(g.mutex());
  g.set_state(state);
}

void copy_into(const NamedParams& params, const std::map<std::string, torch::Tensor>& saved, const std::string& where) {
  torch::NoGradGuard ng;
  for (const auto& [name, p] : params) {
    auto it = saved.find(name);
    if (it == saved.end()) throw Error("checkpoint has no tensor '" + name + "'", where);
    const torch::Tensor& s = it->second;
    if (s.sizes() != p.sizes() || s.scalar_type() != p.scalar_type())
      throw Error("tensor '" + name + "': checkpoint has " + h5::dtype_name(s.scalar_type()) + h5::shape_text(s.sizes().vec()) +
                      ", model has " + h5::dtype_name(p.scalar_type()) + h5::shape_text(p.sizes().vec()), where);
    p.copy_(s);
  }
}

}  // namespace sdz::ckpt
