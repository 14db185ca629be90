#!/usr/bin/env bash
# Training on any number of nodes:  sbatch [sbatch options] slurm/sdzero.sh CONFIG [--section.key=value ...]
# Submit from the repository root (or export SDZ_ROOT). Examples:
#   sbatch -N 4 --ntasks-per-node=8 --gpus-per-node=8 --cpus-per-task=12 slurm/sdzero.sh configs/x.ini
#   sbatch -N 2 --ntasks-per-node=4 --cpus-per-task=16 slurm/sdzero.sh configs/x.ini --run.name=cpu2
# Every sbatch option below can be overridden on the sbatch command line. docs/SLURM.md has the rest.
#
#SBATCH --job-name=sdzero          # name shown by squeue; the run itself is named by run.name
#SBATCH --nodes=1                  # default one node; pass -N N for more (nothing here assumes one)
#SBATCH --time=24:00:00            # wall-clock limit; a longer run continues through requeue
#SBATCH --signal=B:USR1@120        # 120 s before the limit, SIGUSR1 to this script (B:): it forwards
#                                  # the signal to the ranks, which checkpoint and exit 75
#SBATCH --requeue                  # allow `scontrol requeue` (after a checkpoint, or on node failure)
#SBATCH --open-mode=append         # a requeued job appends to its Slurm output file, not truncate it
#SBATCH --output=slurm-%x-%j.out   # Slurm's own file (the launch log also goes to RUN_DIR/logs/)
#SBATCH --exclusive                # whole nodes: ranks bind GPUs and cores, no neighbour noise
##SBATCH --gpus-per-node=8         # GPU nodes: one rank per GPU (with --ntasks-per-node=8); left
#                                  # off by default so that the script also runs on CPU clusters
##SBATCH --ntasks-per-node=8       # ranks per node (one per GPU); default is one rank per node
##SBATCH --cpus-per-task=12        # CPU threads per rank; default: the node's CPUs / its ranks
#
# Environment knobs (all optional):
#   SDZERO=path        the binary (default: $SDZ_ROOT/build/sdzero)
#   SDZ_LAUNCHER=srun  srun --mpi=pmix (default) or mpirun (OpenMPI inside the allocation: use it when
#                      Slurm was built without PMIx; mpirun reads the node list from Slurm)
#   SDZ_RATIO=R:T:L    rollout:teacher:learner ratio turned into layout.* counts for this allocation
#                      (default: the config's [layout]; layout.mode=auto derives it from the rank count)
#   SDZ_COMMAND=train  the sdzero command (train; `mpi-check` checks a new cluster's set-up)
#   SDZ_REQUEUE=1      requeue after a checkpoint-and-stop (exit 75); 0 to just exit
set -euo pipefail

root=${SDZ_ROOT:-${SLURM_SUBMIT_DIR:-$PWD}}
[[ -f "$root/slurm/lib.sh" ]] || { echo "error: no sdzero repository at '$root': submit from its root or export SDZ_ROOT" >&2; exit 2; }
# shellcheck source=slurm/lib.sh
source "$root/slurm/lib.sh"
root=$(sdz_root)
cd "$root"

sdz_job_args slurm/sdzero.sh train "$@"
set -- "${overrides[@]}"
# NCCL (GPU builds): uncomment and adapt to the fabric; the defaults usually find InfiniBand.
#   export NCCL_DEBUG=WARN               # INFO once, to see which transport each ring uses
#   export NCCL_IB_HCA=mlx5              # the HCAs to use for inter-node traffic
#   export NCCL_SOCKET_IFNAME=ib0        # bootstrap interface (not docker0/lo)
#   export NCCL_ASYNC_ERROR_HANDLING=1   # a dead peer ends the job instead of hanging it
# OpenMPI over InfiniBand: export OMPI_MCA_pml=ucx (and UCX_NET_DEVICES=mlx5_0:1) if not the default.

args=(--config "$config")
ranks=${SLURM_NTASKS:-1}
if [[ -n "${SDZ_RATIO:-}" ]]; then
  read -r r t l <<<"$(sdz_ratio_counts "$SDZ_RATIO" "$ranks")"
  args+=(--layout.mode=split --layout.rollout="$r" --layout.teacher="$t" --layout.learner="$l")
fi
# A requeued (or resubmitted) job continues from the newest valid checkpoint; a fresh run has none.
# Before the user's overrides, so that --ckpt.resume=none on the command line still wins.
[[ "$command" != train ]] || args+=(--ckpt.resume=auto)
args+=("$@")

run_dir=$(sdz_run_dir "$sdzero" "$config" "${args[@]}")
mkdir -p "$run_dir/logs"
log="$run_dir/logs/slurm-${SLURM_JOB_ID:-local}.${SLURM_RESTART_COUNT:-0}.log"
sdz_say "job ${SLURM_JOB_ID:-?} (restart ${SLURM_RESTART_COUNT:-0}): $ranks rank(s) on ${SLURM_JOB_NUM_NODES:-1} node(s), run dir $run_dir, log $log" 2>&1 | tee -a "$log" >&2

rc=0
sdz_launch "$log" "$sdzero" "$command" "${args[@]}" || rc=$?
sdz_finish "$rc"
