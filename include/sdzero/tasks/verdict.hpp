// defines: the vocabulary every verifier shares. A Target is what a response is checked against
// (a final answer, or program tests); a Verdict is the binary reward plus a short reason that goes
// into logs and samples.jsonl.
#pragma once
#include <string>
#include <vector>

namespace sdz::tasks {

struct TestCase {
  std::string input;   // fed to the program's stdin
  std::string output;  // expected stdout (compared after trimming trailing whitespace per line)
};

struct Target {
  std::string answer;           // math: the reference answer (a \boxed{} inside it is extracted);
                                // built-in tasks: the question text (the verifier recomputes from it)
  std::vector<TestCase> tests;  // code: all must pass
  std::string language;         // code: "python" | "cpp" | "" (take it from the response's fence)
};

struct Verdict {
  double reward = 0.0;  // 0 or 1 for every built-in verifier; reward.command may return any number
  std::string reason;   // short, one line: "ok", "no equation found", "expected 42, got 41", ...
};

inline Verdict pass(const std::string& why = "ok") { return {1.0, why}; }
inline Verdict fail(const std::string& why) { return {0.0, why}; }

}  // namespace sdz::tasks
