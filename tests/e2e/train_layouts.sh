#!/usr/bin/env bash
# sdz-labels: e2e,mpi
# sdz-timeout: 600
# The same seed and config give the same trajectories and the same loss curve whatever the layout:
# colocated on 1 rank, split 1+1+1, split 2+1+1, and 1+1+2 (two data-parallel learners, checked
# bit-identical by the trainer after every step). Also: the run directory holds config.ini,
# metrics.jsonl (one record per step), samples.jsonl and the final policy, which loads again.
# GRPO: minibatches and DAPO's refill (grpo.refill_rounds) train the same on every layout.
source "$(dirname "$0")/_lib.sh"
cfg="$SDZ_SOURCE_DIR/configs/tiny.ini"
common=(--config "$cfg" --method.name=sdzero --train.steps=3 --train.questions_per_step=8 --run.threads=1)
mpi=(mpirun --oversubscribe --bind-to none)

"$SDZERO" train "${common[@]}" --run.dir="$scratch/c1" > "$scratch/c1.log" 2>&1 || { cat "$scratch/c1.log"; fail "colocated run"; }
"${mpi[@]}" -np 3 "$SDZERO" train "${common[@]}" --run.dir="$scratch/s111" --layout.mode=split \
  --layout.rollout=1 --layout.teacher=1 --layout.learner=1 > "$scratch/s111.log" 2>&1 || { cat "$scratch/s111.log"; fail "1+1+1 run"; }
"${mpi[@]}" -np 4 "$SDZERO" train "${common[@]}" --run.dir="$scratch/s211" --layout.mode=split \
  --layout.rollout=2 --layout.teacher=1 --layout.learner=1 > "$scratch/s211.log" 2>&1 || { cat "$scratch/s211.log"; fail "2+1+1 run"; }
"${mpi[@]}" -np 4 "$SDZERO" train "${common[@]}" --run.dir="$scratch/s112" --layout.mode=split \
  --layout.rollout=1 --layout.teacher=1 --layout.learner=2 > "$scratch/s112.log" 2>&1 || { cat "$scratch/s112.log"; fail "1+1+2 run"; }

for d in c1 s111 s211 s112; do
  for f in config.ini metrics.jsonl samples.jsonl final/config.json final/tokenizer.json; do
    [[ -s "$scratch/$d/$f" ]] || fail "$d: missing $f"
  done
  [[ $(wc -l < "$scratch/$d/metrics.jsonl") -eq 3 ]] || fail "$d: expected 3 metrics records"
done
grep -q '"learners":2' "$scratch/s112/metrics.jsonl" || fail "1+1+2 did not train on two learners"

# Same trajectories (generations, tokens, rewards) exactly; the loss within a float tolerance: the
# learners sum the same terms, but matmuls with other thread counts and batch splits round differently.
python3 - "$scratch" <<'PY'
import json, sys
base = sys.argv[1]
def load(d): return [json.loads(l) for l in open(f"{base}/{d}/metrics.jsonl")]
ref = load("c1")
for d in ["s111", "s211", "s112"]:
    for a, b in zip(ref, load(d)):
        for k in ["generations", "generated_tokens", "reward_mean", "kept"]:
            assert a[k] == b[k], (d, a["step"], k, a[k], b[k])
        assert abs(a["loss"] - b["loss"]) <= 1e-4 * max(1.0, abs(a["loss"])), (d, a["step"], a["loss"], b["loss"])
print("layouts agree:", [(r["step"], round(r["loss"], 6)) for r in ref])
PY

# The saved policy loads again and keeps training.
"$SDZERO" train --config "$cfg" --train.init="$scratch/c1/final" --train.steps=1 --run.dir="$scratch/again" \
  > "$scratch/again.log" 2>&1 || { cat "$scratch/again.log"; fail "training from a saved policy"; }
grep -q "model $scratch/c1/final" "$scratch/again.log" || fail "train.init was not used"

