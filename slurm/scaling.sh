#!/usr/bin/env bash
# A scaling study as Slurm job arrays: one array per job size (nodes or tasks), one array element per
# rollout:teacher:learner ratio; every element writes STUDY/<mode>_np<ranks>_<ratio>/ (run.json +
# metrics.jsonl), and tools/scaling-report STUDY makes the table and plots afterwards.
# Run it on the login node (it calls sbatch itself), from the repository root:
#   slurm/scaling.sh [--nodes "1 2 4 8" --ntasks-per-node 8 --gpus-per-node 8 | --tasks "1 2 3"]
#                    [--ratios "colocated 4:1:3 2:1:1"] [--mode strong|weak] [--batch-key KEY --batch N]
#                    [--steps S] [--mb MB] [--serial] [--sbatch "more sbatch options"] -- STUDY CONFIG [--k=v ...]
#   strong: KEY = N for every size (fixed global batch); weak: KEY = N x ranks (fixed batch per rank).
#   --serial: one job at a time (array elements %1, arrays chained): for shared or single nodes,
#             where concurrent runs would distort each other's timings.
#   SDZ_COMMAND=mpi-check measures the weight-sync broadcast instead of training (--steps tries of
#   --mb MiB each), e.g. to check a new cluster's fabric.
# Prints one line per submitted array: "submitted JOBID: SIZE, ratios ...". The worker half of this
# file (below, `--worker`) is what each array element runs.
#
#SBATCH --job-name=sdz-scaling     # one name for the whole study (squeue -n sdz-scaling)
#SBATCH --time=01:00:00            # per element; a scaling point needs minutes, not hours
#SBATCH --exclusive                # whole nodes: timings without neighbours
#SBATCH --requeue                  # a node failure reruns the element (it overwrites its directory)
#SBATCH --open-mode=append         # a rerun appends to the element's Slurm output
set -euo pipefail

root=${SDZ_ROOT:-${SLURM_SUBMIT_DIR:-$PWD}}
[[ -f "$root/slurm/lib.sh" ]] || { echo "error: no sdzero repository at '$root': submit from its root or export SDZ_ROOT" >&2; exit 2; }
# shellcheck source=slurm/lib.sh
source "$root/slurm/lib.sh"
root=$(sdz_root)
cd "$root"

if [[ "${1:-}" == --worker ]]; then
  shift
  study=$1 config=$2
  shift 2
  read -ra ratios <<<"${SCALE_RATIOS:?}"
  idx=${SLURM_ARRAY_TASK_ID:-0}
  ratio=${ratios[$idx]:?no ratio for array index $idx}
  mode=${SCALE_MODE:-strong}
  command=${SDZ_COMMAND:-train}
  sdzero=${SDZERO:-$root/build/sdzero}
  ranks=${SLURM_NTASKS:-1}
  if [[ $(id -u) -eq 0 ]]; then export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1; fi
  args=(--config "$config")
  layout_json='"colocated"'
  if [[ "$ratio" == colocated ]]; then
    args+=(--layout.mode=colocated)
  else
    read -r r t l <<<"$(sdz_ratio_counts "$ratio" "$ranks")"
    args+=(--layout.mode=split --layout.rollout="$r" --layout.teacher="$t" --layout.learner="$l")
    layout_json="{\"rollout\":$r,\"teacher\":$t,\"learner\":$l}"
  fi
  dir="$study/${mode}_np${ranks}_${ratio//:/-}"
  rm -rf "$dir"
  mkdir -p "$dir"
  key=tokens_per_s
  [[ "$command" == train ]] || key=weight_sync_gb_per_s
  printf '{"ranks":%d,"nodes":%d,"gpus_per_node":%d,"threads_per_rank":%d,"layout":%s,"mode":"%s","command":"%s","launcher":"%s","throughput_key":"%s","job":"%s"%s}\n' \
    "$ranks" "${SLURM_JOB_NUM_NODES:-1}" "${SLURM_GPUS_ON_NODE:-0}" "$(sdz_threads_per_rank)" "$layout_json" "$mode" \
    "$command" "${SDZ_LAUNCHER:-srun}" "$key" "${SLURM_ARRAY_JOB_ID:-${SLURM_JOB_ID:-}}_${idx}" \
    "$([[ "$command" == train ]] || echo ",\"mb\":$( [[ "$mode" == strong ]] && echo "${SCALE_MB:-20}" || echo $((${SCALE_MB:-20} * ranks)) )")" >"$dir/run.json"
  log="$dir/launch.log"
  if [[ "$command" == train ]]; then
    if [[ -n "${SCALE_BATCH_KEY:-}" ]]; then
      b=$SCALE_BATCH
      [[ "$mode" == strong ]] || b=$((SCALE_BATCH * ranks))
      args+=("--$SCALE_BATCH_KEY=$b")
    fi
    SDZ_REQUEUE=0 sdz_launch "$log" "$sdzero" train "${args[@]}" --run.dir="$dir" "$@" || sdz_die "training failed (see $log)"
  else
    mb=${SCALE_MB:-20}
    [[ "$mode" == strong ]] || mb=$((mb * ranks))
    for ((s = 0; s < ${SCALE_STEPS:-3}; ++s)); do
      : >"$dir/try.log"
      sdz_launch "$dir/try.log" "$sdzero" mpi-check "${args[@]}" --mb "$mb" --repeat 2 "$@" || sdz_die "mpi-check failed (see $dir/try.log)"
      cat "$dir/try.log" >>"$log"
      line=$(grep -m1 '^{"broadcast' "$dir/try.log") || sdz_die "mpi-check printed no result (see $log)"
      /usr/bin/python3 -c '
