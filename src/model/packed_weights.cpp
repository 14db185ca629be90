// Weights packed once into oneDNN's blocked layout for inference (see cpu_matmul.hpp), and their budget.
// An entry holds a weak reference to its weight: the weight's memory is never reused under a live
// entry, and an entry whose weight died is dropped when room is needed.
#include <atomic>
#include <mutex>
#include <unordered_map>

#include "sdzero/model/cpu_matmul.hpp"

#if SDZ_HAVE_ONEDNN
#include "onednn_internal.hpp"
#endif

namespace sdz::model {

namespace {
std::atomic<int64_t> g_budget{int64_t(4) << 30};
}

void set_packed_weight_budget(int64_t bytes) { g_budget = bytes; }

#if SDZ_HAVE_ONEDNN

namespace onednn {

// A weight packed into the blocked layout oneDNN's kernels read, valid while the weight's version
// counter and storage stay what they were when it was packed.
struct Packed {
  c10::weak_intrusive_ptr<c10::TensorImpl, c10::UndefinedTensorImpl> owner;
  int64_t version = -1;
  const void* data = nullptr;
  int64_t N = 0, K = 0;
  memory::desc desc;
  std::shared_ptr<memory> mem;  // null: not packed (over the budget, or the layout is the plain one)
  std::unordered_map<int64_t, std::shared_ptr<matmul>> by_rows;  // null: no kernel takes that many rows
  explicit Packed(const torch::Tensor& W) : owner(W.getIntrusivePtr()) {}
};

namespace {

std::mutex g_packed_mu;
std::unordered_map<const c10::TensorImpl*, std::shared_ptr<Packed>> g_packed;
int64_t g_packed_bytes = 0;

int64_t bytes_of(const Packed& p) { return p.mem ? int64_t(p.desc.get_size()) : 0; }

void drop_expired() {
  for (auto it = g_packed.begin(); it != g_packed.end();)
    if (it->second->owner.expired()) g_packed_bytes -= bytes_of(*it->second), it = g_packed.erase(it);
    else ++it;
}

}  // namespace

std::shared_ptr<Packed> packed(const torch::Tensor& W) {
  std::lock_guard<std::mutex> lock(g_packed_mu);
  const c10::TensorImpl* key = W.unsafeGetTensorImpl();
  const int64_t version = int64_t(W._version());
  auto it = g_packed.find(key);
  if (it != g_packed.end()) {
    const Packed& old = *it->second;
    if (!old.owner.expired() && old.version == version && old.data == W.data_ptr() && old.N == W.size(0) &&
        old.K == W.size(1))
      return old.mem ? it->second : nullptr;
    g_packed_bytes -= bytes_of(old);
    g_packed.erase(it);
  }
  auto p = std::make_shared<Packed>(W);
  p->version = version, p->data = W.data_ptr(), p->N = W.size(0), p->K = W.size(1);
  // The layout oneDNN picks for decode-sized products (64 rows); every other row count then runs on
  // the same packed copy.
  const auto plain = desc_of(p->K, p->N, true);
  const memory::desc any({p->K, p->N}, F32, Tag::any);
  matmul::primitive_desc pd(matmul::desc(desc_of(64, p->K, false), any, desc_of(64, p->N, false)), engine());
  p->desc = pd.weights_desc();
  const int64_t need = int64_t(p->desc.get_size());
  if (!(p->desc == plain)) {
    if (g_packed_bytes + need > g_budget) drop_expired();
    if (g_packed_bytes + need <= g_budget) {
      p->mem = std::make_shared<memory>(p->desc, engine());
      memory src(plain, engine(), W.data_ptr());
      dnnl::stream s(engine());
      dnnl::reorder(src, *p->mem).execute(s, src, *p->mem);
      s.wait();
      g_packed_bytes += need;
    }
  }
  g_packed.emplace(key, p);
  return p->mem ? p : nullptr;
}

bool mm_packed(Packed& p, const torch::Tensor& x2, torch::Tensor& y) {
  const int64_t M = x2.size(0);
  std::shared_ptr<matmul> mm;
  {
    std::lock_guard<std::mutex> lock(g_packed_mu);
    auto it = p.by_rows.find(M);
    if (it == p.by_rows.end()) {
      if (p.by_rows.size() >= 512) p.by_rows.clear();  // prefill shapes vary
      std::shared_ptr<matmul> made;  // stays null (and is remembered) when no kernel takes M rows
      try {
        made = std::make_shared<matmul>(
            matmul::primitive_desc(matmul::desc(desc_of(M, p.K, false), p.desc, desc_of(M, p.N, false)), engine()));
      } catch (const dnnl::error&) {
      }
      it = p.by_rows.emplace(M, std::move(made)).first;
    }
    mm = it->second;
  }
  if (!mm) return false;
  y = torch::empty({M, p.N}, x2.options());
  thread_local dnnl::stream s(engine());
  memory am(desc_of(M, p.K, false), engine(), x2.data_ptr()), cm(desc_of(M, p.N, false), engine(), y.data_ptr());
  mm->execute(s, {{DNNL_ARG_SRC, am}, {DNNL_ARG_WEIGHTS, *p.mem}, {DNNL_ARG_DST, cm}});
  s.wait();
  return true;
}

}  // namespace onednn

int64_t packed_weight_bytes() {
  std::lock_guard<std::mutex> lock(onednn::g_packed_mu);
  return onednn::g_packed_bytes;
}

#else

int64_t packed_weight_bytes() { return 0; }

#endif

}  // namespace sdz::model
