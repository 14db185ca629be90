#!/usr/bin/env bash
# sdz-labels: e2e,build
# sdz-timeout: 300
# SDZ_ENABLE_CUDA/SDZ_ENABLE_NCCL configure against /usr/local/cuda where it exists (nvcc and NCCL
# headers/libs, no driver needed), the hand-written kernels (src/model/cuda) build with nvcc, and the
# translation units with CUDA/NCCL-only code (device placement, NCCL communicators, the fused
# operations' autograd wrappers) compile there against these headers. Where there is no toolkit,
# configuring with them ON must stop with a clear error instead of producing a broken build.
source "$(dirname "$0")/_lib.sh"
set +e
out=$(cmake -S "$SDZ_SOURCE_DIR" -B "$scratch/b" -DSDZ_ENABLE_CUDA=ON -DSDZ_ENABLE_NCCL=ON -DSDZ_BUILD_TESTS=OFF \
  -DCMAKE_EXPORT_COMPILE_COMMANDS=ON 2>&1)
rc=$?
set -e
if [[ -x /usr/local/cuda/bin/nvcc ]]; then
  [[ $rc -eq 0 ]] || fail "CUDA configure failed: $out"
  expect_contains "$out" "sdzero: CUDA toolkit" "CUDA found"
  expect_contains "$out" "sdzero: NCCL" "NCCL found"
  grep -q "SDZ_WITH_NCCL" "$scratch/b/CMakeFiles/sdz_pch.dir/flags.make" || fail "SDZ_WITH_NCCL not defined"
  kout=$(cmake --build "$scratch/b" --target sdz_cuda_kernels 2>&1) || fail "the CUDA kernels do not build: $kout"
  [[ -s "$scratch/b/libsdz_cuda_kernels.a" ]] || fail "no kernel library"
  # Compile (not link: the CPU libtorch has no CUDA library) the GPU-only code with the build's own
  # flags. A CPU libtorch package may lack the one generated c10/cuda header; it only says whether
  # c10_cuda is a shared library, so a one-line stand-in is supplied where it is missing.
  mkdir -p "$scratch/shim/c10/cuda/impl"
  echo '#define C10_CUDA_BUILD_SHARED_LIBS' > "$scratch/shim/c10/cuda/impl/cuda_cmake_macros.h"
  python3 - "$scratch/b/compile_commands.json" "$scratch/shim" "$scratch/obj.o" <<'PY' || fail "the CUDA/NCCL code does not compile"
import json, re, subprocess, sys
db, shim, obj = sys.argv[1:]
done = []
for c in json.load(open(db)):
    if not c["file"].endswith(("src/dist/nccl.cpp", "src/dist/device.cpp", "src/model/fused_ops.cpp")):
        continue
    cmd = re.sub(r"-Xclang -include-pch -Xclang \S+|-include \S+", "", c["command"])  # no PCH: this TU alone
    cmd = re.sub(r"-o \S+", "-o " + obj, cmd).replace(" -c ", " -isystem %s -c " % shim, 1)
    r = subprocess.run(cmd, shell=True, cwd=c["directory"], capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit("%s:\n%s" % (c["file"], r.stderr[-3000:]))
    done.append(c["file"].rsplit("/", 2)[-2] + "/" + c["file"].rsplit("/", 1)[-1])
assert sorted(done) == ["dist/device.cpp", "dist/nccl.cpp", "model/fused_ops.cpp"], done
print("compiled with CUDA and NCCL:", " ".join(sorted(done)))
PY
else
  [[ $rc -ne 0 ]] || fail "configure with CUDA ON succeeded without a CUDA toolkit"
  expect_contains "$out" "CUDA" "the error names CUDA"
fi
# NCCL without CUDA is refused.
if cmake -S "$SDZ_SOURCE_DIR" -B "$scratch/c" -DSDZ_ENABLE_NCCL=ON -DSDZ_BUILD_TESTS=OFF >/dev/null 2>&1; then
  fail "NCCL without CUDA accepted"
fi
echo "cuda_configure: ok"