import json, sys
o = json.loads(sys.argv[1])
print(json.dumps({"step": int(sys.argv[2]), "ranks": o["ranks"], "t_sync": o["broadcast_seconds"],
                  "weight_sync_gb_per_s": o["broadcast_gb_per_s"], "layout": o["layout"]}))' "$line" "$s" >>"$dir/metrics.jsonl"
    done
    rm -f "$dir/try.log"
  fi
  sdz_say "scaling point $dir done"
  exit 0
fi

# ---- submitter ----
nodes="" tasks="" per_node="" gpus="" ratios="colocated" mode=strong batch_key="" batch="" steps=3 mb=20 serial=0 more=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --nodes) nodes=$2; shift 2 ;;
    --tasks) tasks=$2; shift 2 ;;
    --ntasks-per-node) per_node=$2; shift 2 ;;
    --gpus-per-node) gpus=$2; shift 2 ;;
    --ratios) ratios=$2; shift 2 ;;
    --mode) mode=$2; shift 2 ;;
    --batch-key) batch_key=$2; shift 2 ;;
    --batch) batch=$2; shift 2 ;;
    --steps) steps=$2; shift 2 ;;
    --mb) mb=$2; shift 2 ;;
    --serial) serial=1; shift ;;
    --sbatch) more=$2; shift 2 ;;
    --) shift; break ;;
    *) sdz_die "unknown option '$1' (see the header of slurm/scaling.sh)" ;;
  esac
done
[[ $# -ge 2 ]] || sdz_die "usage: slurm/scaling.sh [options] -- STUDY CONFIG [--k=v ...]"
[[ -n "$nodes" || -n "$tasks" ]] || sdz_die "give --nodes \"1 2 4\" (with --ntasks-per-node) or --tasks \"1 2 3\""
[[ -z "$nodes" || -z "$tasks" ]] || sdz_die "--nodes and --tasks exclude each other"
[[ "$mode" == strong || "$mode" == weak ]] || sdz_die "--mode must be strong or weak"
[[ -z "$batch_key" || -n "$batch" ]] || sdz_die "--batch-key needs --batch"
study=$1 config=$2
shift 2
[[ -f "$config" ]] || sdz_die "config file '$config' not found"
mkdir -p "$study/logs"
study=$(cd "$study" && pwd)
read -ra ratio_list <<<"$ratios"
export SCALE_MODE="$mode" SCALE_BATCH_KEY="$batch_key" SCALE_BATCH="$batch" \
  SCALE_STEPS="$steps" SCALE_MB="$mb" SDZ_ROOT="$root"
prev=""
read -ra extra <<<"$more"
for size in ${nodes:-$tasks}; do
  opts=(--parsable --array=set-below -o "$study/logs/%x-%A_%a.out")
  if [[ -n "$nodes" ]]; then
    opts+=(-N "$size")
    [[ -z "$per_node" ]] || opts+=(--ntasks-per-node="$per_node")
    [[ -z "$gpus" ]] || opts+=(--gpus-per-node="$gpus")
  else
    opts+=(-N 1 -n "$size")
  fi
  [[ -z "$prev" || "$serial" == 0 ]] || opts+=(--dependency="afterany:$prev")
  # Only the ratios that give every role a rank at this size (sbatch copies the environment now).
  ranks=$size
  [[ -z "$nodes" ]] || ranks=$((size * ${per_node:-1}))
  ok=()
  for ratio in "${ratio_list[@]}"; do
    if [[ "$ratio" == colocated ]] || (sdz_ratio_counts "$ratio" "$ranks" >/dev/null 2>&1); then ok+=("$ratio"); fi
  done
  if [[ ${#ok[@]} -eq 0 ]]; then
    echo "skipped ${size}: no ratio of '$ratios' fits $ranks rank(s)"
    continue
  fi
  export SCALE_RATIOS="${ok[*]}"
  opts[1]="--array=0-$((${#ok[@]} - 1))"
  ((serial == 0)) || opts[1]+="%1"
  id=$(sbatch "${opts[@]}" "${extra[@]}" "$root/slurm/scaling.sh" --worker "$study" "$config" "$@")
  id=${id%%;*}
  echo "submitted $id: ${nodes:+$size node(s)}${tasks:+$size task(s)}, ratios ${ok[*]}"
  prev=$id
done