# GRPO minibatches (grpo.minibatches = 2): a slice of the step's questions per optimizer step, the same
# slices on 1 rank and on two data-parallel learners (same losses), and the clip acts, which it never
# does with one step per batch (ratio 1). A random tiny model earns no built-in reward, so an external
# verifier (reward.command) pays for any "5" in the response: about half the samples.
cat > "$scratch/five.py" <<'PY'
import json, sys
for line in sys.stdin:
    print(json.dumps({"reward": 1.0 if "5" in json.loads(line)["response"] else 0.0}), flush=True)
PY
grpo=(--config "$cfg" --method.name=grpo --train.steps=4 --run.threads=1 --reward.command="python3 -u $scratch/five.py")
"$SDZERO" train "${grpo[@]}" --grpo.minibatches=2 --run.dir="$scratch/mb1" > "$scratch/mb1.log" 2>&1 ||
  { cat "$scratch/mb1.log"; fail "grpo minibatches on 1 rank"; }
"${mpi[@]}" -np 3 "$SDZERO" train "${grpo[@]}" --grpo.minibatches=2 --layout.mode=split --layout.rollout=1 \
  --layout.teacher=0 --layout.learner=2 --run.dir="$scratch/mb2" > "$scratch/mb2.log" 2>&1 ||
  { cat "$scratch/mb2.log"; fail "grpo minibatches on 2 learners"; }
"$SDZERO" train "${grpo[@]}" --run.dir="$scratch/one" > "$scratch/one.log" 2>&1 || { cat "$scratch/one.log"; fail "grpo"; }
python3 - "$scratch" <<'PY' || fail "grpo minibatches"
import json, sys
d = sys.argv[1]
rec = {k: [json.loads(l) for l in open(f"{d}/{k}/metrics.jsonl")] for k in ("mb1", "mb2", "one")}
assert all(r["grpo/minibatches"] == 2 for r in rec["mb1"] + rec["mb2"]), "grpo/minibatches not recorded"
for a, b in zip(rec["mb1"], rec["mb2"]):
    assert abs(a["loss"] - b["loss"]) <= 1e-5 * max(1.0, abs(a["loss"])), ("layouts differ", a["step"], a["loss"], b["loss"])
assert any(r["loss"] != 0 for r in rec["mb1"]), "no group had mixed rewards: nothing was trained"
assert sum(r["grpo/clipped_tokens"] for r in rec["mb1"]) > 0, "the clip never acted with 2 minibatches"
assert sum(r["grpo/clipped_tokens"] for r in rec["one"]) == 0, "the clip acted with one step per batch (ratio 1)"
print("grpo minibatches:", [(r["step"], round(r["loss"], 6), r["grpo/clipped_tokens"]) for r in rec["mb1"]])
PY

# DAPO's refill (grpo.refill_rounds = 3): dropped all-equal groups are replaced by groups of fresh
# questions sampled within the step, the same on 1 rank and on two rollout ranks; every step trains
# questions_per_step groups unless the rounds ran out; each round's generations count against the
# budget (a budget of 40 stops the refill at 2 more questions); resume repeats the rounds exactly;
# async runs are refused.
refill=("${grpo[@]}" --grpo.refill_rounds=3)
"$SDZERO" train "${refill[@]}" --run.dir="$scratch/rf1" > "$scratch/rf1.log" 2>&1 || { cat "$scratch/rf1.log"; fail "refill on 1 rank"; }
"${mpi[@]}" -np 3 "$SDZERO" train "${refill[@]}" --layout.mode=split --layout.rollout=2 --layout.teacher=0 \
  --layout.learner=1 --run.dir="$scratch/rf2" > "$scratch/rf2.log" 2>&1 || { cat "$scratch/rf2.log"; fail "refill on 2 rollout ranks"; }
"$SDZERO" train "${refill[@]}" --budget.max_generations=40 --run.dir="$scratch/rf40" > "$scratch/rf40.log" 2>&1 ||
  { cat "$scratch/rf40.log"; fail "refill under a budget"; }
