// Sandbox: fork, isolate, limit, exec; the parent reads capped output until exit, timeout or cap,
// and always SIGKILLs the whole process group before reaping. The child between fork() and execve()
// only makes system calls (the parent may be multi-threaded).
#include "sdzero/tasks/sandbox.hpp"

#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "sdzero/core/error.hpp"
#include "sdzero/core/strings.hpp"

namespace sdz::tasks {

namespace {

constexpr uid_t kNobodyUid = 65534;
constexpr gid_t kNobodyGid = 65534;
constexpr size_t kStderrCap = 64 << 10;

// Async-signal-safe error report from the child: "step: errno N".
void child_fail(int fd, const char* step, int code) {
  char buf[160];
  size_t n = 0;
  for (const char* p = step; *p && n < 120; ++p) buf[n++] = *p;
  const char* mid = ": errno ";
  for (const char* p = mid; *p; ++p) buf[n++] = *p;
  char digits[12];
  int k = 0, e = errno;
  do digits[k++] = char('0' + e % 10), e /= 10;
  while (e > 0 && k < 11);
  while (k > 0) buf[n++] = digits[--k];
  ssize_t w = write(fd, buf, n);
  (void)w;
  _exit(code);
}

bool world_reachable(const std::string& path) {
  std::string p;
  for (const auto& part : split(path, '/')) {
    if (part.empty()) continue;
    p += "/" + part;
    struct stat st;
    if (stat(p.c_str(), &st) != 0 || !(st.st_mode & S_IXOTH)) return false;
  }
  return true;
}

void set_limit(int resource, rlim_t v) {
  struct rlimit rl{v, v};
  setrlimit(resource, &rl);
}

double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

}  // namespace

std::string find_executable(const std::string& name, bool for_other_users) {
  auto ok = [&](const std::string& c) -> std::string {
    if (access(c.c_str(), X_OK) != 0) return "";
    char* real = realpath(c.c_str(), nullptr);
    if (!real) return "";
    std::string r = real;
    free(real);
    return !for_other_users || world_reachable(r) ? r : "";
  };
  if (name.find('/') != std::string::npos) return ok(name);
  const char* env = std::getenv("PATH");
  std::string path = env ? env : "";
  path += ":/usr/local/bin:/usr/bin:/bin";
  for (const auto& dir : split(path, ':')) {
    if (dir.empty()) continue;
    std::string r = ok(dir + "/" + name);
    if (!r.empty()) return r;
  }
  return "";
}

std::string SandboxSupport::summary(bool use_userns) const {
  std::string uid = drop_uid ? "nobody" : geteuid() == 0 ? "root (process-count limits do not bind root)"
                                                         : strprintf("uid %d (this user)", int(geteuid()));
  return strprintf("network namespace: %s; read-only mounts: %s; programs run as %s",
                   netns ? "yes"
                   : network(use_userns) ? "yes (through a user namespace)"
                                         : "NOT PERMITTED (programs can reach the network)",
                   mountns ? "yes" : "no (writes outside the directory are limited by file permissions only)",
                   uid.c_str());
}

const SandboxSupport& sandbox_support() {
  static const SandboxSupport s = [] {
    SandboxSupport r;
    pid_t pid = fork();
    if (pid == 0) {
      int bits = 0;
      if (unshare(CLONE_NEWNET) == 0) bits |= 1;
      else if (unshare(CLONE_NEWUSER | CLONE_NEWNET) == 0) bits |= 8;
      if (geteuid() == 0 && unshare(CLONE_NEWNS) == 0 && mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) == 0)
        bits |= 2;
      if (geteuid() == 0 && setgroups(0, nullptr) == 0 && setgid(kNobodyGid) == 0 && setuid(kNobodyUid) == 0) bits |= 4;
      _exit(bits);
    }
    int st = 0;
    if (pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st)) {
      int bits = WEXITSTATUS(st);
      r.netns = bits & 1, r.mountns = bits & 2, r.drop_uid = bits & 4, r.userns_netns = bits & 8;
    }
    return r;
  }();
  return s;
}

