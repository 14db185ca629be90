// defines: moving parameter and gradient tensors between ranks as flat buckets:
// broadcast (weight sync: learner root -> rollout / teacher ranks), allreduce (learner gradients),
// reduce-scatter / all-gather of a flat vector (ZeRO-1), and a cross-rank identity check.
// Tensors are contiguous, all on the CPU (MPI) or all on the GPU (NCCL on NCCL builds, else staged
// through host memory and MPI): GPU builds swap the transport, not this interface.
#pragma once
#include <mpi.h>
#include <torch/torch.h>

#include <cstdint>
#include <vector>

namespace sdz {

// Root's values arrive in every rank's tensors (same shapes and dtypes everywhere). Returns bytes moved.
size_t broadcast_tensors(MPI_Comm comm, int root, const std::vector<torch::Tensor>& tensors, size_t bucket_bytes);
// In-place sum (or mean) over ranks; reductions run in fp32 or fp64 whatever the tensors' dtype.
void allreduce_tensors(MPI_Comm comm, const std::vector<torch::Tensor>& tensors, size_t bucket_bytes, bool average);
// ZeRO-1 pieces on a flat fp32 vector whose length divides by the comm size:
// reduce_scatter returns this rank's summed shard; allgather rebuilds the full vector from shards.
torch::Tensor reduce_scatter_flat(MPI_Comm comm, const torch::Tensor& flat);
torch::Tensor allgather_flat(MPI_Comm comm, const torch::Tensor& shard);
// ZeRO-1 with whole tensors: tensor k belongs to rank owner[k]; owners are contiguous runs in
// order with about equal element counts (a rank may own none). Whole tensors keep per-tensor
// optimizers and norms unchanged, which is what makes the sharded step equal the unsharded one.
std::vector<int> partition_owners(const std::vector<torch::Tensor>& tensors, int ranks);
// Sums every tensor over ranks (fp32, as allreduce_tensors does) but delivers each sum only to the
// tensor's owner; the other ranks' copies are left as they were. One MPI_Reduce_scatter.
void reduce_scatter_tensors(MPI_Comm comm, const std::vector<torch::Tensor>& tensors, const std::vector<int>& owner);
// Every rank receives each tensor's bytes from its owner. One MPI_Allgatherv.
void allgather_tensors(MPI_Comm comm, const std::vector<torch::Tensor>& tensors, const std::vector<int>& owner);
// A 64-bit hash of the tensors' bytes (order matters).
uint64_t tensors_checksum(const std::vector<torch::Tensor>& tensors);
// True on every rank when every rank holds bit-identical tensors.
bool tensors_identical(MPI_Comm comm, const std::vector<torch::Tensor>& tensors);

}  // namespace sdz
