#!/usr/bin/env bash
# sdz-labels: e2e
# `sdzero make-data` reproduces the shipped data/builtin files byte for byte, with no evaluation question
# among the training ones; every shipped worked
# solution and correction verifies through `sdzero verify` and no wrong attempt does.
source "$(dirname "$0")/_lib.sh"

"$SDZERO" make-data --out "$scratch/builtin" > "$scratch/log"
expect_contains "$(cat "$scratch/log")" "countdown.eval.jsonl: 32 questions" "make-data log"
diff -r "$SDZ_SOURCE_DIR/data/builtin" "$scratch/builtin" || fail "data/builtin differs from make-data output"
# Held-out means unseen: no evaluation question is a Q1/Q2 question (div has only 320 questions).
python3 - "$scratch/builtin" <<'PY' || fail "an evaluation question is also a training question"
import json, sys
for t in ("div", "cd", "mul", "arith", "countdown"):
    train = {json.loads(l)["question"] for s in ("q1", "q2") for l in open(f"{sys.argv[1]}/{t}.{s}.jsonl")}
    both = [q for l in open(f"{sys.argv[1]}/{t}.eval.jsonl") if (q := json.loads(l)["question"]) in train]
    assert not both, (t, both[:5])
PY

# Knobs change the questions; a bad knob is an error naming the key.
"$SDZERO" make-data --out "$scratch/k" --tasks mul --q1 3 --q2 0 --eval 0 --data.mul_digits=7 > /dev/null
q=$(head -1 "$scratch/k/mul.q1.jsonl" | python3 -c 'import json,sys; print(json.loads(sys.stdin.read())["question"])')
[[ "$q" =~ ^[0-9]{7}\*[0-9]$ ]] || fail "data.mul_digits=7 gave '$q'"
if err=$("$SDZERO" make-data --out "$scratch/k" --data.mul_digits=99 2>&1); then fail "bad knob accepted"; fi
expect_contains "$err" "data.mul_digits" "bad knob names its key"

python3 - "$SDZ_SOURCE_DIR/data/builtin" > "$scratch/in.jsonl" <<'PY'
import glob, json, sys
for path in sorted(glob.glob(sys.argv[1] + "/*.jsonl")):
    for line in open(path):
        r = json.loads(line)
        for field in ("solution", "wrong", "correction"):
            print(json.dumps({"kind": r["kind"], "response": r[field], "answer": r["answer"], "_want": field != "wrong"}))
PY
"$SDZERO" verify --in "$scratch/in.jsonl" > "$scratch/out.jsonl"
python3 - "$scratch/in.jsonl" "$scratch/out.jsonl" <<'PY'
import json, sys
ins = [json.loads(l) for l in open(sys.argv[1])]
outs = [json.loads(l) for l in open(sys.argv[2])]
assert len(ins) == len(outs), (len(ins), len(outs))
bad = [(i["kind"], i["response"], o) for i, o in zip(ins, outs) if (o["reward"] == 1.0) != i["_want"]]
assert not bad, bad[:5]
print("checked", len(ins))
PY
