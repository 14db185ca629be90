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