std::string RunResult::describe() const {
  auto last_line = [](const std::string& s) {
    std::string t = trim(s);
    size_t nl = t.rfind('\n');
    std::string l = nl == std::string::npos ? t : t.substr(nl + 1);
    return l.size() > 160 ? l.substr(0, 157) + "..." : l;
  };
  switch (status) {
    case Status::Ok: return "ok";
    case Status::RuntimeError: {
      std::string l = last_line(err);
      return strprintf("runtime error (exit %d)", exit_code) + (l.empty() ? "" : ": " + l);
    }
    case Status::Signaled: return strprintf("killed by signal %d (%s)", signal, strsignal(signal));
    case Status::Timeout: return strprintf("time limit (%.1f s wall)", wall_seconds);
    case Status::CpuLimit: return "cpu time limit";
    case Status::OutputLimit: return "output limit";
    case Status::SetupFailed: return "sandbox setup failed: " + err;
  }
  return "unknown";
}

Sandbox::Sandbox(SandboxOptions opt) : opt_(std::move(opt)) {
  std::string base = opt_.tmp_root;
  if (base.empty()) base = std::getenv("TMPDIR") ? std::getenv("TMPDIR") : "/tmp";
  bool dropping = geteuid() == 0 && opt_.drop_privileges && sandbox_support().drop_uid;
  char* real_base = realpath(base.c_str(), nullptr);
  bool reachable = real_base && world_reachable(real_base);
  free(real_base);
  if (dropping && !reachable) base = "/tmp";  // nobody must be able to reach its own directory
  std::string templ = base + "/sdz-sbx-XXXXXX";
  std::vector<char> buf(templ.begin(), templ.end());
  buf.push_back('\0');
  if (!mkdtemp(buf.data())) throw Error("cannot create a sandbox directory under " + base + ": " + strerror(errno));
  dir_ = buf.data();
  if (dropping) {
    if (chown(dir_.c_str(), kNobodyUid, kNobodyGid) != 0)
      throw Error("cannot hand " + dir_ + " to nobody: " + strerror(errno));
  }
}

Sandbox::~Sandbox() {
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

void Sandbox::write_file(const std::string& name, const std::string& content) const {
  std::string path = dir_ + "/" + name;
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw Error("cannot write " + path + ": " + strerror(errno));
  size_t off = 0;
  while (off < content.size()) {
    ssize_t w = write(fd, content.data() + off, content.size() - off);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) {
      close(fd);
      throw Error("cannot write " + path + ": " + strerror(errno));
    }
    off += size_t(w);
  }
  close(fd);
}

