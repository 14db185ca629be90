// defines: the MPI bootstrap. LaunchInfo reads the launcher's environment (OpenMPI, Slurm, PMI)
// before MPI starts, so thread counts and the OpenMP wait policy can be fixed before any compute
// library initialises. World owns MPI_Init/MPI_Finalize and the node-local rank numbering.
#pragma once
#include <mpi.h>

#include <string>

namespace sdz {

struct LaunchInfo {
  int rank = 0, world = 1;            // from the launcher's environment (0/1 when run directly)
  int local_rank = 0, local_size = 1; // ranks on this node
  int cores = 1;                      // cores of this node available to the job
};
LaunchInfo launch_info_from_env();

// Threads per rank: `requested` if > 0, else cores per node / ranks per node (at least 1).
int threads_per_rank(const LaunchInfo& li, int requested);

// With ranks x threads > cores, spinning OpenMP threads make everything ~12x slower (DESIGN.md);
// even within the cores, torch's OpenMP pool spins on the cores OpenBLAS's own threads need (a
// profile of batch-1 decoding: 64% of samples spinning; passive halved a generate run). libgomp
// reads OMP_WAIT_POLICY only when it loads, so when it is not set this re-executes the program with
// OMP_WAIT_POLICY=passive (once; never returns then).
// Call it first thing in main(), before MPI_Init. Returns normally when no change is needed.
void ensure_omp_wait_policy(char** argv, const LaunchInfo& li, int threads);

// Whether a launcher (mpirun, srun, a PMI) started this process, whatever its world size.
bool launched_by_mpi_launcher();
// A program started directly that wants `ranks` ranks on this node (the demo: one per core) runs
// itself again as `mpirun -np ranks --bind-to none --oversubscribe <this program> argv[1..]` ($SDZ_MPIRUN, else
// mpirun/mpiexec on PATH; --allow-run-as-root as root). Never returns when it does. Returns why it did
// not otherwise: under a launcher already, relaunched once already (SDZ_RELAUNCHED), no launcher
// program, or exec failed; the caller then goes on as one process.
std::string relaunch_under_mpirun(char** argv, int ranks);

class World {
 public:
  World(int* argc, char*** argv);
  ~World();
  World(const World&) = delete;
  World& operator=(const World&) = delete;
  int rank() const { return rank_; }
  int size() const { return size_; }
  int local_rank() const { return local_rank_; }
  int local_size() const { return local_size_; }
  MPI_Comm comm() const { return MPI_COMM_WORLD; }
  // Ends every rank of the job now: one rank's error must not leave the others hanging.
  [[noreturn]] static void abort(int code);
  static std::string library_version();

 private:
  int rank_ = 0, size_ = 1, local_rank_ = 0, local_size_ = 1;
  bool owns_ = false;
};

}  // namespace sdz
