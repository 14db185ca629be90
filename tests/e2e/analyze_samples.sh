#!/usr/bin/env bash
# sdz-labels: e2e
# sdz-timeout: 60
# tools/analyze-samples on a hand-written samples.jsonl (the format `sdzero eval --revise --samples`
# writes): each failed first attempt lands in its kind, and the per-kind accuracies and repeat rates
# equal the hand-computed ones; a file without revisions is refused with the question named.
source "$(dirname "$0")/_lib.sh"
tool="$SDZ_SOURCE_DIR/tools/analyze-samples"
s() { printf '{"text": "%s", "reward": %s}' "$1" "$2"; }
{
  # Right first: not counted.
  echo "{\"index\": 0, \"question\": \"3,7,2>21\", \"samples\": [$(s 3*7=21 1), $(s 3*7=21 1), $(s 3+7=10 0)], \"revisions\": {\"correct\": [$(s 3*7=21 1)]}}"
  # A false claim; one revision right, one repeats it; fresh: one repeat (7+3 is another a op b), one right.
  echo "{\"index\": 1, \"question\": \"3,7,2>21\", \"samples\": [$(s 3+7=21 0), $(s 3+7=21 0), $(s 7*3=21 1)], \"revisions\": {\"wrong\": [$(s 3*7=21 1), $(s 3+7=21 0)]}}"
  # div: a true miss, then right twice after the cue and once fresh.
  echo "{\"index\": 2, \"question\": \"456/8\", \"samples\": [$(s 56*8=448 0), $(s 57*8=456 1), $(s 56*8=448 0)], \"revisions\": {\"wrong\": [$(s 57*8=456 1), $(s 57*8=456 1)]}}"
  # Operands not given (9), a false value (a slip), no equation.
  echo "{\"index\": 3, \"question\": \"3,7,2>21\", \"samples\": [$(s 9*2=18 0), $(s x 0), $(s x 0)], \"revisions\": {\"wrong\": [$(s x 0), $(s 3*7=21 1)]}}"
  echo "{\"index\": 4, \"question\": \"3,7,2>21\", \"samples\": [$(s 3*7=24 0), $(s 3*7=21 1), $(s 3*7=21 1)], \"revisions\": {\"wrong\": [$(s 3*7=21 1), $(s 3*7=21 1)]}}"
  echo "{\"index\": 5, \"question\": \"3,7,2>21\", \"samples\": [$(s 'no idea' 0), $(s x 0), $(s x 0)], \"revisions\": {\"wrong\": [$(s x 0), $(s x 0)]}}"
} > "$scratch/samples.jsonl"
"$tool" "$scratch/samples.jsonl" --json > "$scratch/out.json" || fail "analyze-samples failed"
python3 - "$scratch/out.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
assert r["questions"] == 6 and r["failed"] == 5, r
k = r["kinds"]
assert set(k) == {"false claim", "true miss", "operands", "false value", "unparsed"}, k.keys()
want = {"false claim": (1, 0.5, 0.5, 0.5, 0.5), "true miss": (1, 1.0, 0.5, 0.0, 0.5),
        "operands": (1, 0.5, 0.0, 0.0, 0.0), "false value": (1, 1.0, 1.0, 1.0, 1.0), "unparsed": (1, 0.0, 0.0, 0.0, 0.0)}
for name, (n, rev, fresh, rrep, frep) in want.items():
    got = k[name]
    assert (got["n"], got["revision_accuracy"], got["fresh_accuracy"], got["revision_repeats"], got["fresh_repeats"]) \
        == (n, rev, fresh, rrep, frep), (name, got)
    assert abs(got["share"] - 0.2) < 1e-12, got
PY
table=$("$tool" "$scratch/samples.jsonl")
expect_contains "$table" "| false claim | 1 | 20.0% | 50.0 | 50.0 | 50.0% | 50.0% |" "the markdown table"
echo "{\"index\": 7, \"question\": \"3,7,2>21\", \"samples\": [$(s 3+7=10 0)]}" > "$scratch/norev.jsonl"
if "$tool" "$scratch/norev.jsonl" > "$scratch/bad.log" 2>&1; then fail "a file without revisions was accepted"; fi
expect_contains "$(cat "$scratch/bad.log")" "question 7: no revisions" "missing revisions"
echo "analyze-samples: ok"
