// bf16 compute copies of fp32 master parameters (see compute_weights.hpp).
#include "sdzero/model/compute_weights.hpp"

#include "sdzero/core/error.hpp"

namespace sdz::model {

torch::ScalarType parse_dtype(const std::string& name, const std::string& where) {
  if (name == "fp32" || name == "float32") return torch::kFloat32;
  if (name == "bf16" || name == "bfloat16") return torch::kBFloat16;
  throw Error("unknown model dtype '" + name + "'", where, "use fp32 or bf16");
}

const char* dtype_name(torch::ScalarType t) { return t == torch::kBFloat16 ? "bf16" : "fp32"; }

void ComputeWeights::set_dtype(torch::ScalarType t) {
  SDZ_CHECK(t == torch::kFloat32 || t == torch::kBFloat16, "ComputeWeights: only fp32 and bf16 are supported");
  std::lock_guard<std::mutex> lock(mu_);
  dtype_ = t;
  copies_.clear();
}

torch::Tensor ComputeWeights::get(const torch::Tensor& master) const {
  if (dtype_ == master.scalar_type()) return master;
  if (torch::GradMode::is_enabled() && master.requires_grad()) return master.to(dtype_);
  std::lock_guard<std::mutex> lock(mu_);
  Copy& c = copies_[master.unsafeGetTensorImpl()];
  const int64_t version = master._version();
  if (!c.value.defined() || c.version != version || c.data != master.data_ptr()) {
    torch::NoGradGuard ng;
    c.value = master.detach().to(dtype_);
    c.version = version;
    c.data = master.data_ptr();
  }
  return c.value;
}

}  // namespace sdz::model
