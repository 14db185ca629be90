#include "sdzero/dist/tensor_sync.hpp"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <functional>

#include "sdzero/core/error.hpp"
#include "sdzero/dist/device.hpp"
#include "sdzero/dist/nccl.hpp"

namespace sdz {

static void check_cpu_contiguous(const torch::Tensor& t) {
  if (!t.is_contiguous() || !t.device().is_cpu()) throw Error("tensor sync needs contiguous CPU tensors", "dist");
}

// After a memcpy into a tensor: torch's version counter did not see the write, and caches keyed by it
// (bf16 compute copies, oneDNN packed weights) would keep serving the old values.
static void written(const torch::Tensor& t) { t.unsafeGetTensorImpl()->bump_version(); }

// All tensors on one GPU (true), all on the CPU (false); a mix is a caller bug.
static bool on_gpu(const std::vector<torch::Tensor>& ts) {
  bool gpu = !ts.empty() && ts[0].is_cuda();
  for (const auto& t : ts) {
    if (t.is_cuda() != gpu) throw Error("tensor sync got CPU and GPU tensors in one call", "dist");
    if (!t.is_contiguous()) throw Error("tensor sync needs contiguous tensors", "dist");
  }
  return gpu;
}

// GPU tensors on a path without a device transport: host copies go through MPI and come back.
static void via_host(const std::vector<torch::Tensor>& ts, const std::function<void(const std::vector<torch::Tensor>&)>& f) {
  std::vector<torch::Tensor> host;
  for (const auto& t : ts) host.push_back(t.detach().cpu().contiguous());
  f(host);
  torch::NoGradGuard ng;
  for (size_t k = 0; k < ts.size(); ++k) ts[k].copy_(host[k]);
}

// Calls f(first, last) for runs of tensors whose bytes fit one bucket (a big tensor gets its own).
template <class F>
static void for_each_bucket(const std::vector<torch::Tensor>& ts, size_t bucket_bytes, F f) {
  size_t i = 0;
  while (i < ts.size()) {
    size_t j = i, bytes = 0;
    while (j < ts.size() && (j == i || bytes + ts[j].nbytes() <= bucket_bytes)) bytes += ts[j].nbytes(), ++j;
    f(i, j, bytes);
    i = j;
  }
}

// GPU: the root packs each bucket into one device buffer, one ncclBroadcast moves it, the others
// unpack; all on torch's current stream (see nccl.hpp).
static size_t broadcast_gpu(MPI_Comm comm, int root, const std::vector<torch::Tensor>& tensors, size_t bucket_bytes) {
  int me = 0;
  MPI_Comm_rank(comm, &me);
  torch::NoGradGuard ng;
  size_t moved = 0;
  for_each_bucket(tensors, bucket_bytes, [&](size_t a, size_t b, size_t bytes) {
    torch::Tensor buf;
    if (me == root) {
      std::vector<torch::Tensor> parts;
      for (size_t k = a; k < b; ++k) parts.push_back(tensors[k].detach().reshape({-1}).view(torch::kUInt8));
      buf = torch::cat(parts);
    } else {
      buf = torch::empty({int64_t(bytes)}, tensors[a].options().dtype(torch::kUInt8));
    }
    nccl::broadcast(comm, buf.data_ptr(), bytes, nccl::Type::U8, root);
    if (me != root) {
      int64_t off = 0;
      for (size_t k = a; k < b; ++k) {
        const int64_t n = int64_t(tensors[k].nbytes());
        tensors[k].view({-1}).view(torch::kUInt8).copy_(buf.narrow(0, off, n));
        off += n;
      }
    }
    moved += bytes;
  });
  return moved;
}

size_t broadcast_tensors(MPI_Comm comm, int root, const std::vector<torch::Tensor>& tensors, size_t bucket_bytes) {
  if (on_gpu(tensors)) {
    if (nccl_built()) return broadcast_gpu(comm, root, tensors, bucket_bytes);
    size_t moved = 0;
    via_host(tensors, [&](const std::vector<torch::Tensor>& h) { moved = broadcast_tensors(comm, root, h, bucket_bytes); });
    return moved;
  }
  for (const auto& t : tensors) check_cpu_contiguous(t);
  int me = 0;
  MPI_Comm_rank(comm, &me);
  std::vector<uint8_t> buf;
  size_t moved = 0;
  for_each_bucket(tensors, bucket_bytes, [&](size_t a, size_t b, size_t bytes) {
    buf.resize(bytes);
    if (me == root) {
      size_t off = 0;
      for (size_t k = a; k < b; ++k) std::memcpy(buf.data() + off, tensors[k].data_ptr(), tensors[k].nbytes()), off += tensors[k].nbytes();
    }
    const size_t chunk = size_t(1) << 30;
    for (size_t off = 0; off < bytes; off += chunk)
      MPI_Bcast(buf.data() + off, int(std::min(chunk, bytes - off)), MPI_BYTE, root, comm);
    if (me != root) {
      size_t off = 0;
      for (size_t k = a; k < b; ++k) {
        std::memcpy(tensors[k].data_ptr(), buf.data() + off, tensors[k].nbytes()), off += tensors[k].nbytes();
        written(tensors[k]);
      }
    }
    moved += bytes;
  });
  return moved;
}

void allreduce_tensors(MPI_Comm comm, const std::vector<torch::Tensor>& tensors, size_t bucket_bytes, bool average) {
  const bool gpu = on_gpu(tensors);
  if (gpu && !nccl_built())
    return via_host(tensors, [&](const std::vector<torch::Tensor>& h) { allreduce_tensors(comm, h, bucket_bytes, average); });
  int n = 1;
  MPI_Comm_size(comm, &n);
  // Reduce in fp32 (fp64 for fp64 tensors): bf16 sums lose too much and MPI has no bf16 type.
  for_each_bucket(tensors, bucket_bytes, [&](size_t a, size_t b, size_t) {
    bool f64 = tensors[a].scalar_type() == torch::kFloat64;
    std::vector<torch::Tensor> flat;
    for (size_t k = a; k < b; ++k) flat.push_back(tensors[k].reshape({-1}).to(f64 ? torch::kFloat64 : torch::kFloat32));
    torch::Tensor bucket = torch::cat(flat);
    if (gpu) {
      nccl::allreduce_sum(comm, bucket.data_ptr(), size_t(bucket.numel()), f64 ? nccl::Type::F64 : nccl::Type::F32);
    } else {
      const int64_t chunk = int64_t(1) << 28;
      for (int64_t off = 0; off < bucket.numel(); off += chunk) {
        int cnt = int(std::min(chunk, bucket.numel() - off));
        void* p = static_cast<char*>(bucket.data_ptr()) + off * int64_t(bucket.element_size());
        MPI_Allreduce(MPI_IN_PLACE, p, cnt, f64 ? MPI_DOUBLE : MPI_FLOAT, MPI_SUM, comm);
      }
    }
    torch::NoGradGuard ng;
    if (average) bucket.div_(double(n));
    int64_t off = 0;
    for (size_t k = a; k < b; ++k) {
      int64_t m = tensors[k].numel();
      tensors[k].copy_(bucket.narrow(0, off, m).view(tensors[k].sizes()));
      off += m;
    }
  });
}

torch::Tensor reduce_scatter_flat(MPI_Comm comm, const torch::Tensor& flat) {
  if (flat.is_cuda()) return reduce_scatter_flat(comm, flat.cpu()).to(flat.device());
  int n = 1;
  MPI_Comm_size(comm, &n);
  torch::Tensor f = flat.to(torch::kFloat32).contiguous();
  if (f.numel() % n != 0) throw Error("reduce_scatter_flat: length must divide by the number of ranks", "dist");
  int64_t shard = f.numel() / n;
  torch::Tensor out = torch::empty({shard}, torch::kFloat32);
  MPI_Reduce_scatter_block(f.data_ptr<float>(), out.data_ptr<float>(), int(shard), MPI_FLOAT, MPI_SUM, comm);
  return out;
}

torch::Tensor allgather_flat(MPI_Comm comm, const torch::Tensor& shard) {
  if (shard.is_cuda()) return allgather_flat(comm, shard.cpu()).to(shard.device());
  int n = 1;
  MPI_Comm_size(comm, &n);
  torch::Tensor s = shard.to(torch::kFloat32).contiguous();
  torch::Tensor out = torch::empty({s.numel() * n}, torch::kFloat32);
  MPI_Allgather(s.data_ptr<float>(), int(s.numel()), MPI_FLOAT, out.data_ptr<float>(), int(s.numel()), MPI_FLOAT, comm);
  return out;
}

uint64_t tensors_checksum(const std::vector<torch::Tensor>& tensors) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (const auto& t0 : tensors) {
    torch::Tensor t = t0.detach().cpu().contiguous();
    const auto* p = static_cast<const uint8_t*>(t.data_ptr());
    // 8 bytes at a time with a multiply-xorshift; the tail byte-wise.
    size_t n = t.nbytes(), i = 0;
    for (; i + 8 <= n; i += 8) {
      uint64_t w;
      std::memcpy(&w, p + i, 8);
      h = (h ^ w) * 0x100000001b3ULL;
      h ^= h >> 29;
    }
    for (; i < n; ++i) h = (h ^ p[i]) * 0x100000001b3ULL;
  }
  return h;
}

