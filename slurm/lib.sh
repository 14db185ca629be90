# Shared by slurm/sdzero.sh, slurm/eval.sh and slurm/scaling.sh (sourced inside the batch job).
# It turns an allocation into a launch: ranks, threads per rank, GPU binding, the launcher (srun or
# mpirun), the run directory's log, signal forwarding and requeue. docs/SLURM.md explains each choice.

sdz_say() { echo "[sdz-slurm $(date -u +%H:%M:%S)] $*" >&2; }
sdz_die() { sdz_say "error: $*"; exit 2; }

# The repository: sbatch runs a copy of the script from the spool directory, so $0 does not find it.
# Submit from the repository root, or set SDZ_ROOT.
sdz_root() {
  local r=${SDZ_ROOT:-${SLURM_SUBMIT_DIR:-$PWD}}
  [[ -f "$r/slurm/lib.sh" ]] || sdz_die "cannot find the sdzero repository at '$r': submit from its root or export SDZ_ROOT"
  echo "$r"
}

# Tasks on this (the batch) node. SLURM_TASKS_PER_NODE looks like "8(x4)" or "3,2".
# sdz_job_args SCRIPT DEFAULT_COMMAND ARGS...: the arguments every batch script takes. Sets
# `config` (the first argument, checked), `overrides` (the rest), `sdzero` (the binary, checked) and
# `command` (SDZ_COMMAND or the default); lets OpenMPI start as root (containers, test clusters).
sdz_job_args() {
  local script=$1 default_command=$2
  shift 2
  [[ $# -ge 1 ]] || sdz_die "usage: sbatch $script CONFIG [--section.key=value ...]"
  config=$1
  shift
  overrides=("$@")
  [[ -f "$config" ]] || sdz_die "config file '$config' not found (relative to $PWD)"
  sdzero=${SDZERO:-$PWD/build/sdzero}
  [[ -x "$sdzero" ]] || sdz_die "no sdzero binary at '$sdzero' (build it, or export SDZERO)"
  command=${SDZ_COMMAND:-$default_command}
  if [[ $(id -u) -eq 0 ]]; then export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1; fi
}

sdz_tasks_on_node() {
  local t=${SLURM_NTASKS_PER_NODE:-}
  [[ -n "$t" ]] || t=${SLURM_TASKS_PER_NODE%%[(,]*}
  [[ -n "$t" && "$t" -gt 0 ]] 2>/dev/null || t=1
  echo "$t"
}

# CPU threads for each rank: --cpus-per-task when given, else the node's CPUs shared by its ranks.
sdz_threads_per_rank() {
  if [[ -n "${SLURM_CPUS_PER_TASK:-}" ]]; then
    echo "$SLURM_CPUS_PER_TASK"
    return
  fi
  local cpus=${SLURM_CPUS_ON_NODE:-$(nproc)} tasks
  tasks=$(sdz_tasks_on_node)
  local t=$((cpus / tasks))
  ((t >= 1)) || t=1
  echo "$t"
}

# Role counts from a ratio "R:T:L" for W ranks: teacher and learner get their share rounded (at least
# one each when their ratio part is > 0), rollout takes the rest. Prints "R T L" or fails.
sdz_ratio_counts() {
  local ratio=$1 w=$2 a b c
  IFS=: read -r a b c <<<"$ratio"
  [[ "$a" =~ ^[0-9]+$ && "$b" =~ ^[0-9]+$ && "$c" =~ ^[0-9]+$ ]] || sdz_die "role ratio '$ratio' is not R:T:L (whole numbers)"
  local s=$((a + b + c)) t l r
  ((s > 0)) || sdz_die "role ratio '$ratio' sums to 0"
  t=$(((2 * w * b + s) / (2 * s)))
  l=$(((2 * w * c + s) / (2 * s)))
  ((b == 0 || t >= 1)) || t=1
  ((c == 0 || l >= 1)) || l=1
  r=$((w - t - l))
  ((r >= 1 && l >= 1)) || sdz_die "role ratio '$ratio' leaves no rollout or learner rank with $w ranks"
  echo "$r $t $l"
}

# The run directory a command will use: run.dir, else runs/<run.name>, resolved by the binary itself
# (so defaults, the config file and overrides are read exactly as the job will read them).
sdz_run_dir() {
  local sdzero=$1 config=$2
  shift 2
  local overrides=() a
  for a in "$@"; do [[ "$a" == --*.*=* ]] && overrides+=("$a"); done
  local resolved dir name
  resolved=$("$sdzero" config --config "$config" "${overrides[@]}") || sdz_die "the configuration does not load (see above)"
  dir=$(awk -F' = ' '/^\[/{s=$0} s=="[run]" && $1=="dir"{print $2}' <<<"$resolved" | tr -d '"')
  name=$(awk -F' = ' '/^\[/{s=$0} s=="[run]" && $1=="name"{print $2}' <<<"$resolved" | tr -d '"')
  [[ -n "$dir" ]] || dir="runs/$name"
  echo "$dir"
}

# The command each task runs: binds a GPU by node-local rank when the node has GPUs (Slurm sets
# CUDA_VISIBLE_DEVICES per node from the job's GRES), then execs the program.
SDZ_TASK_WRAPPER='
lr=${SLURM_LOCALID:-${OMPI_COMM_WORLD_LOCAL_RANK:-0}}
if [[ -n "${CUDA_VISIBLE_DEVICES:-}" && "${SDZ_GPU_BIND:-local}" == local ]]; then
  IFS=, read -ra gpus <<<"$CUDA_VISIBLE_DEVICES"
  export CUDA_VISIBLE_DEVICES=${gpus[$((lr % ${#gpus[@]}))]}
fi
exec "$@"'

# sdz_launch LOG CMD...: start the ranks in the background (srun --mpi=pmix, or mpirun when
# SDZ_LAUNCHER=mpirun), forward USR1/TERM to them, wait, and return their exit code.
sdz_launch() {
  local log=$1
  shift
  local threads launcher=()
  threads=$(sdz_threads_per_rank)
  export OMP_NUM_THREADS=$threads
  # Ranks may share cores (oversubscribed test clusters); spinning OpenMP threads then cost 10x.
  export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}
  case "${SDZ_LAUNCHER:-srun}" in
    srun)
      launcher=(srun --mpi="${SDZ_SRUN_MPI:-pmix}" --kill-on-bad-exit=1)
      # Slurm 22.05's srun does not inherit --cpus-per-task from the batch job: pass it on.
      [[ -z "${SLURM_CPUS_PER_TASK:-}" ]] || launcher+=(--cpus-per-task="$SLURM_CPUS_PER_TASK")
      ;;
    mpirun)
      # OpenMPI's mpirun reads the allocation from Slurm itself; ranks get threads, not one core.
      launcher=(mpirun --bind-to none -x OMP_NUM_THREADS -x OMP_WAIT_POLICY)
      [[ $(id -u) -ne 0 ]] || launcher+=(--allow-run-as-root)
      ;;
    *) sdz_die "SDZ_LAUNCHER must be srun or mpirun, not '${SDZ_LAUNCHER}'" ;;
  esac
  sdz_say "launch: ${launcher[*]} $* ($(sdz_tasks_on_node) rank(s) on this node, $threads thread(s) per rank)" 2>&1 | tee -a "$log" >&2
  "${launcher[@]}" bash -c "$SDZ_TASK_WRAPPER" sdzero-task "$@" > >(tee -a "$log") 2> >(tee -a "$log" >&2) &
  SDZ_STEP_PID=$!
  # --signal=B:USR1@120 signals only this shell: pass it on to the ranks (srun and mpirun both
  # forward USR1/TERM to their tasks), which checkpoint at the end of the step and exit 75.
  trap 'sdz_say "got SIGUSR1: asking the ranks to checkpoint and stop"; kill -USR1 "$SDZ_STEP_PID" 2>/dev/null || true' USR1
  trap 'sdz_say "got SIGTERM: asking the ranks to checkpoint and stop"; kill -TERM "$SDZ_STEP_PID" 2>/dev/null || true' TERM
  local rc=0
  # A trapped signal interrupts `wait` (status > 128); keep waiting for the ranks' own exit code.
  while :; do
    wait "$SDZ_STEP_PID" && rc=0 || rc=$?
    kill -0 "$SDZ_STEP_PID" 2>/dev/null || break
  done
  wait "$SDZ_STEP_PID" && rc=0 || rc=$?
  trap - USR1 TERM
  return "$rc"
}

# Exit code 75 (EX_TEMPFAIL) means "checkpoint written, run me again" (docs/CHECKPOINTS.md).
SDZ_EXIT_REQUEUE=75

sdz_finish() {
  local rc=$1
  if [[ "$rc" -eq "$SDZ_EXIT_REQUEUE" && -n "${SLURM_JOB_ID:-}" && "${SDZ_REQUEUE:-1}" == 1 ]]; then
    sdz_say "the run checkpointed and asked to continue: requeueing job $SLURM_JOB_ID"
    scontrol requeue "$SLURM_JOB_ID" || sdz_say "scontrol requeue failed: resubmit with the same arguments (the run resumes)"
  fi
  sdz_say "exit code $rc"
  exit "$rc"
}
