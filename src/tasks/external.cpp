// reward.command: a long-lived child on a socketpair (send() with MSG_NOSIGNAL, so a dead child is an
// error here, never a SIGPIPE that kills the trainer); its stderr goes to a temporary file that error
// messages quote.
#include "sdzero/tasks/external.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>

#include "sdzero/core/error.hpp"
#include "sdzero/core/strings.hpp"

namespace sdz::tasks {

ExternalVerifier::ExternalVerifier(std::string command, double timeout_s)
    : command_(std::move(command)), timeout_s_(timeout_s) {
  if (trim(command_).empty()) throw Error("empty command", "reward.command", "set it to a program, or leave it unset");
}

ExternalVerifier::~ExternalVerifier() { stop(); }

std::string ExternalVerifier::stderr_tail() const {
  if (err_path_.empty()) return "";
  std::ifstream f(err_path_, std::ios::binary);
  std::string s((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  s = trim(s);
  if (s.size() > 400) s = "..." + s.substr(s.size() - 400);
  return s.empty() ? "" : "; its stderr ends: " + s;
}

void ExternalVerifier::die(const std::string& what) {
  std::string tail = stderr_tail();
  stop();
  throw Error(what + tail, "reward.command", "the program must answer one JSON line {\"reward\": x} per input line");
}

void ExternalVerifier::start() {
  char templ[] = "/tmp/sdz-reward-stderr-XXXXXX";
  int efd = mkstemp(templ);
  if (efd < 0) throw Error(std::string("cannot create a stderr file: ") + strerror(errno), "reward.command");
  err_path_ = templ;
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
    close(efd);
    throw Error(std::string("socketpair failed: ") + strerror(errno), "reward.command");
  }
  const char* argv[] = {"/bin/sh", "-c", command_.c_str(), nullptr};
  pid_t pid = fork();
  if (pid == 0) {
    dup2(sv[1], 0);
    dup2(sv[1], 1);
    dup2(efd, 2);
    execv("/bin/sh", const_cast<char* const*>(argv));
    _exit(127);
  }
  close(sv[1]);
  close(efd);
  if (pid < 0) {
    close(sv[0]);
    throw Error(std::string("fork failed: ") + strerror(errno), "reward.command");
  }
  pid_ = pid, fd_ = sv[0];
  buffer_.clear();
  ++starts_;
}

void ExternalVerifier::stop() {
  if (fd_ >= 0) close(fd_);  // EOF on its stdin: a well-behaved program exits
  fd_ = -1;
  if (pid_ > 0) {
    int st;
    bool gone = false;
    for (int k = 0; k < 50 && !gone; ++k) {  // up to 0.5 s to exit on its own
      gone = waitpid(pid_, &st, WNOHANG) == pid_;
      if (!gone) poll(nullptr, 0, 10);
    }
    if (!gone) {
      kill(pid_, SIGKILL);
      waitpid(pid_, &st, 0);
    }
  }
  pid_ = -1;
  if (!err_path_.empty()) unlink(err_path_.c_str());
  err_path_.clear();
}

Verdict ExternalVerifier::verify(const std::string& kind, const std::string& response, const Target& target) {
  std::lock_guard<std::mutex> lock(mu_);
  if (pid_ < 0) start();
  nlohmann::json q = {{"kind", kind}, {"response", response}, {"answer", target.answer}};
  if (!target.tests.empty()) {
    q["tests"] = nlohmann::json::array();
    for (const auto& t : target.tests) q["tests"].push_back({{"input", t.input}, {"output", t.output}});
  }
  std::string line = q.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  // A program that exits at once races our write: report its exit status when it has one.
  auto how_it_ended = [&]() -> std::string {
    int st = 0;
    bool reaped = false;  // give an exiting program up to 0.5 s, to report its status
    for (int k = 0; k < 50 && !reaped; ++k)
      if (!(reaped = waitpid(pid_, &st, WNOHANG) == pid_)) poll(nullptr, 0, 10);
    if (!reaped) return "";
    pid_ = -1;
    return WIFEXITED(st) ? strprintf("exited with status %d", WEXITSTATUS(st))
                         : strprintf("was killed by signal %d", WTERMSIG(st));
  };
  for (size_t off = 0; off < line.size();) {
    ssize_t n = send(fd_, line.data() + off, line.size() - off, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      std::string why = strerror(errno), how = how_it_ended();
      if (!how.empty()) die("'" + command_ + "' " + how + " before answering");
      die("'" + command_ + "' stopped reading its input (" + why + ")");
    }
    off += size_t(n);
  }
  auto deadline = std::chrono::steady_clock::now() + std::chrono::microseconds(long(timeout_s_ * 1e6));
  size_t nl;
  char buf[4096];
  while ((nl = buffer_.find('\n')) == std::string::npos) {
    long ms = long(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count());
    if (ms <= 0) die(strprintf("'%s' gave no answer within %.1f s", command_.c_str(), timeout_s_));
    pollfd p{fd_, POLLIN, 0};
    int rc = poll(&p, 1, int(std::min(ms, 1L << 30)));
    if (rc < 0 && errno == EINTR) continue;
    if (rc == 0) continue;
    ssize_t n = read(fd_, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      std::string how = how_it_ended();
      die("'" + command_ + "' " + (how.empty() ? "closed its output" : how) + " before answering");
    }
    buffer_.append(buf, size_t(n));
    if (buffer_.size() > (16 << 20)) die("'" + command_ + "' wrote more than 16 MiB without a newline");
  }
  std::string reply = buffer_.substr(0, nl);
  buffer_.erase(0, nl + 1);
  nlohmann::json r = nlohmann::json::parse(reply, nullptr, false);
  std::string shown = reply.size() > 200 ? reply.substr(0, 200) + "..." : reply;
  if (r.is_discarded() || !r.is_object()) die("'" + command_ + "' answered a line that is not a JSON object: " + shown);
  if (!r.contains("reward") || !r["reward"].is_number())
    die("'" + command_ + "' answered without a numeric \"reward\": " + shown);
  Verdict v;
  v.reward = r["reward"].get<double>();
  v.reason = r.contains("reason") && r["reason"].is_string() ? r["reason"].get<std::string>() : "reward.command";
  return v;
}

}  // namespace sdz::tasks
