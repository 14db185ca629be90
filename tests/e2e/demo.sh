#!/usr/bin/env bash
# sdz-labels: e2e
# sdz-timeout: 900
# A shortened built-in demo: the base is pretrained and picked, every method post-trains it with the
# same generation budget, the table is written, its numbers equal results.jsonl, and a second run
# reuses the cached base.
source "$(dirname "$0")/_lib.sh"
short=(--run.dir="$scratch/demo" --run.threads=1 --demo.pretrain_steps=300 --demo.pick_every=100
       --demo.pick_questions=40 --demo.budget=128 --data.eval_size=40 --demo.methods=rft,grpo,sdzero,sdft)
"$SDZERO" demo "${short[@]}" > "$scratch/demo.log" 2>&1 || { cat "$scratch/demo.log"; fail "demo failed"; }
grep -q "demo: pretraining the base model" "$scratch/demo.log" || fail "no pretraining stage"
grep -q "demo: base after 100 steps" "$scratch/demo.log" || fail "the base was never evaluated for the band"
for m in rft grpo sdzero sdft; do
  grep -q "demo: post-training the base with $m" "$scratch/demo.log" || fail "stage $m did not run"
  [[ $m != sdzero ]] || grep -q "srt collect:" "$scratch/demo.log" || fail "SD-Zero ran without SRT collection"
  [[ -s "$scratch/demo/$m/metrics.jsonl" ]] || fail "$m wrote no metrics"
done
[[ -s "$scratch/demo/base/model.safetensors" ]] || fail "the base was not cached"
python3 - "$scratch/demo" <<'PY'
import json, re, sys
d = sys.argv[1]
rows = [json.loads(l) for l in open(d + "/results.jsonl")]
assert [r["model"] for r in rows] == ["base", "rft", "grpo", "srt", "sdzero", "sdft"], rows
# Same budget for every method, proved by its own budget counter (sdzero: SRT half + phase-2 half).
for r in rows[1:]:
    if r["model"] == "srt":
        assert 0 < r["generations"] <= 64, r
        continue
    assert r["generations"] == 128, r
    last = [json.loads(l) for l in open(f"{d}/{r['model']}/metrics.jsonl")][-1]
    phase1 = next(x for x in rows if x["model"] == "srt")["generations"] if r["model"] == "sdzero" else 0
    assert last["budget/generations"] + phase1 == 128, (r["model"], last["budget/generations"], phase1)
assert sum(1 for _ in open(d + "/sdzero/srt_run/srt_traces.jsonl")) >= 0
# The table is the JSON rendered: same numbers.
table = {}
for line in open(d + "/results.md"):
    m = re.match(r"\| (\w+) \| ([\d.]+) \| ([\d.]+) \| ([\d.]+) \|", line)
    if m: table[m.group(1)] = [float(x) for x in m.groups()[1:]]
for r in rows:
    want = [round(100 * r["greedy"], 1), round(100 * r["avg_at_k"], 1), round(100 * r["pass_at_k"], 1)]
    assert table[r["model"]] == want, (r["model"], table[r["model"]], want)
print("demo table:", table)
PY
# A second run reuses the base instead of pretraining again.
"$SDZERO" demo "${short[@]}" --demo.methods=rft > "$scratch/demo2.log" 2>&1 || { cat "$scratch/demo2.log"; fail "second demo failed"; }
grep -q "demo: reusing the base model" "$scratch/demo2.log" || fail "the cached base was not reused"
echo "demo: ok"
