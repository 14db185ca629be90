// defines: NCCL communicators made from MPI communicators — rank 0 of the MPI group creates the
// unique id, MPI_Bcast carries it, every member calls ncclCommInitRank — and the byte / float
// collectives tensor_sync.cpp runs on GPU tensors. One communicator per MPI communicator, created on
// first use (always inside a collective every member enters) and destroyed when the MPI
// communicator is released. Operations are enqueued on the caller's current CUDA stream, the one
// torch computes on, so they are ordered after the kernels that wrote the buffers and before the
// ones that read them: no host synchronisation and no extra stream events are needed.
// Without NCCL in the build every entry point throws; nccl_built() (device.hpp) says which it is.
#pragma once
#include <mpi.h>

#include <cstddef>

namespace sdz::nccl {

enum class Type { U8, F32, F64 };

// `buf` holds `count` elements of `type` on the current GPU.
void broadcast(MPI_Comm comm, void* buf, size_t count, Type type, int root);
void allreduce_sum(MPI_Comm comm, void* buf, size_t count, Type type);
// Destroys the NCCL communicator made for `comm`, if any (call before MPI_Comm_free).
void release(MPI_Comm comm);
// Destroys them all (before MPI_Finalize).
void release_all();

}  // namespace sdz::nccl
