// Sandbox and code verifier: every case the issue lists, each asserting that the program was stopped
// (its whole process group is gone) and that the verifier still answered.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <filesystem>

#include "sdzero/tasks/code.hpp"
#include "sdzero/tasks/sandbox.hpp"

using namespace sdz::tasks;

namespace {

SandboxLimits quick(double wall = 2.0) {
  SandboxLimits l;
  l.wall_seconds = wall;
  l.cpu_seconds = wall;
  l.memory_bytes = size_t(512) << 20;
  l.processes = 32;
  return l;
}

void expect_group_gone(const RunResult& r) {
  ASSERT_GT(r.pid, 0);
  errno = 0;
  EXPECT_EQ(kill(-r.pid, 0), -1) << "process group " << r.pid << " still has members";
  EXPECT_EQ(errno, ESRCH);
}

std::string py(const std::string& code) { return "```python\n" + code + "\n```"; }
std::string cpp(const std::string& code) { return "```cpp\n" + code + "\n```"; }

Target tests(std::vector<TestCase> t, const std::string& lang = "") {
  Target x;
  x.tests = std::move(t);
  x.language = lang;
  return x;
}

}  // namespace

TEST(Sandbox, RunsAProgramWithStdinInItsOwnDirectory) {
  Sandbox box;
  box.write_file("main.py", "import os,sys\nprint(sys.stdin.read().upper(), end='')\nprint(os.getcwd())\n");
  RunResult r = box.run({"python3", "main.py"}, "hello\n", quick());
  ASSERT_EQ(r.status, RunResult::Status::Ok) << r.describe() << r.err;
  EXPECT_EQ(r.out, "HELLO\n" + box.dir() + "\n");
  expect_group_gone(r);
  std::string dir = box.dir();
  { Sandbox other; EXPECT_NE(other.dir(), dir); }
}

TEST(Sandbox, ReportsWhatThisMachinePermits) {
  const SandboxSupport& s = sandbox_support();
  EXPECT_FALSE(s.summary().empty());
  if (geteuid() == 0) {
    // This project's machines run as root with namespaces available: the whole isolation is on.
    EXPECT_TRUE(s.netns) << s.summary();
    EXPECT_TRUE(s.mountns) << s.summary();
    EXPECT_TRUE(s.drop_uid) << s.summary();
  }
  SandboxOptions require;
  require.network = NetworkPolicy::Require;
  Sandbox box(require);
  RunResult r = box.run({"true"}, "", quick());
  EXPECT_EQ(r.status == RunResult::Status::Ok, s.network(true)) << r.describe();
}

TEST(Sandbox, InfiniteLoopIsStoppedByTheWallClock) {
  Sandbox box;
  box.write_file("main.py", "while True:\n    pass\n");
  SandboxLimits l = quick(1.0);
  l.cpu_seconds = 30;  // the wall clock, not the CPU limit, must stop it
  RunResult r = box.run({"python3", "main.py"}, "", l);
  EXPECT_EQ(r.status, RunResult::Status::Timeout) << r.describe();
  EXPECT_LT(r.wall_seconds, 5.0);
  expect_group_gone(r);
  Verdict v = verify_code(py("while True:\n    pass"), tests({{"", "1"}}),
                          [] { CodeOptions o; o.run = quick(1.0); return o; }());
  EXPECT_EQ(v.reward, 0.0);
  EXPECT_NE(v.reason.find("limit"), std::string::npos) << v.reason;
}

TEST(Sandbox, CpuLimitStopsABusyProgram) {
  Sandbox box;
  box.write_file("main.py", "while True:\n    pass\n");
  SandboxLimits l = quick(20.0);
  l.cpu_seconds = 1;
  RunResult r = box.run({"python3", "main.py"}, "", l);
  EXPECT_EQ(r.status, RunResult::Status::CpuLimit) << r.describe();
  expect_group_gone(r);
}

TEST(Sandbox, MemoryHogHitsTheAddressSpaceLimit) {
  Sandbox box;
  box.write_file("main.py", "a = []\nwhile True:\n    a.append(bytearray(10**7))\n");
  SandboxLimits l = quick(10.0);
  l.memory_bytes = size_t(256) << 20;
  RunResult r = box.run({"python3", "main.py"}, "", l);
  EXPECT_EQ(r.status, RunResult::Status::RuntimeError) << r.describe();
  EXPECT_NE(r.err.find("MemoryError"), std::string::npos) << r.err;
  expect_group_gone(r);
}

TEST(Sandbox, ForkBombIsContainedAndKilled) {
  Sandbox box;
  box.write_file("main.py",
                 "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass\n");
  SandboxLimits l = quick(1.5);
  l.processes = 16;
  RunResult r = box.run({"python3", "main.py"}, "", l);
  EXPECT_NE(r.status, RunResult::Status::Ok) << r.describe();
  expect_group_gone(r);
}

