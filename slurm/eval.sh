#!/usr/bin/env bash
# Evaluation of a run (or a model) on any number of nodes:
#   sbatch [sbatch options] slurm/eval.sh CONFIG [--section.key=value ...]
# runs `sdzero eval --config CONFIG ...` with the same launch as slurm/sdzero.sh (srun --mpi=pmix or
# SDZ_LAUNCHER=mpirun, threads per rank from the allocation, one GPU per rank by node-local rank).
# Evaluation is read-only and short: no checkpoint signal, no requeue; a failed job is simply rerun.
# Its log goes to RUN_DIR/logs/eval-<job>.log. Submit from the repository root (or export SDZ_ROOT).
#
#SBATCH --job-name=sdz-eval        # name shown by squeue
#SBATCH --nodes=1                  # evaluation parallelises over questions: -N N for more
#SBATCH --time=04:00:00            # wall-clock limit
#SBATCH --output=slurm-%x-%j.out   # Slurm's own file (the launch log also goes to RUN_DIR/logs/)
#SBATCH --exclusive                # whole nodes (GPU binding by local rank assumes no neighbours)
##SBATCH --gpus-per-node=8         # GPU nodes: one rank per GPU (with --ntasks-per-node=8)
##SBATCH --ntasks-per-node=8       # ranks per node; default one
##SBATCH --cpus-per-task=12        # threads per rank; default the node's CPUs / its ranks
#
# Environment: SDZERO (binary), SDZ_LAUNCHER (srun | mpirun), SDZ_COMMAND (default eval).
set -euo pipefail

root=${SDZ_ROOT:-${SLURM_SUBMIT_DIR:-$PWD}}
[[ -f "$root/slurm/lib.sh" ]] || { echo "error: no sdzero repository at '$root': submit from its root or export SDZ_ROOT" >&2; exit 2; }
# shellcheck source=slurm/lib.sh
source "$root/slurm/lib.sh"
root=$(sdz_root)
cd "$root"

sdz_job_args slurm/eval.sh eval "$@"
set -- "${overrides[@]}"

args=(--config "$config" "$@")
run_dir=$(sdz_run_dir "$sdzero" "$config" "${args[@]}")
mkdir -p "$run_dir/logs"
log="$run_dir/logs/eval-${SLURM_JOB_ID:-local}.log"
sdz_say "eval job ${SLURM_JOB_ID:-?}: ${SLURM_NTASKS:-1} rank(s), run dir $run_dir, log $log" 2>&1 | tee -a "$log" >&2
rc=0
SDZ_REQUEUE=0 sdz_launch "$log" "$sdzero" "$command" "${args[@]}" || rc=$?
SDZ_REQUEUE=0 sdz_finish "$rc"
