// y = x W^T + b through oneDNN on fp32 CPU tensors (see cpu_matmul.hpp for why), torch::linear elsewhere.
#include "sdzero/model/cpu_matmul.hpp"

#include <ATen/record_function.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <unordered_map>

#include "sdzero/core/error.hpp"

#if SDZ_HAVE_ONEDNN
#include "onednn_internal.hpp"
#endif

namespace sdz::model {

namespace {
std::atomic<bool> g_onednn{SDZ_HAVE_ONEDNN != 0};
}  // namespace

bool onednn_built() { return SDZ_HAVE_ONEDNN != 0; }

bool set_cpu_matmul(CpuMatmul m) {
  const bool ok = m == CpuMatmul::Blas || onednn_built();
  g_onednn = m == CpuMatmul::OneDnn && ok;
  return ok;
}

CpuMatmul cpu_matmul() { return g_onednn ? CpuMatmul::OneDnn : CpuMatmul::Blas; }

CpuMatmul parse_cpu_matmul(const std::string& name, const std::string& where) {
  if (name == "onednn") return CpuMatmul::OneDnn;
  if (name == "blas") return CpuMatmul::Blas;
  throw Error("unknown CPU matmul backend '" + name + "'", where, "use onednn or blas");
}

const char* cpu_matmul_name(CpuMatmul m) { return m == CpuMatmul::OneDnn ? "onednn" : "blas"; }

#if SDZ_HAVE_ONEDNN

dnnl::engine& onednn::engine() {
  static dnnl::engine e(dnnl::engine::kind::cpu, 0);
  return e;
}

namespace {

// (dnnl's matmul primitive here; this file's model::matmul function is outside this namespace)
using onednn::desc_of;
using onednn::engine;
using onednn::F32;
using onednn::matmul;
using onednn::memory;

void execute(const matmul& mm, const memory::desc& ad, const void* a, const memory::desc& bd, const void* b,
             const memory::desc& cd, void* c) {
  thread_local dnnl::stream s(engine());
  memory am(ad, engine(), const_cast<void*>(a)), bm(bd, engine(), const_cast<void*>(b)), cm(cd, engine(), c);
  mm.execute(s, {{DNNL_ARG_SRC, am}, {DNNL_ARG_WEIGHTS, bm}, {DNNL_ARG_DST, cm}});
  s.wait();
}

// Unpacked products, one primitive per shape (creating one costs ~100 us; a decode step has dozens).
struct PlainKey {
  int64_t M, N, K;
  bool at, bt;
  bool operator==(const PlainKey& o) const { return M == o.M && N == o.N && K == o.K && at == o.at && bt == o.bt; }
};
struct PlainKeyHash {
  size_t operator()(const PlainKey& k) const {
    return std::hash<int64_t>()(k.M * 1000003 + k.N * 10007 + k.K * 31 + k.at * 2 + k.bt);
  }
};
std::mutex g_plain_mu;
std::unordered_map<PlainKey, std::shared_ptr<matmul>, PlainKeyHash> g_plain;

// C [M,N] = op(A) op(B) with op the transpose where a_t / b_t say so.
torch::Tensor mm_plain(const torch::Tensor& A, bool a_t, const torch::Tensor& B, bool b_t) {
  const int64_t M = a_t ? A.size(1) : A.size(0), K = a_t ? A.size(0) : A.size(1), N = b_t ? B.size(0) : B.size(1);
  auto C = torch::empty({M, N}, A.options());
  if (M == 0 || N == 0) return C;
  if (K == 0) return C.zero_();
  const auto ad = desc_of(M, K, a_t), bd = desc_of(K, N, b_t), cd = desc_of(M, N, false);
  std::shared_ptr<matmul> mm;
  {
    std::lock_guard<std::mutex> lock(g_plain_mu);
    const PlainKey key{M, N, K, a_t, b_t};
    auto it = g_plain.find(key);
    if (it == g_plain.end()) {
      if (g_plain.size() >= 1024) g_plain.clear();  // each holds JIT code; training lengths vary
      it = g_plain.emplace(key, std::make_shared<matmul>(matmul::primitive_desc(matmul::desc(ad, bd, cd), engine())))
               .first;
    }
    mm = it->second;
  }
  execute(*mm, ad, A.data_ptr(), bd, B.data_ptr(), cd, C.data_ptr());
  return C;
}

// Products of strided operands (attention, over the KV cache in decode): one primitive per shape and
// layout, parallel over the batch, where torch 1.13 loops over it on one thread.
struct BatchedKey {
  std::vector<int64_t> a_dims, a_strides, b_dims, b_strides;
  bool operator==(const BatchedKey& o) const {
    return a_dims == o.a_dims && a_strides == o.a_strides && b_dims == o.b_dims && b_strides == o.b_strides;
  }
};
struct BatchedKeyHash {
  size_t operator()(const BatchedKey& k) const {
    size_t h = 0;
    for (const auto* v : {&k.a_dims, &k.a_strides, &k.b_dims, &k.b_strides})
      for (int64_t x : *v) h = h * 1000003 + std::hash<int64_t>()(x);
    return h;
  }
};
std::mutex g_batched_mu;
std::unordered_map<BatchedKey, std::shared_ptr<matmul>, BatchedKeyHash> g_batched;

memory::desc strided_desc(const std::vector<int64_t>& dims, const std::vector<int64_t>& strides) {
  return memory::desc(memory::dims(dims.begin(), dims.end()), F32, memory::dims(strides.begin(), strides.end()));
}

torch::Tensor batched_mm(const torch::Tensor& a, const torch::Tensor& b) {
  BatchedKey key{a.sizes().vec(), a.strides().vec(), b.sizes().vec(), b.strides().vec()};
  auto out_dims = key.a_dims;
  out_dims.back() = key.b_dims.back();
  auto c = torch::empty(out_dims, a.options());
  if (c.numel() == 0) return c;
  const auto ad = strided_desc(key.a_dims, key.a_strides), bd = strided_desc(key.b_dims, key.b_strides);
  const auto cd = strided_desc(c.sizes().vec(), c.strides().vec());
  std::shared_ptr<matmul> mm;
  {
    std::lock_guard<std::mutex> lock(g_batched_mu);
    auto it = g_batched.find(key);
    if (it == g_batched.end()) {
      if (g_batched.size() >= 1024) g_batched.clear();
      it = g_batched.emplace(std::move(key), std::make_shared<matmul>(matmul::primitive_desc(matmul::desc(ad, bd, cd), engine())))
               .first;
    }
    mm = it->second;
  }
  execute(*mm, ad, a.data_ptr(), bd, b.data_ptr(), cd, c.data_ptr());
  return c;
}

using torch::autograd::AutogradContext;
using torch::autograd::tensor_list;

// Training: forward and both backward products on oneDNN, unpacked (the weight changes every step).
// The bias, where there is one, is added outside by torch (an undefined input would not pass apply).
struct LinearFn : public torch::autograd::Function<LinearFn> {
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& x2, const torch::Tensor& W) {
    ctx->save_for_backward({x2, W});
    return mm_plain(x2, false, W, true);
  }
  static tensor_list backward(AutogradContext* ctx, tensor_list grads) {
    const auto saved = ctx->get_saved_variables();
    const auto gy = grads[0].contiguous();
    torch::Tensor gx, gW;
    if (ctx->needs_input_grad(0)) gx = mm_plain(gy, false, saved[1], false);
    if (ctx->needs_input_grad(1)) gW = mm_plain(gy, true, saved[0], false);
    return {gx, gW};
  }
};

// Training attention: both products of backward are the same batched kernel on transposed views.
struct MatmulFn : public torch::autograd::Function<MatmulFn> {
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& a, const torch::Tensor& b) {
    ctx->save_for_backward({a, b});
    return batched_mm(a, b);
  }
  static tensor_list backward(AutogradContext* ctx, tensor_list grads) {
    const auto saved = ctx->get_saved_variables();
    const auto g = grads[0].contiguous();
    torch::Tensor ga, gb;
    if (ctx->needs_input_grad(0)) ga = batched_mm(g, saved[1].transpose(-2, -1));
    if (ctx->needs_input_grad(1)) gb = batched_mm(saved[0].transpose(-2, -1), g);
    return {ga, gb};
  }
};

