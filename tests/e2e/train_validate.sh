#!/usr/bin/env bash
# sdz-labels: e2e,mpi
# train.validate_every: every K steps one sample per held-out question with the current policy,
# validation/reward in metrics.jsonl; teacher.update = plateau syncs the teacher after validations
# without a gain. The same figures on a colocated and a split (2 rollout + 1 teacher + 1 learner)
# layout, and clear refusals of plateau without validations and of validation with async.
source "$(dirname "$0")/_lib.sh"
mpi=(mpirun --oversubscribe --bind-to none)
common=(--config "$SDZ_SOURCE_DIR/configs/tiny.ini" --method.name=sdzero --train.steps=4 --run.threads=1 --train.validate_every=1
        --train.validate_questions=16 --teacher.update=plateau --teacher.plateau_min_delta=1.0)
"$SDZERO" train "${common[@]}" --run.dir="$scratch/co" > "$scratch/co.log" 2>&1 || { cat "$scratch/co.log"; fail "colocated run"; }
"${mpi[@]}" -np 4 "$SDZERO" train "${common[@]}" --run.dir="$scratch/split" --layout.mode=split \
  --layout.rollout=2 --layout.teacher=1 --layout.learner=1 > "$scratch/split.log" 2>&1 || { cat "$scratch/split.log"; fail "split run"; }
python3 - "$scratch/co/metrics.jsonl" "$scratch/split/metrics.jsonl" <<'PY'
import json, sys
runs = [[json.loads(l) for l in open(p)] for p in sys.argv[1:]]
for rows in runs:
    assert len(rows) == 4, len(rows)
    v = [r["validation/reward"] for r in rows]
    assert all(0.0 <= x <= 1.0 for x in v), v
    # min_delta 1.0: only the first validation counts as a gain, each later one is stale, so with
    # patience 1 the teacher syncs at every step after the second: syncs 0, 0, 1, 2.
    assert [r["teacher/syncs"] for r in rows] == [0, 0, 1, 2], [r["teacher/syncs"] for r in rows]
    tok = [r["validation/generated_tokens"] for r in rows]
    assert all(t >= 16 for t in tok), tok  # one answer of at least one token per question
# Validation samples are keyed by question and step, not by rank: both layouts generate the same
# answers (same token counts, as the policy changes step by step) and see the same rewards.
for key in ("validation/reward", "validation/generated_tokens"):
    assert [r[key] for r in runs[0]] == [r[key] for r in runs[1]], (key, runs)
assert len(set(r["validation/generated_tokens"] for r in runs[0])) > 1, "the policy did not change between validations?"
print("validation ok:", [(r["validation/reward"], r["validation/generated_tokens"]) for r in runs[0]])
PY
# plateau without validations would never sync: refused by name.
if "$SDZERO" train --config "$SDZ_SOURCE_DIR/configs/tiny.ini" --method.name=sdzero --teacher.update=plateau \
   --train.steps=1 --run.dir="$scratch/bad" 2> "$scratch/bad.err"; then fail "plateau without validation accepted"; fi
grep -q "train.validate_every" "$scratch/bad.err" || fail "unclear error: $(cat "$scratch/bad.err")"
if "$SDZERO" train --config "$SDZ_SOURCE_DIR/configs/tiny.ini" --method.name=sdzero --train.validate_every=1 \
   --dist.max_staleness=1 --train.steps=1 --run.dir="$scratch/bad2" 2> "$scratch/bad2.err"; then fail "async validation accepted"; fi
grep -q "train.validate_every" "$scratch/bad2.err" || fail "unclear error: $(cat "$scratch/bad2.err")"
echo "train_validate: ok"
