// The code verifier: find the program, build it once, run the tests in parallel in one Sandbox.
#include "sdzero/tasks/code.hpp"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <mutex>
#include <thread>

#include "sdzero/core/log.hpp"
#include "sdzero/core/strings.hpp"

namespace sdz::tasks {

SandboxLimits CodeOptions::compile_limits() {
  SandboxLimits l;
  l.wall_seconds = 30;
  l.cpu_seconds = 30;
  l.memory_bytes = size_t(2) << 30;
  l.file_bytes = size_t(256) << 20;
  l.processes = 64;
  l.open_files = 256;
  l.output_bytes = 64 << 10;
  return l;
}

std::string canonical_language(const std::string& tag) {
  std::string t = trim(tag);
  std::transform(t.begin(), t.end(), t.begin(), [](unsigned char c) { return char(std::tolower(c)); });
  if (t == "python" || t == "py" || t == "python3") return "python";
  if (t == "cpp" || t == "c++" || t == "cc" || t == "cxx" || t == "c++17") return "cpp";
  return "";
}

std::optional<CodeBlock> last_code_block(const std::string& r) {
  // Walk the fences in order, pairing openers with closers; the last complete pair wins.
  std::optional<CodeBlock> last;
  size_t p = 0;
  while (true) {
    size_t open = r.find("```", p);
    if (open == std::string::npos) break;
    size_t eol = r.find('\n', open + 3);
    if (eol == std::string::npos) break;
    size_t close = r.find("```", eol + 1);
    while (close != std::string::npos && close > 0 && r[close - 1] != '\n') close = r.find("```", close + 3);
    if (close == std::string::npos) break;
    CodeBlock b;
    b.language = canonical_language(r.substr(open + 3, eol - open - 3));
    b.code = r.substr(eol + 1, close - eol - 1);
    last = b;
    p = close + 3;
  }
  return last;
}

static std::vector<std::string> clean_lines(const std::string& s) {
  std::vector<std::string> lines = split(s, '\n');
  for (auto& l : lines) {
    while (!l.empty() && std::isspace((unsigned char)l.back())) l.pop_back();
  }
  while (!lines.empty() && lines.back().empty()) lines.pop_back();
  return lines;
}

bool outputs_match(const std::string& got, const std::string& expected) {
  return clean_lines(got) == clean_lines(expected);
}

Verdict verify_code(const std::string& response, const Target& target, const CodeOptions& opt) {
  auto block = last_code_block(response);
  if (!block) return fail("no fenced code block");
  std::string lang = !block->language.empty() ? block->language
                     : !target.language.empty() ? canonical_language(target.language)
                                                : canonical_language(opt.default_language);
  if (lang.empty()) return fail("unknown language (use ```python or ```cpp)");
  if (target.tests.empty()) return fail("the question has no tests");

  static std::once_flag warned;
  if (opt.sandbox.network == NetworkPolicy::Isolate && !sandbox_support().network(opt.sandbox.user_namespace))
    std::call_once(warned, [&] {
      log::warn("code sandbox: " + sandbox_support().summary(opt.sandbox.user_namespace) +
                " (set reward.sandbox_network=require to refuse running without isolation)");
    });
  Sandbox box(opt.sandbox);
  std::vector<std::string> cmd;
  if (lang == "python") {
    box.write_file("main.py", block->code);
    cmd = {opt.python, "-I", "main.py"};
  } else {
    box.write_file("main.cpp", block->code);
    std::vector<std::string> cc = {opt.cxx};
    cc.insert(cc.end(), opt.cxx_flags.begin(), opt.cxx_flags.end());
    cc.insert(cc.end(), {"-o", "main", "main.cpp"});
    RunResult c = box.run(cc, "", opt.compile);
    if (c.status == RunResult::Status::Timeout || c.status == RunResult::Status::CpuLimit)
      return fail(strprintf("compile time limit (%.0f s)", opt.compile.wall_seconds));
    if (c.status != RunResult::Status::Ok) {
      std::string first;
      for (const auto& line : split(c.err, '\n'))
        if (line.find("error") != std::string::npos) {
          first = line.size() > 160 ? line.substr(0, 157) + "..." : line;
          break;
        }
      return fail("compile error" + (first.empty() ? ": " + c.describe() : ": " + first));
    }
    cmd = {box.dir() + "/main"};
  }

  const size_t n = target.tests.size();
  std::vector<std::string> why(n);
  std::atomic<bool> failed{false};
  std::atomic<size_t> next{0};
  auto worker = [&] {
    for (size_t i; (i = next.fetch_add(1)) < n;) {
      if (failed.load()) return;  // one failure decides: skip the rest
      RunResult r = box.run(cmd, target.tests[i].input, opt.run);
      if (r.status != RunResult::Status::Ok) why[i] = r.describe();
      else if (!outputs_match(r.out, target.tests[i].output)) why[i] = "wrong answer";
      if (!why[i].empty()) failed = true;
    }
  };
  size_t threads = std::max<size_t>(1, std::min<size_t>(size_t(std::max(1, opt.workers)), n));
  std::vector<std::thread> pool;
  for (size_t t = 1; t < threads; ++t) pool.emplace_back(worker);
  worker();
  for (auto& t : pool) t.join();
  for (size_t i = 0; i < n; ++i)
    if (!why[i].empty()) return fail(strprintf("test %zu/%zu: ", i + 1, n) + why[i]);
  return pass(strprintf("ok: %zu/%zu tests", n, n));
}

}  // namespace sdz::tasks
