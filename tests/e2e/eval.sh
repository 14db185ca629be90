#!/usr/bin/env bash
# sdz-labels: e2e,mpi
# sdz-timeout: 300
# `sdzero eval` on a tiny model trained for a few steps on the mul task: eval.json has every key and
# consistent numbers (avg@k <= pass@k, rates in [0, 1], revised = first + (fixed - broken)/attempts,
# hindsight n = failed first attempts), samples.jsonl recomputes them per question, localization.jsonl has one line per response with as many
# scores as tokens, the plot is drawn; 2 ranks give the same numbers as 1 (keyed sampling); the
# run's checkpoint gives the same numbers as its saved final policy (and an explicit --teacher with the
# same weights the same localization); bad input fails clearly.
source "$(dirname "$0")/_lib.sh"
cfg="$SDZ_SOURCE_DIR/configs/tiny.ini"
mpi=(mpirun --oversubscribe --bind-to none)

# A tiny model on mul: 4 steps, checkpoint at the last one (same weights as run/final).
"$SDZERO" train --config "$cfg" --data.task=mul --train.steps=4 --ckpt.every_steps=4 --run.threads=1 \
  --method.max_new_tokens=48 --run.dir="$scratch/run" > "$scratch/train.log" 2>&1 || { cat "$scratch/train.log"; fail "train"; }
"$SDZERO" make-data --tasks mul --q1 0 --q2 0 --eval 12 --out "$scratch/data" > /dev/null || fail "make-data"
data="$scratch/data/mul.eval.jsonl"

ev=(eval --data "$data" --k 4 --revise --localization --samples --run.threads=1)
"$SDZERO" "${ev[@]}" --model "$scratch/run/final" --out "$scratch/e1" > "$scratch/e1.log" 2>&1 \
  || { cat "$scratch/e1.log"; fail "eval on 1 rank"; }
expect_contains "$(cat "$scratch/e1.log")" "configuration: the keys the run set" "the run's config.ini was not used"
expect_contains "$(cat "$scratch/e1.log")" "hindsight (n =" "the table has no hindsight row"
expect_contains "$(cat "$scratch/e1.log")" "eval samples" "no progress line for the sampling phase"
expect_contains "$(cat "$scratch/e1.log")" "eval revisions" "no progress line for the revisions"
"${mpi[@]}" -np 2 "$SDZERO" "${ev[@]}" --model "$scratch/run/final" --out "$scratch/e2" > "$scratch/e2.log" 2>&1 \
  || { cat "$scratch/e2.log"; fail "eval on 2 ranks"; }
ls "$scratch/run/checkpoints/"*.h5 > /dev/null 2>&1 || fail "the training run wrote no checkpoint"
"$SDZERO" "${ev[@]}" --model "$scratch/run" --teacher "$scratch/run/final" --out "$scratch/e3" > "$scratch/e3.log" 2>&1 \
  || { cat "$scratch/e3.log"; fail "eval of the run's checkpoint"; }

python3 - "$scratch" <<'PY'
import json, sys
base = sys.argv[1]
def load(d): return json.load(open(f"{base}/{d}/eval.json"))
e = load("e1")
for k in ["model", "data", "protocol", "sampling", "revision", "hindsight", "localization", "generated_tokens"]:
    assert k in e, k
s = e["sampling"]
for k in ["questions", "samples", "k", "avg_at_k", "pass_at_k", "greedy", "mean_length", "self_revision_rate"]:
    assert k in s, k
assert s["questions"] == 12 and s["k"] == 4 and s["samples"] == 48, s
assert 0 <= s["avg_at_k"] <= s["pass_at_k"] <= 1, s
for k in ["greedy", "self_revision_rate"]:
    assert 0 <= s[k] <= 1, (k, s[k])
assert 1 <= s["mean_length"] <= 48, s
for row in ["oracle", "rephrase"]:
    r = e["revision"][row]
    assert r["cue"] == row and r["attempts"] == 12, r
    assert r["wrong_first"] + r["right_first"] == r["attempts"], r
    for k in ["first_accuracy", "revised_accuracy", "correction_rate", "breakage_rate"]:
        assert 0 <= r[k] <= 1, (row, k, r[k])
    assert abs(r["revised_accuracy"] - (r["first_accuracy"] + (r["fixed"] - r["broken"]) / r["attempts"])) < 1e-9, r
h = e["hindsight"]
assert h["n"] == e["revision"]["oracle"]["wrong_first"], (h, e["revision"])
assert h["revisions"] == 3 * h["n"] and h["fresh_samples"] == 3 * h["n"], h
assert abs(h["difference"] - (h["revision_accuracy"] - h["fresh_accuracy"])) < 1e-9, h
assert h["difference_stderr"] >= 0, h
l = e["localization"]
assert l["wrong"] + l["correct"] == 12, l
assert 0 <= l["located"] <= l["wrong"], l
for k in ["wrong_top_share", "correct_top_share", "argmax_hit_rate", "argmax_hit_chance"]:
    assert 0 <= l[k] <= 1, (k, l[k])
