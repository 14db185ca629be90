// MPI bootstrap. Everything here runs before or around MPI_Init; no algorithm code lives here.
#include "sdzero/dist/world.hpp"

#include "sdzero/dist/nccl.hpp"

#include <sched.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <vector>

#include "sdzero/core/error.hpp"
#include "sdzero/core/log.hpp"
#include "sdzero/core/strings.hpp"

namespace sdz {

static int env_int(const char* name, int fallback) {
  const char* v = std::getenv(name);
  if (!v || !*v) return fallback;
  char* end = nullptr;
  long x = std::strtol(v, &end, 10);
  return (end && *end == '\0' && x > 0) ? int(x) : (std::string(v) == "0" ? 0 : fallback);
}

LaunchInfo launch_info_from_env() {
  LaunchInfo li;
  // OpenMPI's mpirun, then Slurm's srun, then generic PMI variables.
  li.rank = env_int("OMPI_COMM_WORLD_RANK", env_int("SLURM_PROCID", env_int("PMI_RANK", 0)));
  li.world = env_int("OMPI_COMM_WORLD_SIZE", env_int("SLURM_NTASKS", env_int("PMI_SIZE", 1)));
  li.local_rank = env_int("OMPI_COMM_WORLD_LOCAL_RANK", env_int("SLURM_LOCALID", 0));
  int slurm_local = 0;
  if (const char* t = std::getenv("SLURM_TASKS_PER_NODE")) slurm_local = std::atoi(t);  // "3(x2)" -> 3
  li.local_size = env_int("OMPI_COMM_WORLD_LOCAL_SIZE", slurm_local > 0 ? slurm_local : env_int("MPI_LOCALNRANKS", 1));
  // The CPUs this process may run on (a container's or job's cpuset), not every CPU of the host.
  long online = sysconf(_SC_NPROCESSORS_ONLN);
  cpu_set_t allowed;
  CPU_ZERO(&allowed);
  if (sched_getaffinity(0, sizeof(allowed), &allowed) == 0 && CPU_COUNT(&allowed) > 0) online = CPU_COUNT(&allowed);
  li.cores = env_int("SLURM_CPUS_ON_NODE", online > 0 ? int(online) : 1);
  return li;
}

int threads_per_rank(const LaunchInfo& li, int requested) {
  if (requested > 0) return requested;
  int t = li.cores / (li.local_size > 0 ? li.local_size : 1);
  return t > 0 ? t : 1;
}

void ensure_omp_wait_policy(char** argv, const LaunchInfo&, int threads) {
  if (threads <= 1) return;  // one thread: nothing spins
  if (std::getenv("OMP_WAIT_POLICY")) return;  // the user chose; respect it
  if (std::getenv("SDZ_REEXECED")) return;      // never loop
  setenv("OMP_WAIT_POLICY", "passive", 1);
  setenv("SDZ_REEXECED", "1", 1);
  execv("/proc/self/exe", argv);
  // exec failed: continue with the active policy, slower but correct.
  log::warn("could not re-execute with OMP_WAIT_POLICY=passive; set it in the environment");
}

bool launched_by_mpi_launcher() {
  for (const char* v : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK", "PMI_SIZE", "SLURM_PROCID", "MPI_LOCALNRANKS"})
    if (std::getenv(v)) return true;
  return false;
}

static std::string on_path(const std::string& name) {
  const char* path = std::getenv("PATH");
  for (const std::string& dir : split(path ? path : "/usr/bin:/bin", ':')) {
    const std::string p = (dir.empty() ? "." : dir) + "/" + name;
    if (::access(p.c_str(), X_OK) == 0) return p;
  }
  return "";
}

std::string relaunch_under_mpirun(char** argv, int ranks) {
  if (ranks <= 1) return "one rank asked for";
  if (launched_by_mpi_launcher()) return "already started by a launcher";
  if (std::getenv("SDZ_RELAUNCHED")) return "relaunched once already";
  std::string launcher = std::getenv("SDZ_MPIRUN") ? std::getenv("SDZ_MPIRUN") : "";
  if (launcher.empty()) launcher = on_path("mpirun");
  if (launcher.empty()) launcher = on_path("mpiexec");
  if (launcher.empty()) return "no mpirun or mpiexec on PATH (set SDZ_MPIRUN)";
  char self[4096];
  const ssize_t n = ::readlink("/proc/self/exe", self, sizeof(self) - 1);
  if (n <= 0) return "cannot read /proc/self/exe";
  self[n] = '\0';
  // --oversubscribe: mpirun counts physical cores as slots, and `ranks` counts the CPUs we may use.
  std::vector<std::string> args = {launcher, "-np", std::to_string(ranks), "--bind-to", "none", "--oversubscribe"};
  if (::geteuid() == 0) args.push_back("--allow-run-as-root");
  args.push_back(self);
  for (char** a = argv + 1; *a; ++a) args.push_back(*a);
  std::vector<char*> cargs;
  for (std::string& a : args) cargs.push_back(a.data());
  cargs.push_back(nullptr);
  setenv("SDZ_RELAUNCHED", "1", 1);
  std::fprintf(stderr, "sdzero: running again as %s -np %d\n", launcher.c_str(), ranks);
  std::fflush(nullptr);
  ::execv(launcher.c_str(), cargs.data());
  unsetenv("SDZ_RELAUNCHED");
  return "exec " + launcher + " failed";
}

World::World(int* argc, char*** argv) {
  int inited = 0;
  MPI_Initialized(&inited);
  if (!inited) {
    int provided = 0;
    MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided);
    owns_ = true;
  }
  MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
  MPI_Comm_size(MPI_COMM_WORLD, &size_);
  // Node-local numbering from MPI itself, whatever launched us.
  MPI_Comm node;
  MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, rank_, MPI_INFO_NULL, &node);
  MPI_Comm_rank(node, &local_rank_);
  MPI_Comm_size(node, &local_size_);
  MPI_Comm_free(&node);
}

World::~World() {
  if (!owns_) return;
  // Unwinding from an error: MPI_Finalize would wait for ranks that may never arrive. Leave MPI up
  // so main() can report the error with its rank and MPI_Abort the whole job.
  if (std::uncaught_exceptions() > 0 && size_ > 1) return;
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (!finalized) nccl::release_all(), MPI_Finalize();
}

void World::abort(int code) {
  int inited = 0;
  MPI_Initialized(&inited);
  if (inited) MPI_Abort(MPI_COMM_WORLD, code);
  std::_Exit(code);
}

std::string World::library_version() {
  char buf[MPI_MAX_LIBRARY_VERSION_STRING];
  int len = 0;
  MPI_Get_library_version(buf, &len);
  std::string s(buf, size_t(len));
  auto nl = s.find_first_of("\r\n,");
  return trim(nl == std::string::npos ? s : s.substr(0, nl));
}

}  // namespace sdz
