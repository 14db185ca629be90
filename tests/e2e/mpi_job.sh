#!/usr/bin/env bash
# sdz-labels: e2e,mpi
# sdz-timeout: 300
# A real 3-rank job: sdzero mpi-check succeeds and reports broadcast bandwidth for a 100 MB model;
# a rank that fails makes every rank exit non-zero within 30 s (no hang).
source "$(dirname "$0")/_lib.sh"
mpi=(mpirun -np 3 --oversubscribe --bind-to none)

out=$("${mpi[@]}" "$SDZERO" mpi-check --mb 100 --repeat 2 --layout.mode=split --layout.rollout=1 2>"$scratch/err") \
  || fail "mpi-check failed: $(cat "$scratch/err")"
expect_contains "$out" '"params_identical":true' "broadcast result"
expect_contains "$out" '"layout":"rollout 1 + teacher 1 + learner 1"' "layout"
echo "weight sync: $out"

start=$(date +%s)
set +e
timeout 60 "${mpi[@]}" "$SDZERO" mpi-check --mb 1 --fail-rank 1 >"$scratch/out" 2>"$scratch/err"
rc=$?
set -e
elapsed=$(( $(date +%s) - start ))
[[ $rc -ne 0 ]] || fail "a failing rank left the job exiting 0"
[[ $rc -ne 124 ]] || fail "the job hung after one rank failed (killed by timeout)"
(( elapsed <= 30 )) || fail "the job took ${elapsed}s to end after one rank failed"
expect_contains "$(cat "$scratch/err")" "(rank 1): error: rank 1: deliberate failure" "the error names its rank"

# A layout that does not match the world size is refused before any work, naming the keys.
set +e
err=$("${mpi[@]}" "$SDZERO" mpi-check --mb 1 --layout.mode=split --layout.rollout=2 2>&1)
rc=$?
set -e
[[ $rc -ne 0 ]] || fail "a mismatched layout was accepted"
expect_contains "$err" "but the job has 3" "layout mismatch message"
echo "mpi_job: ok"
