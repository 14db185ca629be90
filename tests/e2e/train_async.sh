#!/usr/bin/env bash
# sdz-labels: e2e,mpi
# sdz-timeout: 900
# Async training (dist.max_staleness = 1), asserted from the trajectories' version tags that the
# learners record per step (lag_min / lag_max = learner version - trajectory version):
#  - colocated and split 1+1+1 (SD-Zero) and split 1+0+1 (GRPO, every group kept): every trained trajectory is at most
#    one version old, from step 2 on exactly one (so generation really ran ahead), none dropped;
#  - colocated and split give the same trajectories and losses (as on-policy layouts do);
#  - a preempted async run resumes bit for bit (the batch in flight is in the checkpoint), and on
#    another layout with the same trajectories;
#  - resuming an async checkpoint with max_staleness = 0 is a clear error.
source "$(dirname "$0")/_lib.sh"
cfg="$SDZ_SOURCE_DIR/configs/tiny.ini"
mpi=(mpirun --oversubscribe --bind-to none)
common=(--config "$cfg" --method.name=sdzero --train.steps=4 --train.questions_per_step=8 --run.threads=1
        --dist.max_staleness=1)
split=(--layout.mode=split --layout.rollout=1 --layout.teacher=1 --layout.learner=1)

run() {  # run NAME COMMAND...
  local name=$1; shift
  "$@" > "$scratch/$name.log" 2>&1 || { cat "$scratch/$name.log"; fail "$name failed"; }
}

run c1 "$SDZERO" train "${common[@]}" --run.dir="$scratch/c1"
run s111 "${mpi[@]}" -np 3 "$SDZERO" train "${common[@]}" "${split[@]}" --run.dir="$scratch/s111"
run grpo "${mpi[@]}" -np 2 "$SDZERO" train --config "$cfg" --method.name=grpo --grpo.dynamic_sampling=false --train.steps=4 --run.threads=1 \
  --dist.max_staleness=1 --layout.mode=split --layout.rollout=1 --layout.teacher=0 --layout.learner=1 --run.dir="$scratch/grpo"

python3 - "$scratch" <<'PY'
import json, sys
base = sys.argv[1]
def load(d): return [json.loads(l) for l in open(f"{base}/{d}/metrics.jsonl")]
for d in ["c1", "s111", "grpo"]:
    recs = load(d)
    assert [r["step"] for r in recs] == [1, 2, 3, 4], (d, [r["step"] for r in recs])
    for r in recs:
        assert r["max_staleness"] == 1, (d, r)
        assert 0 <= r["lag_min"] <= r["lag_max"] <= 1, (d, r["step"], r["lag_min"], r["lag_max"])
        assert r["stale_dropped"] == 0, (d, r["step"], r["stale_dropped"])
    assert recs[0]["lag_max"] == 0, (d, "the first batch comes from the initial policy")
    for r in recs[1:]:
        assert r["lag_min"] == 1 and r["lag_max"] == 1, (d, r["step"], "generation did not run one step ahead")
a, b = load("c1"), load("s111")
for x, y in zip(a, b):
    for k in ["generations", "generated_tokens", "reward_mean", "kept", "lag_min", "lag_max"]:
        assert x[k] == y[k], (x["step"], k, x[k], y[k])
    assert abs(x["loss"] - y["loss"]) <= 1e-4 * max(1.0, abs(x["loss"])), (x["step"], x["loss"], y["loss"])
print("async lags:", [(r["step"], r["lag_min"], r["lag_max"]) for r in a])
PY

# Resume: a run preempted (SIGUSR1 -> checkpoint -> exit 75) while a batch is in flight continues
# bit for bit (colocated), and on another layout (1+1+1) with the same trajectories. (Stopping at
# train.steps instead would not test this: the last steps generate nothing ahead.)
long=(--config "$cfg" --method.name=sdzero --train.steps=30 --train.questions_per_step=8 --run.threads=1
      --dist.max_staleness=1 --ckpt.every_steps=0)
run full "$SDZERO" train "${long[@]}" --run.dir="$scratch/full"
"$SDZERO" train "${long[@]}" --run.dir="$scratch/sig" > "$scratch/sig.log" 2>&1 &
pid=$!
for _ in $(seq 1 600); do  # poll (up to 60 s) for the second metrics record
  [[ -f "$scratch/sig/metrics.jsonl" && $(wc -l < "$scratch/sig/metrics.jsonl") -ge 2 ]] && break
  kill -0 $pid 2>/dev/null || break
  sleep 0.1
done
kill -USR1 $pid
set +e; wait $pid; rc=$?; set -e
[[ $rc -eq 75 ]] || { cat "$scratch/sig.log"; fail "expected exit 75 after SIGUSR1, got $rc"; }
cp -r "$scratch/sig" "$scratch/sig-split"
run resume "$SDZERO" train "${long[@]}" --run.dir="$scratch/sig" --ckpt.resume=auto
grep -q "resume: continuing after step" "$scratch/resume.log" || fail "did not resume"
run resume-split "${mpi[@]}" -np 3 "$SDZERO" train "${long[@]}" "${split[@]}" --run.dir="$scratch/sig-split" --ckpt.resume=auto
python3 - "$scratch/full" "$scratch/sig" "$scratch/sig-split" <<'PY'
import json, sys
full = {r["step"]: r for r in map(json.loads, open(sys.argv[1] + "/metrics.jsonl"))}
for d, tol in [(sys.argv[2], 0.0), (sys.argv[3], 1e-4)]:
    recs = [json.loads(l) for l in open(d + "/metrics.jsonl")]
    assert [r["step"] for r in recs] == list(range(1, 31)), [r["step"] for r in recs]
    for r in recs:
        a = full[r["step"]]
        for k in ["generations", "generated_tokens", "reward_mean", "kept", "lag_min", "lag_max", "stale_dropped"]:
            assert a[k] == r[k], (d, r["step"], k, a[k], r[k])
        assert abs(a["loss"] - r["loss"]) <= tol * max(1.0, abs(a["loss"])), (d, r["step"], a["loss"], r["loss"])
print("async resume agrees")
PY
cmp -s "$scratch/full/final/model.safetensors" "$scratch/sig/final/model.safetensors" || fail "resumed async weights differ"

# An async checkpoint holds a batch in flight: on-policy resume refuses it, naming the key.
set +e
ck=$(ls "$scratch/sig-split/checkpoints/"step_*.h5 | sort | head -1)
err=$("$SDZERO" train --config "$cfg" --method.name=sdzero --train.steps=40 --run.threads=1 --run.dir="$scratch/x" \
  --ckpt.resume="$ck" 2>&1)
rc=$?
set -e
[[ $rc -ne 0 ]] || fail "an async checkpoint resumed on-policy"
expect_contains "$err" "dist.max_staleness" "the error names the key"
echo "train_async: ok"
