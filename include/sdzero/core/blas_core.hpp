// defines: the BLAS kernel check at startup (cpu_simd_level, blas_core_override, blas_core_name,
// fix_blas_core, blas_core_report) and the CPU's name for reports (cpu_model_name)
// Debian's OpenBLAS picks its kernels at load time from the CPU's family and model. On a virtual
// CPU that reports an unknown model ("Intel(R) Xeon(R) Processor" with AVX-512) it falls back to
// Prescott, its SSE3 kernels: a 2048^3 fp32 matmul ran at 32 GFLOP/s on one core instead of 152
// with the SkylakeX kernels (session 12). The choice is made before main() runs, so the only fix from
// inside is to set OPENBLAS_CORETYPE and start the program again.
#pragma once
#include <string>

namespace sdz {

// 4: AVX-512 F/BW/VL/DQ; 3: AVX2 and FMA; 0: anything older (OpenBLAS's own choice stands).
int cpu_simd_level();

// The OPENBLAS_CORETYPE to force when OpenBLAS chose `corename` on a CPU of `cpu_level`:
// "SKYLAKEX" (level 4) or "HASWELL" (level 3) when the chosen core uses a narrower instruction set
// than the CPU has; "" to leave it (right already, an unknown name, or an old CPU).
std::string blas_core_override(const std::string& corename, int cpu_level);

// OpenBLAS's core name (openblas_get_corename, looked up at run time); "" when the BLAS is not
// OpenBLAS (the pip CUDA wheels bring MKL).
std::string blas_core_name();

// At the top of main(): when OPENBLAS_CORETYPE is unset and OpenBLAS chose narrower kernels than the
// CPU runs, sets it (and SDZ_BLAS_DETECTED to what OpenBLAS had chosen) and re-executes the program
// with the same arguments. A user's OPENBLAS_CORETYPE is never changed. Returns if nothing is done
// or the exec fails (the program then runs with the slow kernels).
void fix_blas_core(char** argv);

// One line for `sdzero version` and the run log: "OpenBLAS core SkylakeX (...)" or "" when not OpenBLAS.
std::string blas_core_report();

// The CPU's name from /proc/cpuinfo text: the first non-empty "model name" value ("AMD EPYC"), or
// "unknown CPU" when there is none (some ARM kernels). Reports name it because kernels for other
// instruction sets round differently, and a run is bit-reproducible only on the same ones.
std::string cpu_model_name(const std::string& cpuinfo);
// The same for this machine ("unknown CPU" when /proc/cpuinfo cannot be read).
std::string cpu_model_name();

}  // namespace sdz
