// defines: Sandbox, where untrusted programs (model-written code, compilers on model-written code)
// run. Each Sandbox owns a fresh temporary directory; each run() gets its own session and process
// group, a new network namespace (where the kernel allows), a read-only view of every file system
// except its directory (mount namespace, when running as root), an unprivileged uid (nobody, when
// running as root), rlimits on CPU time, address space, file size, open files and processes, a
// wall-clock timeout that SIGKILLs the whole group, and capped output. See docs/TASKS.md.
#pragma once
#include <cstddef>
#include <string>
#include <vector>

namespace sdz::tasks {

struct SandboxLimits {
  double wall_seconds = 2.0;
  double cpu_seconds = 2.0;                 // RLIMIT_CPU (rounded up to whole seconds)
  size_t memory_bytes = size_t(1) << 30;    // RLIMIT_AS
  size_t file_bytes = size_t(16) << 20;     // RLIMIT_FSIZE
  int open_files = 64;                      // RLIMIT_NOFILE
  int processes = 64;                       // RLIMIT_NPROC (counts every process of the sandbox uid)
  size_t output_bytes = size_t(1) << 20;    // stdout cap; stderr is capped at 64 KiB
};

enum class NetworkPolicy {
  Isolate,  // new network namespace where permitted; otherwise run with a warning (logged once)
  Require,  // refuse to run (SetupFailed) where a network namespace is not permitted
  Allow     // no isolation (trusted programs only)
};

struct SandboxOptions {
  NetworkPolicy network = NetworkPolicy::Isolate;
  bool readonly_fs = true;      // read-only mounts outside the sandbox directory (needs root)
  bool drop_privileges = true;  // run as nobody when started as root (rlimits then bind)
  bool user_namespace = true;   // not root: get the network namespace through a new user namespace
  std::string tmp_root;         // where sandbox directories go; "" = $TMPDIR or /tmp
};

struct RunResult {
  enum class Status { Ok, RuntimeError, Signaled, Timeout, CpuLimit, OutputLimit, SetupFailed };
  Status status = Status::SetupFailed;
  int exit_code = -1;
  int signal = 0;
  std::string out, err;  // capped
  double wall_seconds = 0;
  bool net_isolated = false, fs_isolated = false, unprivileged = false;
  int pid = 0;  // the group leader (also the process group id); the whole group is dead on return
  std::string describe() const;  // "ok", "time limit (2.0 s wall)", "runtime error (exit 1): ...", ...
};

// What this machine permits, probed once (forks a child that tries each isolation step).
struct SandboxSupport {
  bool netns = false;         // unshare(CLONE_NEWNET) directly (root / CAP_SYS_ADMIN)
  bool userns_netns = false;  // unshare(CLONE_NEWUSER | CLONE_NEWNET) (unprivileged users, where enabled)
  bool mountns = false, drop_uid = false;
  bool network(bool use_userns) const { return netns || (use_userns && userns_netns); }
  // One line for logs and `sdzero verify --check-sandbox`.
  std::string summary(bool use_userns = true) const;
};
const SandboxSupport& sandbox_support();

class Sandbox {
 public:
  explicit Sandbox(SandboxOptions opt = {});
  ~Sandbox();  // removes the directory and everything in it
  Sandbox(const Sandbox&) = delete;
  Sandbox& operator=(const Sandbox&) = delete;

  const std::string& dir() const { return dir_; }
  void write_file(const std::string& name, const std::string& content) const;
  // argv[0] is resolved on PATH (to a path the sandbox uid can execute). Thread-safe: tests of one
  // program run in parallel in the same directory.
  RunResult run(const std::vector<std::string>& argv, const std::string& stdin_data, const SandboxLimits& lim) const;

 private:
  SandboxOptions opt_;
  std::string dir_;
};

// The absolute path of an executable on PATH that user `nobody` can run when `for_other_users`
// (pyenv shims under /root are skipped); "" when there is none.
std::string find_executable(const std::string& name, bool for_other_users);

}  // namespace sdz::tasks
