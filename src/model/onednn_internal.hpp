// defines: sdz::model::onednn, what cpu_matmul.cpp and packed_weights.cpp share: the CPU engine, row-major
// descriptors, and the packed-weight cache's entry points. Compiled only where SDZ_HAVE_ONEDNN is 1.
#pragma once
#include <oneapi/dnnl/dnnl.hpp>
#include <torch/torch.h>

#include <cstdint>
#include <memory>

namespace sdz::model::onednn {

using dnnl::matmul;
using dnnl::memory;
using Tag = memory::format_tag;
constexpr auto F32 = memory::data_type::f32;

dnnl::engine& engine();  // one CPU engine per process (cpu_matmul.cpp)

// A [rows, cols] row-major fp32 tensor, or one stored transposed ([cols, rows] row-major).
inline memory::desc desc_of(int64_t rows, int64_t cols, bool stored_transposed) {
  return memory::desc({rows, cols}, F32, stored_transposed ? Tag::ba : Tag::ab);
}

struct Packed;
// The packed copy of W (contiguous [N,K] fp32), packed when new or changed; null when the layout would
// be the plain one or the copy does not fit the budget (packed_weights.cpp).
std::shared_ptr<Packed> packed(const torch::Tensor& W);
// y = x2 [M,K] times the packed W^T; false when no primitive takes M rows with that layout.
bool mm_packed(Packed& p, const torch::Tensor& x2, torch::Tensor& y);

}  // namespace sdz::model::onednn