TEST(Sandbox, OutputFloodIsCapped) {
  Sandbox box;
  box.write_file("main.py", "import sys\nsys.stdout.write('x' * (100 * 1024 * 1024))\n");
  SandboxLimits l = quick(10.0);
  l.output_bytes = 1 << 20;
  RunResult r = box.run({"python3", "main.py"}, "", l);
  EXPECT_EQ(r.status, RunResult::Status::OutputLimit) << r.describe();
  EXPECT_EQ(r.out.size(), size_t(1) << 20);
  expect_group_gone(r);
  Verdict v = verify_code(py("import sys\nsys.stdout.write('x' * (100 * 1024 * 1024))"), tests({{"", "x"}}));
  EXPECT_EQ(v.reason, "test 1/1: output limit");
}

TEST(Sandbox, NetworkConnectionIsRefusedInsideTheNamespace) {
  // A server the test itself opens on loopback: reachable from here, not from a new network namespace.
  int srv = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(srv, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(srv, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(listen(srv, 4), 0);
  socklen_t len = sizeof addr;
  getsockname(srv, reinterpret_cast<sockaddr*>(&addr), &len);
  int port = ntohs(addr.sin_port);
  std::string prog = "import socket\ns = socket.socket()\ns.settimeout(1)\ntry:\n    s.connect(('127.0.0.1', " +
                     std::to_string(port) + "))\n    print('connected')\nexcept OSError as e:\n    print('blocked')\n";
  Sandbox box;
  box.write_file("main.py", prog);
  RunResult r = box.run({"python3", "main.py"}, "", quick(5.0));
  ASSERT_EQ(r.status, RunResult::Status::Ok) << r.describe() << r.err;
  EXPECT_EQ(r.out, sandbox_support().network(true) ? "blocked\n" : "connected\n");
  EXPECT_EQ(r.net_isolated, sandbox_support().network(true));
  SandboxOptions allow;
  allow.network = NetworkPolicy::Allow;
  Sandbox open_box(allow);
  open_box.write_file("main.py", prog);
  EXPECT_EQ(open_box.run({"python3", "main.py"}, "", quick(5.0)).out, "connected\n") << "control: the server works";
  close(srv);
}

TEST(Sandbox, WritesOutsideItsDirectoryFail) {
  std::string outside = (std::filesystem::temp_directory_path() / ("sdz-outside-" + std::to_string(getpid()))).string();
  std::filesystem::create_directories(outside);
  chmod(outside.c_str(), 0777);  // even a world-writable directory must stay untouched
  Sandbox box;
  box.write_file("main.py", "import sys\nfor p in sys.argv[1:]:\n    try:\n        open(p, 'w').write('x')\n"
                            "        print('wrote', p)\n    except OSError as e:\n        print('denied')\n"
                            "open('inside.txt', 'w').write('ok')\nprint('inside ok')\n");
  RunResult r = box.run({"python3", "main.py", outside + "/escape.txt", "/tmp/sdz-escape.txt"}, "", quick(5.0));
  ASSERT_EQ(r.status, RunResult::Status::Ok) << r.describe() << r.err;
  EXPECT_EQ(r.out, "denied\ndenied\ninside ok\n");
  EXPECT_FALSE(std::filesystem::exists(outside + "/escape.txt"));
  EXPECT_FALSE(std::filesystem::exists("/tmp/sdz-escape.txt"));
  std::filesystem::remove_all(outside);
}

TEST(Sandbox, ProgramThatExitsWhileAChildHoldsItsOutputReturnsAtOnce) {
  Sandbox box;
  box.write_file("main.py", "import os, time\nif os.fork() == 0:\n    time.sleep(60)\nprint('parent done')\n");
  RunResult r = box.run({"python3", "main.py"}, "", quick(30.0));
  EXPECT_EQ(r.status, RunResult::Status::Ok) << r.describe();
  EXPECT_EQ(r.out, "parent done\n");
  EXPECT_LT(r.wall_seconds, 10.0);
  expect_group_gone(r);  // the sleeping child was killed with the group
}

TEST(Sandbox, MissingExecutableIsASetupFailureNotACrash) {
  Sandbox box;
  RunResult r = box.run({"no-such-program-sdz"}, "", quick());
  EXPECT_EQ(r.status, RunResult::Status::SetupFailed);
  EXPECT_NE(r.describe().find("not found"), std::string::npos);
}

TEST(CodeVerifier, FindsTheLastFencedBlockAndItsLanguage) {
  auto b = last_code_block("text\n```python\nprint(1)\n```\nmore\n```cpp\nint main(){}\n```\nend");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->language, "cpp");
  EXPECT_EQ(b->code, "int main(){}\n");
  EXPECT_EQ(last_code_block("```\nx\n```")->language, "");
  EXPECT_EQ(last_code_block("```py\nx\n```")->language, "python");
  EXPECT_FALSE(last_code_block("```python\nunterminated"));
  EXPECT_FALSE(last_code_block("no code"));
}

TEST(CodeVerifier, OutputComparisonTrimsTrailingWhitespacePerLine) {
  EXPECT_TRUE(outputs_match("1 2  \n3\t\n\n\n", "1 2\n3"));
  EXPECT_FALSE(outputs_match(" 1\n", "1\n"));
  EXPECT_FALSE(outputs_match("1\n2\n", "1\n"));
  EXPECT_TRUE(outputs_match("a\r\nb\r\n", "a\nb\n"));
}

TEST(CodeVerifier, PythonAndCppProgramsPassAllTests) {
  Target t = tests({{"1 2\n", "3\n"}, {"10 20\n", "30"}, {"-5 5\n", "0  \n"}, {"7 8\n", "15\n"}});
  CodeOptions o;
  o.workers = 3;
  EXPECT_EQ(verify_code(py("a, b = map(int, input().split())\nprint(a + b)"), t, o).reason, "ok: 4/4 tests");
  EXPECT_EQ(verify_code(cpp("#include <iostream>\nint main(){long a,b;std::cin>>a>>b;std::cout<<a+b<<\"\\n\";}"), t, o)
                .reason,
            "ok: 4/4 tests");
  // No fence language: the target's language decides.
  EXPECT_EQ(verify_code("```\na, b = map(int, input().split())\nprint(a + b)\n```", tests(t.tests, "python"), o).reward,
            1.0);
  Verdict wrong = verify_code(py("a, b = map(int, input().split())\nprint(a - b)"), t, o);
  EXPECT_EQ(wrong.reward, 0.0);
  EXPECT_NE(wrong.reason.find("wrong answer"), std::string::npos) << wrong.reason;
  Verdict crash = verify_code(py("raise SystemExit(3)"), t, o);
  EXPECT_NE(crash.reason.find("runtime error (exit 3)"), std::string::npos) << crash.reason;
  EXPECT_EQ(verify_code("no code", t, o).reason, "no fenced code block");
  EXPECT_EQ(verify_code(py("print(1)"), tests({}), o).reason, "the question has no tests");
}

TEST(CodeVerifier, CompileErrorIsAReasonNotAFailure) {
  Verdict v = verify_code(cpp("int main( {"), tests({{"", ""}}));
  EXPECT_EQ(v.reward, 0.0);
  EXPECT_EQ(v.reason.rfind("compile error", 0), 0u) << v.reason;
}

TEST(CodeVerifier, CompileThatNeverEndsIsKilled) {
  // 10^10 constexpr steps: g++ would grind for many minutes before giving up.
  const std::string slow =
      "constexpr unsigned long long f() { unsigned long long s = 0;\n"
      "  for (unsigned long long i = 0; i < 100000; ++i) for (unsigned long long j = 0; j < 100000; ++j) s += i ^ j;\n"
      "  return s; }\nconstexpr unsigned long long x = f();\nint main() { return int(x & 1); }";
  CodeOptions o;
  o.compile.wall_seconds = 2;
  auto t0 = std::chrono::steady_clock::now();
  Verdict v = verify_code(cpp(slow), tests({{"", ""}}), o);
  double sec = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_EQ(v.reason, "compile time limit (2 s)");
  EXPECT_LT(sec, 10.0);
}

TEST(CodeVerifier, ManyTestsRunInParallelWorkers) {
  std::vector<TestCase> many;
  for (int i = 0; i < 24; ++i) many.push_back({std::to_string(i) + "\n", std::to_string(i * i) + "\n"});
  CodeOptions o;
  o.workers = 4;
  EXPECT_EQ(verify_code(py("n = int(input())\nprint(n * n)"), tests(many), o).reason, "ok: 24/24 tests");
  many[17].output = "wrong\n";
  EXPECT_EQ(verify_code(py("n = int(input())\nprint(n * n)"), tests(many), o).reward, 0.0);
}

TEST(Sandbox, DirectoryIsReachableBySandboxUserEvenFromAPrivateTmpRoot) {
  // A tmp root only root can traverse: the sandbox falls back to /tmp when it runs programs as nobody.
  std::string priv = (std::filesystem::temp_directory_path() / ("sdz-private-" + std::to_string(getpid()))).string();
  std::filesystem::create_directories(priv);
  chmod(priv.c_str(), 0700);
  SandboxOptions o;
  o.tmp_root = priv;
  Sandbox box(o);
  box.write_file("main.py", "print('ran')\n");
  RunResult r = box.run({"python3", "main.py"}, "", quick());
  EXPECT_EQ(r.status, RunResult::Status::Ok) << r.describe() << r.err;
  EXPECT_EQ(r.out, "ran\n");
  std::filesystem::remove_all(priv);
}
