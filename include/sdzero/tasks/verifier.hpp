// defines: Verifier, the one entry point the rest of the program calls: (task kind, response,
// target) -> Verdict {reward, short reason}. Kinds: "math", "code", or a built-in task name (div cd
// mul arith countdown). With reward.command set, every kind goes to that external program instead.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "sdzero/tasks/code.hpp"
#include "sdzero/tasks/math.hpp"
#include "sdzero/tasks/verdict.hpp"

namespace sdz {
class Config;
}

namespace sdz::tasks {

class ExternalVerifier;

struct VerifierOptions {
  MathOptions math;
  CodeOptions code;
  std::string command;            // reward.command ("" = the built-in verifiers)
  double command_timeout_s = 30;  // per answer of reward.command
  int workers = 4;                // verify_batch parallelism (and tests of one program)
};
VerifierOptions verifier_options_from(const Config& cfg);  // the [reward] keys

struct VerifyItem {
  std::string kind, response;
  Target target;
};

class Verifier {
 public:
  explicit Verifier(VerifierOptions opt = {});
  ~Verifier();
  Verifier(const Verifier&) = delete;
  Verifier& operator=(const Verifier&) = delete;

  // Never throws for bad responses (they get reward 0 and a reason); throws sdz::Error for broken
  // infrastructure (reward.command failures, no temporary directory).
  Verdict verify(const std::string& kind, const std::string& response, const Target& target) const;
  // The same, for many items, up to `workers` at a time; results in input order.
  std::vector<Verdict> verify_batch(const std::vector<VerifyItem>& items) const;
  const VerifierOptions& options() const { return opt_; }

 private:
  Verdict verify_with(const CodeOptions& code, const std::string& kind, const std::string& response,
                      const Target& target) const;
  VerifierOptions opt_;
  std::unique_ptr<ExternalVerifier> external_;
};

}  // namespace sdz::tasks
