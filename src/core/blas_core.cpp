#include "sdzero/core/blas_core.hpp"

#include <dlfcn.h>
#include <strings.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "sdzero/core/strings.hpp"

namespace sdz {

int cpu_simd_level() {
#if defined(__x86_64__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") &&
      __builtin_cpu_supports("avx512dq"))
    return 4;
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return 3;
#endif
  return 0;
}

namespace {

// The widest instructions of OpenBLAS's x86 cores (their names as openblas_get_corename spells them).
int core_level(const std::string& name) {
  static const char* const sse[] = {"unknown", "katmai", "coppermine", "northwood", "prescott", "banias", "atom",
                                    "core2", "penryn", "dunnington", "nehalem", "athlon", "opteron",
                                    "opteron_sse3", "barcelona", "nano", "bobcat"};
  static const char* const avx[] = {"sandybridge", "bulldozer", "piledriver", "steamroller"};
  static const char* const avx2[] = {"haswell", "excavator", "zen"};
  for (const char* n : sse)
    if (strcasecmp(n, name.c_str()) == 0) return 1;
  for (const char* n : avx)
    if (strcasecmp(n, name.c_str()) == 0) return 2;
  for (const char* n : avx2)
    if (strcasecmp(n, name.c_str()) == 0) return 3;
  return 4;  // SkylakeX, Cooperlake, SapphireRapids, or a name this list does not know: leave it
}

}  // namespace

std::string blas_core_override(const std::string& corename, int cpu_level) {
  if (cpu_level < 3 || core_level(corename) >= cpu_level) return "";
  return cpu_level >= 4 ? "SKYLAKEX" : "HASWELL";
}

std::string blas_core_name() {
  using Fn = char* (*)();
  auto fn = reinterpret_cast<Fn>(dlsym(RTLD_DEFAULT, "openblas_get_corename"));
  const char* name = fn ? fn() : nullptr;
  return name ? std::string(name) : "";
}

void fix_blas_core(char** argv) {
  if (std::getenv("OPENBLAS_CORETYPE") || std::getenv("SDZ_BLAS_DETECTED")) return;
  const std::string name = blas_core_name();
  const std::string want = name.empty() ? "" : blas_core_override(name, cpu_simd_level());
  if (want.empty()) return;
  setenv("OPENBLAS_CORETYPE", want.c_str(), 1);
  setenv("SDZ_BLAS_DETECTED", name.c_str(), 1);  // also stops a second attempt if the exec comes back here
  execv("/proc/self/exe", argv);
}

std::string blas_core_report() {
  const std::string name = blas_core_name();
  if (name.empty()) return "";
  std::string out = "OpenBLAS core " + name;
  if (const char* detected = std::getenv("SDZ_BLAS_DETECTED"))
    out += std::string(" (sdzero set OPENBLAS_CORETYPE: OpenBLAS had chosen ") + detected + " on this CPU)";
  else if (const char* forced = std::getenv("OPENBLAS_CORETYPE"))
    out += std::string(" (OPENBLAS_CORETYPE=") + forced + ")";
  return out;
}

std::string cpu_model_name(const std::string& cpuinfo) {
  std::istringstream in(cpuinfo);
  for (std::string line; std::getline(in, line);) {
    const size_t colon = line.find(':');
    if (!starts_with(line, "model name") || colon == std::string::npos) continue;
    if (std::string name = trim(line.substr(colon + 1)); !name.empty()) return name;
  }
  return "unknown CPU";
}

std::string cpu_model_name() {
  std::ifstream f("/proc/cpuinfo");
  std::ostringstream text;
  text << f.rdbuf();
  return cpu_model_name(text.str());
}

}  // namespace sdz
