#!/usr/bin/env bash
# A scaling study on one machine with mpirun, in the same study-directory format as slurm/scaling.sh,
# so tools/scaling-report reads both.
#   tools/local-scaling.sh --out STUDY [--np "1 2 3"] [--ratios "colocated 1:1:1"] [--mode strong|weak]
#       [--command train|mpi-check] [--batch-key KEY --batch N] [--steps S] [--mb MB] -- CONFIG [--k=v ...]
# Each (np, ratio) pair runs once, one after the other (never two at a time: they would share cores),
# in STUDY/<mode>_np<N>_<ratio>/ with run.json (ranks, layout, mode, threads) and metrics.jsonl.
#   train:      `sdzero train` writes metrics.jsonl itself (--run.dir is the run's directory).
#               strong: KEY = N for every run; weak: KEY = N x ranks (fixed work per rank).
#   mpi-check:  the weight-sync broadcast (learner root -> all) of an MB MiB model, --steps times; each
#               try's JSON line becomes one metrics line (t_sync, weight_sync_gb_per_s). Weak: MB x ranks.
#               --mb "5 20 100" sweeps sizes (directories get an _<MB>mb suffix): tools/perfmodel
#               validate-sync fits its weight-sync model on such a sweep.
# A ratio R:T:L is turned into layout counts for N ranks as slurm/lib.sh does; pairs that leave a
# role without a rank are skipped (and said so). Threads per rank: the machine's cores / ranks.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
# shellcheck source=slurm/lib.sh
source "$root/slurm/lib.sh"
die() { echo "local-scaling: $*" >&2; exit 2; }

out="" nps="1 2 3" ratios="colocated 1:1:1" mode=strong command=train batch_key="" batch="" steps=3 mb=20
while [[ $# -gt 0 ]]; do
  case "$1" in
    --out) out=$2; shift 2 ;;
    --np) nps=$2; shift 2 ;;
    --ratios) ratios=$2; shift 2 ;;
    --mode) mode=$2; shift 2 ;;
    --command) command=$2; shift 2 ;;
    --batch-key) batch_key=$2; shift 2 ;;
    --batch) batch=$2; shift 2 ;;
    --steps) steps=$2; shift 2 ;;
    --mb) mb=$2; shift 2 ;;
    --) shift; break ;;
    *) die "unknown option '$1' (see the header of tools/local-scaling.sh)" ;;
  esac
done
[[ -n "$out" ]] || die "--out STUDY is required"
[[ $# -ge 1 ]] || die "give the config after --: tools/local-scaling.sh --out STUDY -- CONFIG [--k=v ...]"
[[ "$mode" == strong || "$mode" == weak ]] || die "--mode must be strong or weak, not '$mode'"
[[ "$command" == train || "$command" == mpi-check ]] || die "--command must be train or mpi-check"
[[ -z "$batch_key" || -n "$batch" ]] || die "--batch-key needs --batch"
config=$1
shift
[[ -f "$config" ]] || die "config file '$config' not found"
sdzero=${SDZERO:-$root/build/sdzero}
[[ -x "$sdzero" ]] || die "no sdzero binary at '$sdzero' (build it, or export SDZERO)"
mkdir -p "$out"
cores=$(nproc)
mpirun_opts=(--oversubscribe --bind-to none -x OMP_WAIT_POLICY=passive)
[[ $(id -u) -ne 0 ]] || mpirun_opts+=(--allow-run-as-root)

read -ra mbs <<<"$mb"
[[ "$command" == mpi-check || ${#mbs[@]} -eq 1 ]] || die "--mb takes one size unless --command mpi-check"
for n in $nps; do
  for ratio in $ratios; do
    for size in "${mbs[@]}"; do
      layout_args=() layout_json='"colocated"'
      if [[ "$ratio" == colocated ]]; then
        layout_args=(--layout.mode=colocated)
      else
        if ! counts=$( (sdz_ratio_counts "$ratio" "$n") 2>/dev/null); then
          echo "local-scaling: skipping $n rank(s) x $ratio (a role would get no rank)" >&2
          continue
        fi
        read -r r t l <<<"$counts"
        layout_args=(--layout.mode=split --layout.rollout="$r" --layout.teacher="$t" --layout.learner="$l")
        layout_json="{\"rollout\":$r,\"teacher\":$t,\"learner\":$l}"
      fi
      tag="${mode}_np${n}_${ratio//:/-}"
      m=$size
      [[ "$mode" == strong ]] || m=$((size * n))
      [[ ${#mbs[@]} -eq 1 ]] || tag+="_${size}mb"
      dir="$out/$tag"
      rm -rf "$dir"
      mkdir -p "$dir"
      threads=$((cores / n))
      ((threads >= 1)) || threads=1
      key=tokens_per_s
      [[ "$command" == train ]] || key=weight_sync_gb_per_s
      printf '{"ranks":%d,"nodes":1,"gpus_per_node":0,"threads_per_rank":%d,"layout":%s,"mode":"%s","command":"%s","launcher":"mpirun","throughput_key":"%s"%s}\n' \
        "$n" "$threads" "$layout_json" "$mode" "$command" "$key" "$([[ "$command" == train ]] || echo ",\"mb\":$m")" >"$dir/run.json"
      echo "local-scaling: $tag ($n rank(s), $threads thread(s) each, $mode)" >&2
      if [[ "$command" == train ]]; then
        extra=()
        if [[ -n "$batch_key" ]]; then
          b=$batch
          [[ "$mode" == strong ]] || b=$((batch * n))
          extra+=("--$batch_key=$b")
        fi
        mpirun -np "$n" "${mpirun_opts[@]}" "$sdzero" train --config "$config" --run.dir="$dir" \
          --run.threads="$threads" "${layout_args[@]}" "${extra[@]}" "$@" >"$dir/stdout.log" 2>"$dir/stderr.log" ||
          die "run $tag failed: $(tail -n 5 "$dir/stderr.log")"
        [[ -s "$dir/metrics.jsonl" ]] || die "run $tag wrote no metrics.jsonl"
      else
        for ((s = 0; s < steps; ++s)); do
          line=$(mpirun -np "$n" "${mpirun_opts[@]}" "$sdzero" mpi-check --config "$config" --run.threads="$threads" \
            "${layout_args[@]}" --mb "$m" --repeat 2 "$@" 2>>"$dir/stderr.log") || die "run $tag failed: $(tail -n 5 "$dir/stderr.log")"
          /usr/bin/python3 -c '
import json, sys
o = json.loads(sys.argv[1])
print(json.dumps({"step": int(sys.argv[2]), "ranks": o["ranks"], "t_sync": o["broadcast_seconds"],
                  "weight_sync_gb_per_s": o["broadcast_gb_per_s"], "layout": o["layout"]}))' "$line" "$s" >>"$dir/metrics.jsonl"
        done
      fi
    done
  done
done
echo "local-scaling: study in $out (report: tools/scaling-report $out)" >&2
