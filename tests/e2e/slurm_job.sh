#!/usr/bin/env bash
# sdz-labels: e2e,slurm
# sdz-timeout: 420
# A real one-node Slurm cluster (tools/slurm-local.sh): slurm/sdzero.sh runs a 3-task MPI job with
# srun --mpi=pmix and, as the documented fallback, with mpirun inside the allocation; the launch log
# lands in the run directory; a failing rank fails the job (non-zero, the rank named) instead of
# hanging it; a missing config fails before any rank starts; slurm/eval.sh logs to the run directory;
# USR1 to the batch shell is forwarded to every rank. The payload is `sdzero mpi-check` (real
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
# 6. slurm/eval.sh: the same launch, log in RUN_DIR/logs/eval-<job>.log, no requeue.
id=$(sbatch --parsable -o "$scratch/eval.out" -n 2 slurm/eval.sh configs/default.ini --run.dir="$scratch/evalrun" --mb=1)
state=$("$src/tools/slurm-local.sh" wait-job "$cluster" "$id" 180) || fail "eval job ended $state: $(cat "$scratch/eval.out")"
[[ -f "$scratch/evalrun/logs/eval-$id.log" ]] || fail "no eval log in the run directory"
expect_contains "$(cat "$scratch/evalrun/logs/eval-$id.log")" '"ranks":2' "eval job output in its log"

# 7. USR1 to the batch shell (what --signal=B:USR1@120 sends) reaches every rank, through srun and
# through mpirun: mpi-check does not catch it, so the ranks end at once instead of running their 10^6
# broadcasts.
for launcher in srun mpirun; do
  id=$(SDZ_LAUNCHER=$launcher submit "signal-$launcher" -n 3 -- configs/default.ini --run.dir="$scratch/sigrun" --mb=1 --repeat=1000000)
  started() { grep -q "sdzero: 3 rank(s)" "$scratch/signal-$launcher.out" 2>/dev/null; }
  end=$((SECONDS + 120))
  until started; do ((SECONDS < end)) || fail "the long $launcher job did not start: $(cat "$scratch/signal-$launcher.out")"; sleep 0.2; done
  scancel --batch --signal=USR1 "$id"
  state=$("$src/tools/slurm-local.sh" wait-job "$cluster" "$id" 60) && fail "the signalled $launcher job completed"
  [[ "$state" != TIMEOUT_WAITING* ]] || fail "the ranks did not stop within 60 s of USR1 ($launcher): $(cat "$scratch/signal-$launcher.out")"
  out=$(cat "$scratch/signal-$launcher.out")
  expect_contains "$out" "got SIGUSR1: asking the ranks to checkpoint and stop" "the batch shell's trap ($launcher)"
  expect_contains "$out" "User defined signal 1" "the ranks received USR1 ($launcher)"
done
echo "slurm_job: ok"
