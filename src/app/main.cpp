// sdzero: `sdzero <command> [options]`. Dispatch only; each command is in its own cmd_*.cpp.
#include <malloc.h>

#include <c10/util/Exception.h>

#include <algorithm>
#include <iostream>
#include <memory>

#include "sdzero/app/command.hpp"
#include "sdzero/core/blas_core.hpp"
#include "sdzero/core/error.hpp"
#include "sdzero/dist/world.hpp"

namespace sdz::app {

static std::vector<Command>& registry() {
  static std::vector<Command> r;
  return r;
}

Registrar::Registrar(Command c) {
  auto& r = registry();
  r.push_back(std::move(c));
  std::sort(r.begin(), r.end(), [](const Command& a, const Command& b) { return a.name < b.name; });
}

const std::vector<Command>& commands() { return registry(); }

const Command* find_command(const std::string& name) {
  for (const auto& c : registry())
    if (c.name == name) return &c;
  return nullptr;
}

static char** g_argv = nullptr;
char** original_argv() { return g_argv; }

}  // namespace sdz::app

static bool multi_rank_job() {
  int inited = 0, finalized = 0, size = 1;
  MPI_Initialized(&inited);
  MPI_Finalized(&finalized);
  if (!inited || finalized) return false;
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  return size > 1;
}

static std::string rank_tag() {
  int inited = 0, finalized = 0, rank = 0;
  MPI_Initialized(&inited);
  MPI_Finalized(&finalized);
  if (!inited || finalized) return "";
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  return " (rank " + std::to_string(rank) + ")";
}

int main(int argc, char** argv) {
  using namespace sdz::app;
  // Before anything else: OpenBLAS may have picked SSE3 kernels on an AVX-512 CPU (blas_core.hpp).
  sdz::fix_blas_core(argv);
  g_argv = argv;
  // glibc returning freed tensor memory to the OS cost ~30% system time in training loops (DESIGN.md).
  mallopt(M_MMAP_MAX, 0);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
  mallopt(M_TOP_PAD, 256 << 20);

  std::vector<std::string> args(argv + 1, argv + argc);
  std::string name = args.empty() ? "demo" : args[0];
  if (!args.empty()) args.erase(args.begin());
  if (name == "-h" || name == "--help") name = "help";
  if (name == "--version") name = "version";
  const Command* cmd = find_command(name);
  if (!cmd) {
    std::cerr << "sdzero: unknown command '" << name << "'. Run `sdzero help` for the list.\n";
    return 2;
  }
  // `sdzero train --help` (or -h anywhere): the command's help, as `sdzero help train` prints it.
  if (name != "help" && std::any_of(args.begin(), args.end(), [](const std::string& a) { return a == "--help" || a == "-h"; })) {
    std::cout << "sdzero " << cmd->name << ": " << cmd->summary << "\n\n" << cmd->usage << "\n";
    return 0;
  }
  int rc = 0;
  try {
    return cmd->run(args);
  } catch (const sdz::Error& e) {
    std::cerr << "sdzero " << name << rank_tag() << ": error: " << e.what() << "\n";
    rc = 1;
  } catch (const c10::Error& e) {
    // torch's message without its C++ stack frames (they help torch developers, not users).
    std::cerr << "sdzero " << name << rank_tag() << ": internal error (libtorch): " << e.what_without_backtrace()
              << "\n";
    rc = 3;
  } catch (const std::bad_alloc&) {
    std::cerr << "sdzero " << name << rank_tag()
              << ": error: out of memory (a size given on the command line or read from a file is too large for this "
                 "machine)\n";
    rc = 3;
  } catch (const std::exception& e) {
    std::cerr << "sdzero " << name << rank_tag() << ": internal error: " << e.what() << "\n";
    rc = 3;
  }
  // One rank's failure must end the whole job now: the other ranks may be waiting in a collective.
  if (multi_rank_job()) sdz::World::abort(rc);
  return rc;
}
