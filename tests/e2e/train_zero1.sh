#!/usr/bin/env bash
# sdz-labels: e2e,mpi
# sdz-timeout: 900
# ZeRO-1 (dist.zero1 = true) on two data-parallel learners equals the unsharded run bit for bit:
# same losses and grad norms every step, byte-identical final weights; split 1+1+2 (SD-Zero) and
# colocated x2 (SFT: demonstrations, so every step has a gradient; a random tiny model earns no
# reward). The trainer itself checks after every step that the learners hold identical parameters. Checkpoints gather the optimizer shards to the learner root: a ZeRO-1 run resumed
# (with ZeRO-1, and without it) ends with the weights of the uninterrupted run.
source "$(dirname "$0")/_lib.sh"
cfg="$SDZ_SOURCE_DIR/configs/tiny.ini"
mpi=(mpirun --oversubscribe --bind-to none)
s112=(-np 4 "$SDZERO" train --config "$cfg" --method.name=sdzero --train.steps=4 --run.threads=1
      --layout.mode=split --layout.rollout=1 --layout.teacher=1 --layout.learner=2)
c2=(-np 2 "$SDZERO" train --config "$cfg" --method.name=sft --train.steps=3 --run.threads=1 --layout.mode=colocated)

run() {  # run NAME COMMAND...
  local name=$1; shift
  "$@" > "$scratch/$name.log" 2>&1 || { cat "$scratch/$name.log"; fail "$name failed"; }
}
same() {  # same DIR_A DIR_B: equal metrics (loss, grad norm, trajectories) and identical weights
  python3 - "$1" "$2" <<'PY'
import json, sys
a = [json.loads(l) for l in open(sys.argv[1] + "/metrics.jsonl")]
b = [json.loads(l) for l in open(sys.argv[2] + "/metrics.jsonl")]
assert [r["step"] for r in a] == [r["step"] for r in b], "different steps"
for x, y in zip(a, b):
    for k in ["loss", "optim/grad_norm", "generations", "generated_tokens", "reward_mean", "kept", "learners"]:
        assert x[k] == y[k], (x["step"], k, x[k], y[k])
assert any(r["optim/grad_norm"] > 0 for r in a), "no step had a gradient: the comparison would be vacuous"
print("equal:", sys.argv[1].split("/")[-1], sys.argv[2].split("/")[-1], [round(r["loss"], 6) for r in a])
PY
  cmp -s "$1/final/model.safetensors" "$2/final/model.safetensors" || fail "final weights differ: $1 vs $2"
}

run plain "${mpi[@]}" "${s112[@]}" --run.dir="$scratch/plain"
run zero1 "${mpi[@]}" "${s112[@]}" --dist.zero1=true --run.dir="$scratch/zero1"
grep -q '"zero1":1' "$scratch/zero1/metrics.jsonl" || fail "the ZeRO-1 run did not use ZeRO-1"
grep -q '"learners":2' "$scratch/zero1/metrics.jsonl" || fail "the ZeRO-1 run did not train on two learners"
same "$scratch/plain" "$scratch/zero1"

run c-plain "${mpi[@]}" "${c2[@]}" --run.dir="$scratch/c-plain"
run c-zero1 "${mpi[@]}" "${c2[@]}" --dist.zero1=true --run.dir="$scratch/c-zero1"
same "$scratch/c-plain" "$scratch/c-zero1"

# Resume: 2 steps with ZeRO-1 + checkpoint, then 2 more (with ZeRO-1; and, from a copy, without).
run part-a "${mpi[@]}" "${s112[@]}" --dist.zero1=true --ckpt.every_steps=2 --train.steps=2 --run.dir="$scratch/part"
cp -r "$scratch/part" "$scratch/part-plain"
run part-b "${mpi[@]}" "${s112[@]}" --dist.zero1=true --ckpt.every_steps=2 --run.dir="$scratch/part" --ckpt.resume=auto
grep -q "resume: continuing after step 2" "$scratch/part-b.log" || fail "did not resume"
cmp -s "$scratch/zero1/final/model.safetensors" "$scratch/part/final/model.safetensors" || fail "ZeRO-1 resume differs"
run part-c "${mpi[@]}" "${s112[@]}" --ckpt.every_steps=2 --run.dir="$scratch/part-plain" --ckpt.resume=auto
cmp -s "$scratch/zero1/final/model.safetensors" "$scratch/part-plain/final/model.safetensors" \
  || fail "a ZeRO-1 checkpoint resumed unsharded differs"
echo "train_zero1: ok"
