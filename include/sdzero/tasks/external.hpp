// defines: ExternalVerifier, the reward.command option: a user program, started once and kept alive
// across calls, that reads one JSON line {"kind","response","answer"[,"tests"]} per question on stdin
// and answers one line {"reward": number[, "reason": string]} on stdout. Every failure (cannot start,
// exits, stays silent past the timeout, answers something that is not such a line) is an sdz::Error
// that names reward.command and shows the end of the program's stderr; the next call restarts it.
#pragma once
#include <mutex>
#include <string>

#include "sdzero/tasks/verdict.hpp"

namespace sdz::tasks {

class ExternalVerifier {
 public:
  ExternalVerifier(std::string command, double timeout_s);
  ~ExternalVerifier();
  ExternalVerifier(const ExternalVerifier&) = delete;
  ExternalVerifier& operator=(const ExternalVerifier&) = delete;

  // Thread-safe: calls are serialised (one line out, one line back).
  Verdict verify(const std::string& kind, const std::string& response, const Target& target);
  int starts() const { return starts_; }  // how many times the program was started (tests, logs)

 private:
  void start();
  void stop();
  [[noreturn]] void die(const std::string& what);
  std::string stderr_tail() const;

  std::string command_;
  double timeout_s_;
  std::mutex mu_;
  int pid_ = -1, fd_ = -1, starts_ = 0;
  std::string err_path_, buffer_;
};

}  // namespace sdz::tasks