lines = [json.loads(x) for x in open(f"{base}/e1/localization.jsonl")]
assert len(lines) == 12, len(lines)
located = 0
for r in lines:
    assert len(r["tokens"]) == len(r["scores"]) > 0, r
    assert -1 <= r["first_error"] <= len(r["tokens"]), r
    if not r["correct"] and r["first_error"] >= 0:
        located += 1
assert located == l["located"], (located, l)
# Keyed sampling: the same numbers on 2 ranks, and from the run's checkpoint (same weights).
assert load("e3")["localization"]["teacher"].endswith("run/final"), load("e3")["localization"]
# Counts are sums of doubles in rank order: equal up to rounding in the last bits.
def same(a, b, where):
    if isinstance(a, dict):
        assert isinstance(b, dict) and a.keys() == b.keys(), (where, a, b)
        for k in a: same(a[k], b[k], f"{where}.{k}")
    elif isinstance(a, float) or isinstance(b, float):
        assert abs(a - b) <= 1e-12 * max(1.0, abs(a)), (where, a, b)
    else:
        assert a == b, (where, a, b)
strip = lambda j: {k: v for k, v in j.items() if k not in ("seconds", "model", "protocol")}
for other in ["e2", "e3"]:
    o = load(other)
    o["localization"].pop("plot", None); e["localization"].pop("plot", None)
    o["localization"].pop("teacher", None); e["localization"].pop("teacher", None)
    same(strip(o), strip(e), other)
assert [json.loads(x) for x in open(f"{base}/e2/localization.jsonl")] == lines
# --samples: one line per question in file order, and the counts of eval.json recomputed from them.
qs = [json.loads(x) for x in open(f"{base}/e1/samples.jsonl")]
assert [q["index"] for q in qs] == list(range(12)), [q["index"] for q in qs]
assert all(len(q["samples"]) >= 4 and q["question"] for q in qs), qs[0]
mean = lambda xs: sum(xs) / len(xs)
assert abs(mean([r["reward"] for q in qs for r in q["samples"][:4]]) - s["avg_at_k"]) < 1e-9, s
assert abs(mean([q["greedy"]["reward"] for q in qs]) - s["greedy"]) < 1e-9, s
failed = [q for q in qs if q["samples"][0]["reward"] == 0]
assert len(failed) == h["n"], (len(failed), h)
assert all(len(q["revisions"]["wrong"]) == 3 for q in failed), failed[:1]
if failed:
    assert abs(mean([r["reward"] for q in failed for r in q["revisions"]["wrong"]]) - h["revision_accuracy"]) < 1e-9, h
    assert abs(mean([r["reward"] for q in failed for r in q["samples"][1:4]]) - h["fresh_accuracy"]) < 1e-9, h
    same = lambda q, rs: [r["text"] == q["samples"][0]["text"] for r in rs]
    assert abs(mean([x for q in failed for x in same(q, q["revisions"]["wrong"])]) - h["revision_repeat_rate"]) < 1e-9, h
    assert abs(mean([x for q in failed for x in same(q, q["samples"][1:4])]) - h["fresh_repeat_rate"]) < 1e-9, h
assert all(len(q["revisions"]["correct"]) == 1 for q in qs), qs[0]  # the rephrase row revises every attempt
assert [json.loads(x) for x in open(f"{base}/e2/samples.jsonl")] == qs, "2 ranks wrote other samples"
print("eval:", json.dumps(s), json.dumps(h))
PY
[[ -s "$scratch/e1/localization.png" ]] || fail "no localization plot (python3-matplotlib installed?)"

# Bad input: clear errors, no crash.
if "$SDZERO" eval --model "$scratch/nope" --data "$data" > "$scratch/bad.log" 2>&1; then fail "a missing model was accepted"; fi
expect_contains "$(cat "$scratch/bad.log")" "no such model directory or checkpoint" "missing model"
echo '{"question": ' > "$scratch/broken.jsonl"
if "$SDZERO" eval --model "$scratch/run/final" --data "$scratch/broken.jsonl" > "$scratch/bad2.log" 2>&1; then
  fail "a broken data file was accepted"
fi
expect_contains "$(cat "$scratch/bad2.log")" "broken.jsonl:1" "broken data file"
if "$SDZERO" eval --model "$scratch/run/final" --data "$data" --k 0 > "$scratch/bad3.log" 2>&1; then fail "--k 0 accepted"; fi
expect_contains "$(cat "$scratch/bad3.log")" "--k" "--k 0"
echo "eval: ok"
