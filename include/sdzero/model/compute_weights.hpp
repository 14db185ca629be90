// defines: sdz::model::ComputeWeights, the reduced-precision (bf16) copies of a model's fp32 master
// parameters that the forward pass multiplies with, and the model.dtype names (fp32 | bf16).
// Mixed precision here keeps the masters where everything else already looks: the Transformer's
// parameters stay fp32, so AdamW (fp32 moments), gradient allreduce, EMA/hard-sync teachers,
// checkpoints and exact resume see fp32 tensors and need no dtype logic. The compute copies are
// refreshed from the masters (round-to-nearest-even, torch's float -> bfloat16 conversion) whenever a
// master's in-place version counter moved, i.e. lazily after each optimizer step, load or sync.
// While training (grad mode on and the master requires grad) the copy is the differentiable cast
// master.to(bf16): the same rounded values, and the gradient arrives in fp32 on the master.
#pragma once
#include <torch/torch.h>

#include <mutex>
#include <string>
#include <unordered_map>

namespace sdz::model {

// "fp32" -> kFloat32, "bf16" -> kBFloat16; anything else is an sdz::Error naming `where`.
torch::ScalarType parse_dtype(const std::string& name, const std::string& where = "model.dtype");
const char* dtype_name(torch::ScalarType t);  // "fp32" | "bf16"

class ComputeWeights {
 public:
  // kFloat32 (the default) makes get() return the master itself; clears every copy.
  void set_dtype(torch::ScalarType t);
  torch::ScalarType dtype() const { return dtype_; }
  // The compute-dtype value of `master` (a parameter tensor that outlives this object).
  torch::Tensor get(const torch::Tensor& master) const;

 private:
  struct Copy {
    torch::Tensor value;
    int64_t version = 0;
    const void* data = nullptr;
  };
  torch::ScalarType dtype_ = torch::kFloat32;
  mutable std::mutex mu_;  // generation and scoring may share a model across threads
  mutable std::unordered_map<const void*, Copy> copies_;  // by the master's TensorImpl
};

}  // namespace sdz::model
