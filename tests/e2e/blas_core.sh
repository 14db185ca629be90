#!/usr/bin/env bash
# sdz-labels: e2e
# The BLAS kernels at startup: `sdzero version` names OpenBLAS's core, and on a CPU with AVX-512 (or
# AVX2) it is one that uses it, whatever OpenBLAS detected (it picks SSE3 Prescott kernels on virtual
# CPUs with an unknown model: 4.7x slower matmuls). A user's OPENBLAS_CORETYPE is kept.
source "$(dirname "$0")/_lib.sh"

out=$(env -u OPENBLAS_CORETYPE -u SDZ_BLAS_DETECTED "$SDZERO" version)
blas=$(grep '^BLAS: ' <<<"$out" || true)
[[ -n "$blas" ]] || fail "sdzero version names no BLAS core: $out"
core=$(sed -E 's/^BLAS: OpenBLAS core ([A-Za-z0-9_]+).*/\1/' <<<"$blas")
flags=$(grep -m1 '^flags' /proc/cpuinfo)
has() { grep -qw "$1" <<<"$flags"; }
if has avx512f && has avx512bw && has avx512vl && has avx512dq; then
  [[ "$core" =~ ^(SkylakeX|Cooperlake|SapphireRapids)$ ]] || fail "AVX-512 CPU, OpenBLAS core $core: $blas"
elif has avx2 && has fma; then
  [[ "$core" =~ ^(Haswell|Zen|Excavator|SkylakeX|Cooperlake|SapphireRapids)$ ]] || fail "AVX2 CPU, core $core: $blas"
fi
# The user's choice stands, and is reported as theirs.
out=$(env -u SDZ_BLAS_DETECTED OPENBLAS_CORETYPE=NEHALEM "$SDZERO" version)
expect_contains "$out" "BLAS: OpenBLAS core Nehalem (OPENBLAS_CORETYPE=NEHALEM)" "user's core kept"
echo "ok: $blas"
