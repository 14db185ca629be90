// defines: collectives on flat byte buffers (Alltoallv, Gatherv, Scatterv, Bcast) and scalar
// reductions. A step's data moves as one buffer per destination rank, never one message per
// sample; what the bytes mean is the caller's business (see dist/bytes.hpp).
#pragma once
#include <mpi.h>

#include <cstdint>
#include <string>
#include <vector>

namespace sdz {

using Bytes = std::vector<uint8_t>;

// send[i] goes to rank i of comm; returns what each rank sent here (index = source rank).
std::vector<Bytes> alltoallv(MPI_Comm comm, const std::vector<Bytes>& send);
// Root receives every rank's buffer (index = source rank); other ranks get an empty vector.
std::vector<Bytes> gatherv(MPI_Comm comm, int root, const Bytes& mine);
// Root receives every rank's newline-terminated lines, in rank order; other ranks get none.
std::vector<std::string> gather_lines(MPI_Comm comm, int root, const std::string& lines);
// Root gives parts[i] to rank i; every rank returns its part.
Bytes scatterv(MPI_Comm comm, int root, const std::vector<Bytes>& parts);
// Root's buffer (any size) arrives in `buf` on every rank.
void bcast(MPI_Comm comm, int root, Bytes& buf);

double allreduce_sum(MPI_Comm comm, double x);
int64_t allreduce_sum(MPI_Comm comm, int64_t x);
double allreduce_max(MPI_Comm comm, double x);
bool all_true(MPI_Comm comm, bool x);

}  // namespace sdz
