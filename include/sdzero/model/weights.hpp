// defines: loading and saving a Transformer's weights as Hugging Face safetensors, by HF tensor names,
// and opening a model directory (config.json + weights) in one call.
#pragma once
#include <memory>
#include <string>

#include "sdzero/model/safetensors.hpp"
#include "sdzero/model/transformer.hpp"

namespace sdz::model {

// Copies every parameter from `set` (converting F32/BF16/F16 to the parameter's dtype). Missing,
// unexpected or mis-shaped tensors are sdz::Errors naming the tensor and file. A tied model accepts a
// redundant lm_head.weight (some exports keep one).
void load_weights(Transformer& m, const SafetensorsSet& set);
// config.json + model.safetensors[.index.json] -> a ready model.
std::unique_ptr<Transformer> load_model_dir(const std::string& dir);
// Writes config.json and the weights (`dtype` F32, BF16 or F16; sharded above max_shard_bytes).
void save_model_dir(const Transformer& m, const std::string& dir, DType dtype = DType::F32,
                    size_t max_shard_bytes = size_t(5) << 30);
// torch tensor <-> safetensors dtype
torch::Tensor tensor_from_info(const TensorInfo& t);  // a copy, in the file's dtype
torch::ScalarType scalar_type(DType d);

}  // namespace sdz::model