bool takes(const torch::Tensor& x, const torch::Tensor& W, const torch::Tensor& b) {
  auto f32cpu = [](const torch::Tensor& t) { return t.device().is_cpu() && t.scalar_type() == torch::kFloat32; };
  return g_onednn && f32cpu(x) && f32cpu(W) && W.dim() == 2 && W.is_contiguous() && x.size(-1) == W.size(1) &&
         (!b.defined() || (f32cpu(b) && b.dim() == 1 && b.size(0) == W.size(0))) && x.layout() == torch::kStrided;
}

}  // namespace

torch::Tensor linear(const torch::Tensor& x, const torch::Tensor& W, const torch::Tensor& b) {
  if (!takes(x, W, b)) return torch::linear(x, W, b);
  RECORD_FUNCTION("sdz::linear", std::vector<c10::IValue>());  // named in `bench --profile`
  const int64_t K = W.size(1), N = W.size(0);
  std::vector<int64_t> out_shape(x.sizes().begin(), x.sizes().end());
  out_shape.back() = N;
  auto x2 = x.reshape({-1, K}).contiguous();
  const bool grads = torch::GradMode::is_enabled() &&
                     (x.requires_grad() || W.requires_grad() || (b.defined() && b.requires_grad()));
  if (grads) {
    auto y = LinearFn::apply(x2, W);
    return (b.defined() ? y + b : y).view(out_shape);
  }
  torch::Tensor y;
  auto p = onednn::packed(W);
  if (!(p && x2.size(0) > 0 && onednn::mm_packed(*p, x2, y))) y = mm_plain(x2, false, W, true);
  if (b.defined()) y.add_(b);
  return y.view(out_shape);
}

torch::Tensor matmul(const torch::Tensor& a, const torch::Tensor& b) {
  // Broadcast (stride-0) operands stay with torch: oneDNN's strided descriptors want real strides.
  auto f32cpu = [](const torch::Tensor& t) {
    if (!t.device().is_cpu() || t.scalar_type() != torch::kFloat32 || t.layout() != torch::kStrided) return false;
    for (int64_t d = 0; d < t.dim(); ++d)
      if (t.size(d) > 1 && t.stride(d) == 0) return false;
    return true;
  };
  if (!g_onednn || !f32cpu(a) || !f32cpu(b) || a.dim() < 2 || a.dim() > 4 || b.dim() != a.dim() ||
      a.sizes().slice(0, a.dim() - 2) != b.sizes().slice(0, b.dim() - 2) || a.size(-1) != b.size(-2))
    return torch::matmul(a, b);
  RECORD_FUNCTION("sdz::matmul", std::vector<c10::IValue>());
  const bool grads = torch::GradMode::is_enabled() && (a.requires_grad() || b.requires_grad());
  return grads ? MatmulFn::apply(a, b) : batched_mm(a, b);
}

#else  // no oneDNN in this build

torch::Tensor linear(const torch::Tensor& x, const torch::Tensor& W, const torch::Tensor& b) {
  return torch::linear(x, W, b);
}

torch::Tensor matmul(const torch::Tensor& a, const torch::Tensor& b) { return torch::matmul(a, b); }

#endif

}  // namespace sdz::model
