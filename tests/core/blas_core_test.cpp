// blas_core_override: OpenBLAS's core is replaced only when it uses a narrower instruction set than
// the CPU runs (Prescott on an AVX-512 CPU, the case measured in session 12), never on an old CPU
// and never for a core this list does not know.
#include <gtest/gtest.h>

#include "sdzero/core/blas_core.hpp"

using sdz::blas_core_override;

TEST(BlasCore, NarrowerCoreThanTheCpuIsReplaced) {
  EXPECT_EQ(blas_core_override("Prescott", 4), "SKYLAKEX");
  EXPECT_EQ(blas_core_override("prescott", 4), "SKYLAKEX");  // any case
  EXPECT_EQ(blas_core_override("Nehalem", 4), "SKYLAKEX");
  EXPECT_EQ(blas_core_override("Sandybridge", 4), "SKYLAKEX");
  EXPECT_EQ(blas_core_override("Haswell", 4), "SKYLAKEX");
  EXPECT_EQ(blas_core_override("Zen", 4), "SKYLAKEX");
  EXPECT_EQ(blas_core_override("Prescott", 3), "HASWELL");
  EXPECT_EQ(blas_core_override("Core2", 3), "HASWELL");
  EXPECT_EQ(blas_core_override("Sandybridge", 3), "HASWELL");
}

TEST(BlasCore, RightOrUnknownCoresAndOldCpusAreLeftAlone) {
  EXPECT_EQ(blas_core_override("SkylakeX", 4), "");
  EXPECT_EQ(blas_core_override("Cooperlake", 4), "");
  EXPECT_EQ(blas_core_override("SapphireRapids", 4), "");
  EXPECT_EQ(blas_core_override("Haswell", 3), "");
  EXPECT_EQ(blas_core_override("Zen", 3), "");
  EXPECT_EQ(blas_core_override("SkylakeX", 3), "");      // wider than the CPU: OpenBLAS's business
  EXPECT_EQ(blas_core_override("SomeFutureCore", 4), "");  // unknown names are trusted
  EXPECT_EQ(blas_core_override("Prescott", 0), "");       // no AVX2: nothing better to pick
}

TEST(BlasCore, CpuLevelIsOneOfTheThree) {
  const int level = sdz::cpu_simd_level();
  EXPECT_TRUE(level == 0 || level == 3 || level == 4) << level;
}

// cpu_model_name: the first non-empty "model name" value, trimmed; "unknown CPU" without one.
TEST(CpuModelName, FirstModelNameLineTrimmed) {
  const std::string x86 =
      "processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel\t\t: 1\nmodel name\t: AMD EPYC 7B13  \n\n"
      "processor\t: 1\nmodel name\t: another\n";
  EXPECT_EQ(sdz::cpu_model_name(x86), "AMD EPYC 7B13");
  EXPECT_EQ(sdz::cpu_model_name("processor\t: 0\nBogoMIPS\t: 50.00\nCPU implementer\t: 0x41\n"), "unknown CPU");
  EXPECT_EQ(sdz::cpu_model_name("model name\t:   \nmodel name\t: second\r\n"), "second");
  EXPECT_EQ(sdz::cpu_model_name(""), "unknown CPU");
  EXPECT_NE(sdz::cpu_model_name(), "");  // this machine: a name or "unknown CPU", never empty
}
