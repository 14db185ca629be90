#include "sdzero/dist/nccl.hpp"

#include <map>
#include <string>

#include "sdzero/core/error.hpp"

#ifdef SDZ_WITH_NCCL
#include <c10/cuda/CUDAFunctions.h>
#include <c10/cuda/CUDAStream.h>
#include <nccl.h>
#endif

namespace sdz::nccl {

#ifdef SDZ_WITH_NCCL

namespace {

void check(ncclResult_t r, const char* what) {
  if (r != ncclSuccess)
    throw Error(std::string(what) + " failed: " + ncclGetErrorString(r), "dist/nccl",
                "NCCL_DEBUG=INFO shows why; every rank needs its own GPU (dist.device)");
}

struct Entry {
  ncclComm_t comm = nullptr;
  int device = -1;
};
std::map<MPI_Comm, Entry>& table() {
  static std::map<MPI_Comm, Entry> t;
  return t;
}

ncclComm_t comm_for(MPI_Comm mpi) {
  const int dev = c10::cuda::current_device();
  auto it = table().find(mpi);
  if (it != table().end() && it->second.device == dev) return it->second.comm;
  if (it != table().end()) release(mpi);
  int rank = 0, size = 1;
  MPI_Comm_rank(mpi, &rank);
  MPI_Comm_size(mpi, &size);
  ncclUniqueId id;
  if (rank == 0) check(ncclGetUniqueId(&id), "ncclGetUniqueId");
  MPI_Bcast(&id, int(sizeof id), MPI_BYTE, 0, mpi);
  Entry e;
  e.device = dev;
  check(ncclCommInitRank(&e.comm, size, id, rank), "ncclCommInitRank");
  table()[mpi] = e;
  return e.comm;
}

ncclDataType_t nccl_type(Type t) {
  switch (t) {
    case Type::U8: return ncclUint8;
    case Type::F32: return ncclFloat32;
    case Type::F64: return ncclFloat64;
  }
  return ncclUint8;
}

cudaStream_t stream() { return c10::cuda::getCurrentCUDAStream().stream(); }

}  // namespace

void broadcast(MPI_Comm comm, void* buf, size_t count, Type type, int root) {
  check(ncclBroadcast(buf, buf, count, nccl_type(type), root, comm_for(comm), stream()), "ncclBroadcast");
}

void allreduce_sum(MPI_Comm comm, void* buf, size_t count, Type type) {
  check(ncclAllReduce(buf, buf, count, nccl_type(type), ncclSum, comm_for(comm), stream()), "ncclAllReduce");
}

void release(MPI_Comm comm) {
  auto it = table().find(comm);
  if (it == table().end()) return;
  ncclCommDestroy(it->second.comm);
  table().erase(it);
}

void release_all() {
  for (auto& [mpi, e] : table()) ncclCommDestroy(e.comm);
  table().clear();
}

#else

[[noreturn]] static void unavailable() {
  throw Error("this sdzero was built without NCCL", "dist/nccl", "build with -DSDZ_ENABLE_NCCL=ON (docs/GPU.md)");
}
void broadcast(MPI_Comm, void*, size_t, Type, int) { unavailable(); }
void allreduce_sum(MPI_Comm, void*, size_t, Type) { unavailable(); }
void release(MPI_Comm) {}
void release_all() {}

#endif

}  // namespace sdz::nccl
