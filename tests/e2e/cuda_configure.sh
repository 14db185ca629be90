#!/usr/bin/env bash
# sdz-labels: e2e,build
# sdz-timeout: 300
# SDZ_ENABLE_CUDA/SDZ_ENABLE_NCCL configure against /usr/local/cuda where it exists (nvcc and NCCL
# headers/libs, no driver needed). Where it does not, configuring with them ON must stop with a
# clear error instead of producing a broken build.
source "$(dirname "$0")/_lib.sh"
set +e
out=$(cmake -S "$SDZ_SOURCE_DIR" -B "$scratch/b" -DSDZ_ENABLE_CUDA=ON -DSDZ_ENABLE_NCCL=ON -DSDZ_BUILD_TESTS=OFF 2>&1)
rc=$?
set -e
if [[ -x /usr/local/cuda/bin/nvcc ]]; then
  [[ $rc -eq 0 ]] || fail "CUDA configure failed: $out"
  expect_contains "$out" "sdzero: CUDA toolkit" "CUDA found"
  expect_contains "$out" "sdzero: NCCL" "NCCL found"
  grep -q "SDZ_WITH_NCCL" "$scratch/b/CMakeFiles/sdz_pch.dir/flags.make" || fail "SDZ_WITH_NCCL not defined"
else
  [[ $rc -ne 0 ]] || fail "configure with CUDA ON succeeded without a CUDA toolkit"
  expect_contains "$out" "CUDA" "the error names CUDA"
fi
# NCCL without CUDA is refused.
if cmake -S "$SDZ_SOURCE_DIR" -B "$scratch/c" -DSDZ_ENABLE_NCCL=ON -DSDZ_BUILD_TESTS=OFF >/dev/null 2>&1; then
  fail "NCCL without CUDA accepted"
fi
echo "cuda_configure: ok"
