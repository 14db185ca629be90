#!/usr/bin/env bash
# sdz-labels: e2e,slurm
# sdz-timeout: 300
# A real one-node Slurm cluster (tools/slurm-local.sh): slurm/sdzero.sh runs a 3-task MPI job with
# srun --mpi=pmix and, as the documented fallback, with mpirun inside the allocation; the launch log
# lands in the run directory; a failing rank fails the job (non-zero, the rank named) instead of
# hanging it; a missing config fails before any rank starts. The payload is `sdzero mpi-check` (real
# MPI collectives, layout from [layout]).
source "$(dirname "$0")/_lib.sh"
src=${SDZ_SOURCE_DIR:?}
cluster="$scratch/cluster"
trap '"$src/tools/slurm-local.sh" stop "$cluster" || true; rm -rf "$scratch"' EXIT
eval "$("$src/tools/slurm-local.sh" start "$cluster")"
export SDZERO SDZ_ROOT="$src" SDZ_COMMAND=mpi-check
cd "$src"

# submit NAME [sbatch options] -- [script args]: prints the job id
submit() {
  local name=$1
  shift
  local opts=()
  while [[ $1 != -- ]]; do opts+=("$1"); shift; done
  shift
  sbatch --parsable -o "$scratch/$name.out" "${opts[@]}" slurm/sdzero.sh "$@"
}

# 1. srun --mpi=pmix, 3 tasks, split layout: completes and reports identical weights on every rank.
id=$(submit srun -n 3 -- configs/default.ini --run.dir="$scratch/run" --mb=10 --layout.mode=split --layout.rollout=1)
state=$("$src/tools/slurm-local.sh" wait-job "$cluster" "$id" 180) || fail "srun job ended $state: $(cat "$scratch/srun.out")"
out=$(cat "$scratch/srun.out")
expect_contains "$out" '"ranks":3' "rank count under srun"
expect_contains "$out" '"params_identical":true' "broadcast under srun"
expect_contains "$out" '"layout":"rollout 1 + teacher 1 + learner 1"' "layout under srun"
expect_contains "$out" 'launch: srun --mpi=pmix' "default launcher"
log="$scratch/run/logs/slurm-$id.0.log"
[[ -f "$log" ]] || fail "no launch log in the run directory ($log)"
expect_contains "$(cat "$log")" '"params_identical":true' "the run-directory log has the ranks' output"

# 2. The mpirun fallback inside the same kind of allocation.
id=$(SDZ_LAUNCHER=mpirun submit mpirun -n 3 -- configs/default.ini --run.dir="$scratch/run" --mb=10)
state=$("$src/tools/slurm-local.sh" wait-job "$cluster" "$id" 180) || fail "mpirun job ended $state: $(cat "$scratch/mpirun.out")"
out=$(cat "$scratch/mpirun.out")
expect_contains "$out" 'launch: mpirun' "fallback launcher"
expect_contains "$out" '"ranks":3' "rank count under mpirun"
expect_contains "$out" '"params_identical":true' "broadcast under mpirun"

# 3. A rank that fails ends the job FAILED with its exit code, and its message names the rank.
id=$(submit failing -n 3 -- configs/default.ini --run.dir="$scratch/run" --mb=1 --fail-rank=1)
state=$("$src/tools/slurm-local.sh" wait-job "$cluster" "$id" 120) && fail "a job with a failing rank completed"
[[ "$state" == FAILED ]] || fail "a job with a failing rank ended $state, expected FAILED"
expect_contains "$(cat "$scratch/failing.out")" "(rank 1): error: rank 1: deliberate failure" "the failing rank is named"

# 4. A config that does not exist: the job fails at once, saying which file.
id=$(submit noconfig -n 1 -- configs/does-not-exist.ini)
state=$("$src/tools/slurm-local.sh" wait-job "$cluster" "$id" 60) && fail "a job with a missing config completed"
expect_contains "$(cat "$scratch/noconfig.out")" "config file 'configs/does-not-exist.ini' not found" "missing config message"

# 5. The role ratio becomes layout counts for the allocation (R:T:L = 1:1:1 on 3 ranks).
id=$(SDZ_RATIO=1:1:1 submit ratio -n 3 -- configs/default.ini --run.dir="$scratch/run" --mb=1)
state=$("$src/tools/slurm-local.sh" wait-job "$cluster" "$id" 180) || fail "ratio job ended $state: $(cat "$scratch/ratio.out")"
expect_contains "$(cat "$scratch/ratio.out")" '"layout":"rollout 1 + teacher 1 + learner 1"' "layout from SDZ_RATIO"
echo "slurm_job: ok"