RunResult Sandbox::run(const std::vector<std::string>& argv, const std::string& stdin_data,
                       const SandboxLimits& lim) const {
  RunResult res;
  const SandboxSupport& sup = sandbox_support();
  bool root = geteuid() == 0;
  bool drop = root && opt_.drop_privileges && sup.drop_uid;
  bool want_net = opt_.network != NetworkPolicy::Allow && sup.netns;
  bool want_userns_net = opt_.network != NetworkPolicy::Allow && !sup.netns && opt_.user_namespace && sup.userns_netns;
  bool want_fs = root && opt_.readonly_fs && sup.mountns;
  if (opt_.network == NetworkPolicy::Require && !sup.network(opt_.user_namespace)) {
    res.err = "network namespaces are not permitted here (reward.sandbox_network=require)";
    return res;
  }
  if (argv.empty()) return res.err = "empty command", res;
  // Programs built inside the sandbox directory run as they are (the directory is not world-readable).
  std::string exe = starts_with(argv[0], dir_ + "/") ? argv[0] : find_executable(argv[0], drop);
  if (exe.empty()) return res.err = "'" + argv[0] + "' not found on PATH (or not executable by nobody)", res;

  static std::atomic<long> counter{0};
  std::string in_name = strprintf(".stdin-%ld", counter.fetch_add(1));
  write_file(in_name, stdin_data);
  std::string in_path = dir_ + "/" + in_name;
  int in_fd = open(in_path.c_str(), O_RDONLY | O_CLOEXEC);
  if (in_fd < 0) return res.err = "cannot open " + in_path, res;

  // Everything the child needs is prepared before fork(): no allocation happens in the child.
  std::vector<std::string> args = argv;
  args[0] = exe;
  std::vector<char*> cargv;
  for (auto& a : args) cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);
  std::vector<std::string> env = {"PATH=/usr/local/bin:/usr/bin:/bin", "HOME=" + dir_, "TMPDIR=" + dir_,
                                  "LANG=C.UTF-8", "PYTHONDONTWRITEBYTECODE=1", "PYTHONHASHSEED=0"};
  std::vector<char*> cenv;
  for (auto& e : env) cenv.push_back(const_cast<char*>(e.c_str()));
  cenv.push_back(nullptr);
  const char* dir = dir_.c_str();
  rlim_t cpu = rlim_t(std::max(1.0, std::ceil(lim.cpu_seconds)));

  int out[2], err[2], ctl[2];
  if (pipe2(out, O_CLOEXEC) != 0) return close(in_fd), res.err = "pipe failed", res;
  if (pipe2(err, O_CLOEXEC) != 0) return close(in_fd), close(out[0]), close(out[1]), res.err = "pipe failed", res;
  if (pipe2(ctl, O_CLOEXEC) != 0) {
    for (int fd : {in_fd, out[0], out[1], err[0], err[1]}) close(fd);
    return res.err = "pipe failed", res;
  }
  double t0 = now_s();
  pid_t pid = fork();
  if (pid == 0) {
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    signal(SIGPIPE, SIG_DFL);
    if (setsid() < 0) child_fail(ctl[1], "setsid", 126);
    if (want_net && unshare(CLONE_NEWNET) != 0) child_fail(ctl[1], "unshare(CLONE_NEWNET)", 126);
    if (want_userns_net && unshare(CLONE_NEWUSER | CLONE_NEWNET) != 0)
      child_fail(ctl[1], "unshare(CLONE_NEWUSER|CLONE_NEWNET)", 126);
    if (want_fs) {
      if (unshare(CLONE_NEWNS) != 0) child_fail(ctl[1], "unshare(CLONE_NEWNS)", 126);
      if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) child_fail(ctl[1], "mount private", 126);
      if (mount(dir, dir, nullptr, MS_BIND | MS_REC, nullptr) != 0) child_fail(ctl[1], "bind sandbox dir", 126);
      if (mount(nullptr, "/", nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY, nullptr) != 0)
        child_fail(ctl[1], "remount / read-only", 126);
      // Separate writable mounts (tmpfs) become read-only too; non-mount points just fail here.
      for (const char* m : {"/tmp", "/var/tmp", "/dev/shm", "/run", "/run/shm", "/work"})
        mount(nullptr, m, nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY, nullptr);
    }
    if (drop) {
      if (setgroups(0, nullptr) != 0 || setgid(kNobodyGid) != 0 || setuid(kNobodyUid) != 0)
        child_fail(ctl[1], "drop privileges", 126);
    }
    set_limit(RLIMIT_CORE, 0);
    struct rlimit rl{cpu, cpu + 1};
    setrlimit(RLIMIT_CPU, &rl);
    set_limit(RLIMIT_AS, rlim_t(lim.memory_bytes));
    set_limit(RLIMIT_FSIZE, rlim_t(lim.file_bytes));
    set_limit(RLIMIT_NOFILE, rlim_t(std::max(lim.open_files, 8)));
    set_limit(RLIMIT_NPROC, rlim_t(std::max(lim.processes, 1)));
    if (chdir(dir) != 0) child_fail(ctl[1], "chdir", 126);
    if (dup2(in_fd, 0) < 0 || dup2(out[1], 1) < 0 || dup2(err[1], 2) < 0) child_fail(ctl[1], "dup2", 126);
    execve(cargv[0], cargv.data(), cenv.data());
    child_fail(ctl[1], "execve", 127);
  }
  close(in_fd);
  close(out[1]);
  close(err[1]);
  close(ctl[1]);
  if (pid < 0) {
    for (int fd : {out[0], err[0], ctl[0]}) close(fd);
    res.err = std::string("fork failed: ") + strerror(errno);
    return res;
  }
  res.net_isolated = want_net || want_userns_net, res.fs_isolated = want_fs, res.unprivileged = drop;
  res.pid = pid;

  // The control pipe closes at execve (CLOEXEC) or carries the reason the setup failed.
  std::string setup;
  char buf[65536];
  for (ssize_t n; (n = read(ctl[0], buf, sizeof buf)) != 0;) {
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;
    setup.append(buf, size_t(n));
  }
  close(ctl[0]);

  enum { None, TimedOut, Flooded } why = None;
  if (setup.empty()) {
    double deadline = t0 + lim.wall_seconds;
    pollfd fds[2] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}};
    bool open_out = true, open_err = true, exited = false;
    while ((open_out || open_err) && !exited) {
      double left = deadline - now_s();
      if (left <= 0) {
        why = TimedOut;
        break;
      }
      // Short poll slices so that a program that exits while a grandchild holds the pipes is noticed.
      int ms = int(std::min(left * 1000.0, 50.0)) + 1;
      fds[0].fd = open_out ? out[0] : -1;
      fds[1].fd = open_err ? err[0] : -1;
      int rc = poll(fds, 2, ms);
      if (rc < 0 && errno != EINTR) break;
      for (int k = 0; k < 2; ++k) {
        if (fds[k].fd < 0 || !(fds[k].revents & (POLLIN | POLLHUP | POLLERR))) continue;
        ssize_t n = read(fds[k].fd, buf, sizeof buf);
        if (n <= 0) {
          (k == 0 ? open_out : open_err) = false;
          continue;
        }
        std::string& dst = k == 0 ? res.out : res.err;
        size_t cap = k == 0 ? lim.output_bytes : kStderrCap;
        if (dst.size() + size_t(n) > cap) {
          dst.append(buf, cap - dst.size());
          if (k == 0) why = Flooded;
        } else {
          dst.append(buf, size_t(n));
        }
      }
      if (why == Flooded) break;
      siginfo_t info;
      info.si_pid = 0;
      if (waitid(P_PID, id_t(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 && info.si_pid == pid) exited = true;
    }
    // Both pipes closed but the program still runs: wait for it, within the same deadline.
    while (!exited && why == None && !open_out && !open_err) {
      siginfo_t info;
      info.si_pid = 0;
      if (waitid(P_PID, id_t(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 && info.si_pid == pid) exited = true;
      else if (now_s() >= deadline) why = TimedOut;
      else poll(nullptr, 0, 10);
    }
    if (exited) {  // drain what is already buffered
      for (int k = 0; k < 2; ++k) {
        int fd = k == 0 ? out[0] : err[0];
        fcntl(fd, F_SETFL, O_NONBLOCK);
        std::string& dst = k == 0 ? res.out : res.err;
        size_t cap = k == 0 ? lim.output_bytes : kStderrCap;
        for (ssize_t n; (n = read(fd, buf, sizeof buf)) > 0;) {
          if (dst.size() + size_t(n) > cap) {
            dst.append(buf, cap - dst.size());
            if (k == 0) why = Flooded;
            break;
          }
          dst.append(buf, size_t(n));
        }
      }
    }
  }
  // The leader is not reaped yet, so its process group id still names this group: kill all of it.
  kill(-pid, SIGKILL);
  kill(pid, SIGKILL);
  int st = 0;
  while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
  }
  // Killed members are reaped by init a moment later: wait (bounded) until the group is empty, killing
  // again in case a fork raced with the first signal.
  for (double until = now_s() + 5.0; now_s() < until;) {
    if (kill(-pid, SIGKILL) != 0 && errno == ESRCH) break;
    poll(nullptr, 0, 2);
  }
  close(out[0]);
  close(err[0]);
  res.wall_seconds = now_s() - t0;
  if (!setup.empty()) {
    res.status = RunResult::Status::SetupFailed;
    res.err = setup;
  } else if (why == TimedOut) {
    res.status = RunResult::Status::Timeout;
  } else if (why == Flooded) {
    res.status = RunResult::Status::OutputLimit;
  } else if (WIFSIGNALED(st)) {
    res.signal = WTERMSIG(st);
    res.status = res.signal == SIGXCPU ? RunResult::Status::CpuLimit : RunResult::Status::Signaled;
    if (res.signal == SIGKILL && res.wall_seconds >= std::ceil(lim.cpu_seconds)) res.status = RunResult::Status::CpuLimit;
  } else if (WIFEXITED(st)) {
    res.exit_code = WEXITSTATUS(st);
    res.status = res.exit_code == 0 ? RunResult::Status::Ok : RunResult::Status::RuntimeError;
  }
  unlink(in_path.c_str());
  return res;
}

}  // namespace sdz::tasks