"$SDZERO" train "${refill[@]}" --train.steps=2 --ckpt.every_steps=2 --run.dir="$scratch/rfr" > "$scratch/rfr.log" 2>&1 ||
  { cat "$scratch/rfr.log"; fail "refill, first half"; }
"$SDZERO" train "${refill[@]}" --ckpt.every_steps=2 --ckpt.resume=auto --run.dir="$scratch/rfr" > "$scratch/rfr2.log" 2>&1 ||
  { cat "$scratch/rfr2.log"; fail "refill, resumed"; }
grep -q "resume: continuing after step 2" "$scratch/rfr2.log" || fail "the refill run did not resume"
# The progress line re-estimates its total from the generations steps really cost: the budget of 40
# first plans 2 steps of 32, then sees step 1 spend all 40 (a refilled step) and ends at 1/1.
grep -q "train grpo  1/1 (100.0%)" "$scratch/rf40.log" || { grep "train grpo" "$scratch/rf40.log"; fail "refill: progress total not re-estimated"; }
cmp -s "$scratch/rf1/final/model.safetensors" "$scratch/rfr/final/model.safetensors" || fail "refill: resumed weights differ"
if "$SDZERO" train "${refill[@]}" --dist.max_staleness=1 --run.dir="$scratch/rfa" > "$scratch/rfa.log" 2>&1; then
  fail "refill with async training was accepted"
fi
grep -q "grpo.refill_rounds: refill rounds run on-policy only" "$scratch/rfa.log" || { cat "$scratch/rfa.log"; fail "refill/async error"; }
python3 - "$scratch" <<'PY' || fail "grpo refill"
import json, sys
d = sys.argv[1]
rec = {k: [json.loads(l) for l in open(f"{d}/{k}/metrics.jsonl")] for k in ("one", "rf1", "rf2", "rf40", "rfr")}
n = 4  # samples per question in tiny.ini's GRPO
for a, b in zip(rec["rf1"], rec["rf2"]):
    for k in ["generations", "generated_tokens", "reward_mean", "kept", "grpo/groups_sampled", "grpo/refill_rounds"]:
        assert a[k] == b[k], ("layouts differ", a["step"], k, a[k], b[k])
    assert abs(a["loss"] - b["loss"]) <= 1e-5 * max(1.0, abs(a["loss"])), ("layouts differ", a["step"], a["loss"], b["loss"])
for a, b in zip(rec["rf1"], rec["rfr"]):
    for k in ["generations", "generated_tokens", "reward_mean", "kept", "loss", "grpo/groups_sampled"]:
        assert a[k] == b[k], ("resume differs", a["step"], k, a[k], b[k])
used = 0
for r in rec["rf1"]:
    assert r["generations"] == n * r["grpo/groups_sampled"], r
    assert r["kept"] == n * r["grpo/groups_kept"], r
    assert r["grpo/groups_kept"] == r["questions"] or r["grpo/refill_rounds"] == 3, r
    assert (r["grpo/groups_sampled"] > r["questions"]) == (r["grpo/refill_rounds"] > 0), r
    used += r["generations"]
    assert r["budget/generations"] == used, (r["budget/generations"], used)
assert any(r["grpo/refill_rounds"] > 0 for r in rec["rf1"]), "no step refilled"
# Without refill, the same first round keeps fewer groups: the refill is what filled the batch.
assert rec["one"][0]["kept"] < rec["rf1"][0]["kept"], (rec["one"][0]["kept"], rec["rf1"][0]["kept"])
b = rec["rf40"]
assert len(b) == 1 and b[0]["budget/generations"] == 40 and b[0]["grpo/groups_sampled"] == 10, b
print("grpo refill:", [(r["step"], r["grpo/groups_sampled"], r["grpo/groups_kept"], r["grpo/refill_rounds"]) for r in rec["rf1"]])
PY
echo "train_layouts: ok"
