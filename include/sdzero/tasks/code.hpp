// defines: the code verifier. The last fenced code block of a response (language from the fence,
// else the target, else the default) is compiled (C++, g++ under a time limit) or run (Python) in a
// Sandbox; every test feeds stdin and compares stdout with the expected output after trimming
// trailing whitespace per line; all tests must pass for reward 1. Tests run in parallel.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "sdzero/tasks/sandbox.hpp"
#include "sdzero/tasks/verdict.hpp"

namespace sdz::tasks {

struct CodeOptions {
  SandboxOptions sandbox;
  SandboxLimits run;                       // per test
  SandboxLimits compile = compile_limits(); // g++
  int workers = 4;                         // tests of one program in parallel
  std::string python = "python3";
  std::string cxx = "g++";
  std::vector<std::string> cxx_flags = {"-O2", "-std=c++17", "-pipe"};
  std::string default_language = "python";
  static SandboxLimits compile_limits();
};

struct CodeBlock {
  std::string language;  // "python" | "cpp" | "" (no or unknown tag)
  std::string code;
};
// The last complete ``` fenced block; nullopt when there is none.
std::optional<CodeBlock> last_code_block(const std::string& response);
// Equal after trimming trailing whitespace on every line and trailing empty lines.
bool outputs_match(const std::string& got, const std::string& expected);
// "python", "py", "python3" -> "python"; "cpp", "c++", "cc", "cxx" -> "cpp"; else "".
std::string canonical_language(const std::string& tag);

Verdict verify_code(const std::string& response, const Target& target, const CodeOptions& opt = {});

}  // namespace sdz::tasks
