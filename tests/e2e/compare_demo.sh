#!/usr/bin/env bash
# sdz-labels: e2e
# sdz-timeout: 60
# tools/compare-demo on two hand-written runs: each run's rate is its best mean validation (ties to
# the smaller rate), a later run's rows replace an earlier one's, differences are paired by seed
# (a seed only one side has is not paired), and mean, standard error and "ahead" equal the
# hand-computed values; a broken line and a missing reference model are refused by name.
source "$(dirname "$0")/_lib.sh"
tool="$SDZ_SOURCE_DIR/tools/compare-demo"
# row MODEL SEED LR VAL TEST [HINDSIGHT]
row() {
  local h=""
  [[ $# -ge 6 ]] && h=", \"hindsight\": {\"difference\": $6}"
  echo "{\"model\": \"$1\", \"seed\": $2, \"lr\": $3, \"val_avg_at_k\": $4, \"test\": {\"sampling\": {\"avg_at_k\": $5}$h}}"
}
mkdir -p "$scratch/a" "$scratch/b"
{
  for s in 1 2 3; do row base $s 0 0.3 "0.$((s + 2))0" 0.1; done
  # rft: 3e-4 validates better (0.55 against 0.5); seed 4 has no SD-Zero row to pair with.
  row rft 1 0.0001 0.5 0.50; row rft 2 0.0001 0.5 0.60; row rft 3 0.0001 0.5 0.70; row rft 4 0.0001 0.5 0.90
  row rft 1 0.0003 0.6 0.55; row rft 2 0.0003 0.4 0.45; row rft 3 0.0003 0.6 0.65; row rft 4 0.0003 0.6 0.20
  row sdzero 1 0.0001 0.7 0.60 0.2; row sdzero 2 0.0001 0.7 0.50 0.2; row sdzero 3 0.0001 0.7 0.80 0.2
  for s in 1 2 3; do row sdzero $s 0.0003 0.6 0.90; done
  echo '{"table": "claim", "model": "rft", "seeds": 3}'
} > "$scratch/a/results.jsonl"
{
  for s in 1 2 3; do row sdzero $s 0.0001 0.5 0.10; done
  row sdzero 1 0.0003 0.6 0.60; row sdzero 2 0.0003 0.6 0.70; row sdzero 3 0.0003 0.6 0.65
  # A tie: the smaller rate.
  for s in 1 2 3; do row srt $s 0.0001 0.5 0.40; row srt $s 0.0003 0.5 0.99; done
} > "$scratch/b/results.jsonl"

"$tool" "$scratch/a" --json > "$scratch/one.json" || fail "compare-demo on one run failed"
"$tool" "$scratch/a" "$scratch/b" --json > "$scratch/two.json" || fail "compare-demo on two runs failed"
python3 - "$scratch/one.json" "$scratch/two.json" <<'PY'
import json, sys
one, two = (json.load(open(p)) for p in sys.argv[1:])
close = lambda a, b: abs(a - b) < 1e-9
def model(res, m):
    return next(e for e in res["models"] if e["model"] == m)
# One run: SD-Zero at 1e-4 (60, 50, 80); RFT at 3e-4 (55, 45, 65; 20 on the unpaired seed 4).
assert [e["model"] for e in one["models"]] == ["base", "rft", "sdzero"], one
r = model(one, "rft")
assert r["seeds"] == 4 and r["lr"] == [0.0003] and close(r["avg_at_k"], 46.25) and r["hindsight"] is None, r
d = r["difference"]  # 5, 5, 15
assert d["paired"] == 3 and d["ahead"] == 3 and close(d["mean"], 25 / 3) and close(d["se"], 10 / 3), d
b = model(one, "base")["difference"]  # 30, 10, 30
assert close(b["mean"], 70 / 3) and close(b["se"], 20 / 3), b
assert close(model(one, "base")["hindsight"], 10.0) and close(model(one, "sdzero")["hindsight"], 20.0)
assert "difference" not in model(one, "sdzero")
# Two runs: the second run's SD-Zero (3e-4 there: 60, 70, 65) replaces the first's; srt ties to 1e-4.
s = model(two, "sdzero")
assert s["lr"] == [0.0003] and close(s["avg_at_k"], 65.0), s
d = model(two, "rft")["difference"]  # 5, 25, 0: the zero is not "ahead"
assert d["ahead"] == 2 and close(d["mean"], 10.0) and close(d["se"], (175 / 3) ** 0.5), d
t = model(two, "srt")
assert t["lr"] == [0.0001] and close(t["avg_at_k"], 40.0) and close(t["difference"]["mean"], 25.0), t
PY
table=$("$tool" "$scratch/a")
expect_contains "$table" "| rft | 4 | 0.0003 | 46.2 | - | +8.3 (3.3) | 3/3 |" "the markdown table"

echo '{"model": "rft", "seed": 1' >> "$scratch/b/results.jsonl"
if "$tool" "$scratch/a" "$scratch/b" > "$scratch/bad.log" 2>&1; then fail "a broken line was accepted"; fi
expect_contains "$(cat "$scratch/bad.log")" "b/results.jsonl:13: not a JSON line" "the broken line named"
if "$tool" "$scratch/a" --reference grpo > "$scratch/bad.log" 2>&1; then fail "a missing reference was accepted"; fi
expect_contains "$(cat "$scratch/bad.log")" "no 'grpo' rows" "the missing reference named"
echo "compare-demo: ok"
