#!/usr/bin/env bash
# sdz-labels: e2e,slurm
# sdz-timeout: 400
# A small scaling study on a real one-node Slurm cluster: slurm/scaling.sh submits one job array per
# size (1, 2, 3 tasks; ratios colocated and 1:1:1 where they fit), one job at a time (--serial);
# every element writes its run.json + metrics.jsonl into the study directory, and tools/scaling-report
# turns it into a table and four PNG plots. Payload: `sdzero mpi-check` (weight-sync broadcast).
source "$(dirname "$0")/_lib.sh"
src=${SDZ_SOURCE_DIR:?}
cluster="$scratch/cluster"
trap '"$src/tools/slurm-local.sh" stop "$cluster" || true; rm -rf "$scratch"' EXIT
eval "$("$src/tools/slurm-local.sh" start "$cluster")"
export SDZERO SDZ_ROOT="$src" SDZ_COMMAND=mpi-check
cd "$src"
study="$scratch/study"

sub=$(slurm/scaling.sh --tasks "1 2 3" --ratios "colocated 1:1:1" --steps 1 --mb 5 --serial -- "$study" configs/default.ini)
echo "$sub"
expect_contains "$sub" "1 task(s), ratios colocated" "1:1:1 is not submitted for one task"
expect_contains "$sub" "3 task(s), ratios colocated 1:1:1" "both ratios for three tasks"
for id in $(sed -n 's/^submitted \([0-9]*\):.*/\1/p' <<<"$sub"); do
  state=$("$src/tools/slurm-local.sh" wait-job "$cluster" "$id" 240) ||
    fail "array job $id ended $state: $(cat "$study"/logs/*.out)"
done
for run in strong_np1_colocated strong_np2_colocated strong_np3_colocated strong_np3_1-1-1; do
  [[ -f "$study/$run/run.json" ]] || fail "no $run/run.json"
  [[ $(wc -l <"$study/$run/metrics.jsonl") -eq 1 ]] || fail "$run: expected 1 metrics line"
done
expect_contains "$(cat "$study/strong_np3_1-1-1/run.json")" '"layout":{"rollout":1,"teacher":1,"learner":1}' "layout in run.json"
expect_contains "$(cat "$study/strong_np3_1-1-1/metrics.jsonl")" '"layout": "rollout 1 + teacher 1 + learner 1"' "the job ran the split layout"

report=$(/usr/bin/python3 "$src/tools/scaling-report" "$study") || fail "scaling-report failed"
expect_contains "$report" "4 runs" "report run count"
md=$(cat "$study/report.md")
expect_contains "$md" "| strong_np3_1-1-1 | strong | 3 | 1 | 1:1:1 |" "table row of the split layout"
expect_contains "$md" "strong, 3 ranks:" "best layout at 3 ranks"
for p in throughput efficiency phases layouts; do
  [[ "$(head -c 8 "$study/plots/$p.png" | od -An -tx1 | tr -d ' \n')" == 89504e470d0a1a0a ]] || fail "plots/$p.png is not a PNG"
done
echo "slurm_scaling: ok"