bool tensors_identical(MPI_Comm comm, const std::vector<torch::Tensor>& tensors) {
  uint64_t mine = tensors_checksum(tensors), lo = 0, hi = 0;
  MPI_Allreduce(&mine, &lo, 1, MPI_UINT64_T, MPI_MIN, comm);
  MPI_Allreduce(&mine, &hi, 1, MPI_UINT64_T, MPI_MAX, comm);
  return lo == hi;
}

}  // namespace sdz

namespace sdz {

std::vector<int> partition_owners(const std::vector<torch::Tensor>& tensors, int ranks) {
  if (ranks < 1) throw Error("partition_owners: needs at least one rank", "dist");
  double total = 0;
  for (const auto& t : tensors) total += double(t.numel());
  std::vector<int> owner;
  double before = 0;
  for (const auto& t : tensors) {
    // A tensor goes to the rank whose equal slice of the total holds its midpoint.
    double mid = before + double(t.numel()) / 2;
    int o = total > 0 ? int(mid * ranks / total) : 0;
    owner.push_back(std::min(std::max(o, owner.empty() ? 0 : owner.back()), ranks - 1));
    before += double(t.numel());
  }
  return owner;
}

static void check_owners(MPI_Comm comm, const std::vector<torch::Tensor>& ts, const std::vector<int>& owner) {
  int n = 1;
  MPI_Comm_size(comm, &n);
  if (owner.size() != ts.size()) throw Error("ZeRO-1: one owner per tensor needed", "dist");
  for (size_t k = 0; k < ts.size(); ++k) {
    check_cpu_contiguous(ts[k]);
    if (owner[k] < 0 || owner[k] >= n || (k > 0 && owner[k] < owner[k - 1]))
      throw Error("ZeRO-1: owners must be contiguous runs of ranks in order", "dist");
  }
}

// ZeRO-1 on GPUs stages through host memory (MPI): NCCL's reduce-scatter wants equal shards and
// ours are whole tensors of unequal size. Correct, but a copy each way per step (docs/GPU.md).
void reduce_scatter_tensors(MPI_Comm comm, const std::vector<torch::Tensor>& ts, const std::vector<int>& owner) {
  if (on_gpu(ts)) return via_host(ts, [&](const std::vector<torch::Tensor>& h) { reduce_scatter_tensors(comm, h, owner); });
  check_owners(comm, ts, owner);
  int n = 1, me = 0;
  MPI_Comm_size(comm, &n);
  MPI_Comm_rank(comm, &me);
  std::vector<int64_t> counts(size_t(n), 0);
  std::vector<torch::Tensor> flat;
  for (size_t k = 0; k < ts.size(); ++k) {
    flat.push_back(ts[k].reshape({-1}).to(torch::kFloat32));
    counts[size_t(owner[k])] += ts[k].numel();
  }
  std::vector<int> icounts;
  for (int64_t c : counts) {
    if (c > INT32_MAX) throw Error("ZeRO-1: a shard exceeds 2^31 elements", "dist", "use more learners");
    icounts.push_back(int(c));
  }
  torch::Tensor all = flat.empty() ? torch::empty({0}) : torch::cat(flat);
  torch::Tensor mine = torch::empty({counts[size_t(me)]}, torch::kFloat32);
  MPI_Reduce_scatter(all.data_ptr<float>(), mine.data_ptr<float>(), icounts.data(), MPI_FLOAT, MPI_SUM, comm);
  int64_t off = 0;
  for (size_t k = 0; k < ts.size(); ++k) {
    if (owner[k] != me) continue;
    int64_t m = ts[k].numel();
    ts[k].copy_(mine.narrow(0, off, m).view(ts[k].sizes()));
    off += m;
  }
}

void allgather_tensors(MPI_Comm comm, const std::vector<torch::Tensor>& ts, const std::vector<int>& owner) {
  if (on_gpu(ts)) return via_host(ts, [&](const std::vector<torch::Tensor>& h) { allgather_tensors(comm, h, owner); });
  check_owners(comm, ts, owner);
  int n = 1, me = 0;
  MPI_Comm_size(comm, &n);
  MPI_Comm_rank(comm, &me);
  std::vector<int64_t> bytes(size_t(n), 0);
  for (size_t k = 0; k < ts.size(); ++k) bytes[size_t(owner[k])] += int64_t(ts[k].nbytes());
  std::vector<int> counts, displs;
  int64_t total = 0;
  for (int64_t b : bytes) {
    if (total + b > INT32_MAX) throw Error("ZeRO-1: all-gather exceeds 2 GiB", "dist", "use a smaller model per job");
    counts.push_back(int(b)), displs.push_back(int(total)), total += b;
  }
  std::vector<uint8_t> buf(static_cast<size_t>(total));
  int64_t off = displs[size_t(me)];
  for (size_t k = 0; k < ts.size(); ++k)
    if (owner[k] == me) std::memcpy(buf.data() + off, ts[k].data_ptr(), ts[k].nbytes()), off += int64_t(ts[k].nbytes());
  MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, buf.data(), counts.data(), displs.data(), MPI_BYTE, comm);
  off = 0;
  for (size_t k = 0; k < ts.size(); ++k) {
    if (owner[k] != me) std::memcpy(ts[k].data_ptr(), buf.data() + off, ts[k].nbytes()), written(ts[k]);
    off += int64_t(ts[k].nbytes());
  }
}

}  // namespace sdz
