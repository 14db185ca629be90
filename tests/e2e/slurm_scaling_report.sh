#!/usr/bin/env bash
# sdz-labels: e2e,slurm
# sdz-timeout: 300
# tools/scaling-report on (1) a hand-made study whose throughput, efficiency, phase means and best
# layout are known, (2) broken studies (clear errors naming the file), and (3) a real local mpirun
# study from tools/local-scaling.sh (1, 2, 3 ranks; colocated and 1:1:1).
source "$(dirname "$0")/_lib.sh"
src=${SDZ_SOURCE_DIR:?}
report="$src/tools/scaling-report"

# (1) Known numbers. Each run: step 0 is warm-up (skipped), steps 1-2 measured.
mk() { # mk DIR RANKS LAYOUT_JSON TOKENS_PER_S T_GENERATE T_LEARN
  mkdir -p "$scratch/known/$1"
  printf '{"ranks":%d,"layout":%s,"mode":"strong"}\n' "$2" "$3" >"$scratch/known/$1/run.json"
  {
    printf '{"step":0,"tokens_per_s":1,"t_generate":99,"t_learn":99}\n'
    printf '{"step":1,"tokens_per_s":%s,"t_generate":%s,"t_learn":%s}\n' "$4" "$5" "$6"
    printf '{"step":2,"tokens_per_s":%s,"t_generate":%s,"t_learn":%s}\n' "$4" "$5" "$6"
  } >"$scratch/known/$1/metrics.jsonl"
}
mk a1 1 '"colocated"' 100 3 1
mk a2 2 '"colocated"' 180 2 0.5
mk a3 3 '"colocated"' 210 1.5 0.5
mk b3 3 '{"rollout":1,"teacher":1,"learner":1}' 240 1 0.25
/usr/bin/python3 "$report" "$scratch/known" >/dev/null || fail "report on the known study failed"
/usr/bin/python3 - "$scratch/known/report.json" <<'PY' || fail "known-study numbers"
import json, sys
r = json.load(open(sys.argv[1]))
runs = {x["name"]: x for x in r["runs"]}
def near(a, b, what):
    if abs(a - b) > 1e-9 * max(1, abs(b)):
        sys.exit("%s: got %r, expected %r" % (what, a, b))
near(runs["a1"]["throughput"], 100, "a1 throughput (warm-up step skipped)")
near(runs["a2"]["efficiency"], 0.9, "a2 efficiency = 180/2 / 100")
near(runs["b3"]["efficiency"], 0.8, "b3 efficiency = 240/3 / 100")
near(runs["a3"]["speedup"], 2.1, "a3 speed-up")
near(runs["b3"]["step_time"], 1.25, "b3 step time = sum of phases")
near(runs["a1"]["phases"]["t_generate"], 3, "a1 t_generate mean")
b = r["best"]["strong"]
assert b["3"]["layout"] == "1:1:1", b
assert b["2"]["layout"] == "colocated", b
print("known study: ok")
PY
expect_contains "$(cat "$scratch/known/report.md")" "| b3 | strong | 3 | 1 | 1:1:1 | 240 | 2.40 | 80% | 1.25 | 1.00 | 0.25 |" "markdown row"

# (2) Broken studies fail with the file named.
mkdir -p "$scratch/bad/r1"
echo '{"ranks":1}' >"$scratch/bad/r1/run.json"
set +e
err=$(/usr/bin/python3 "$report" "$scratch/bad" 2>&1)
rc=$?
set -e
[[ $rc -ne 0 ]] || fail "a run without metrics was accepted"
expect_contains "$err" "r1: run.json but no metrics.jsonl" "missing metrics message"
printf '{"step":0,"tokens_per_s":5}\n{"step":1,\n' >"$scratch/bad/r1/metrics.jsonl"
set +e
err=$(/usr/bin/python3 "$report" "$scratch/bad" 2>&1)
set -e
expect_contains "$err" "r1/metrics.jsonl:2:" "bad JSON line named by file:line"
set +e
err=$(/usr/bin/python3 "$report" "$scratch/empty-does-not-exist" 2>&1)
set -e
expect_contains "$err" "no study directory" "missing study directory"

# (3) A real local study with mpirun.
"$src/tools/local-scaling.sh" --out "$scratch/local" --command mpi-check --np "1 2 3" --ratios "colocated 1:1:1" \
  --steps 1 --mb 5 -- "$src/configs/default.ini" 2>"$scratch/local.err" || fail "local study failed: $(cat "$scratch/local.err")"
expect_contains "$(cat "$scratch/local.err")" "skipping 2 rank(s) x 1:1:1" "ratios that do not fit are skipped"
out=$(/usr/bin/python3 "$report" "$scratch/local") || fail "report on the local study failed"
expect_contains "$out" "4 runs" "local study run count"
expect_contains "$(cat "$scratch/local/report.md")" "| strong_np3_1-1-1 | strong | 3 | 1 | 1:1:1 |" "local table row"
for p in throughput efficiency phases layouts; do
  [[ "$(head -c 8 "$scratch/local/plots/$p.png" | od -An -tx1 | tr -d ' \n')" == 89504e470d0a1a0a ]] || fail "plots/$p.png is not a PNG"
done
echo "slurm_scaling_report: ok"
