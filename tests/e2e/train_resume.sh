#!/usr/bin/env bash
# sdz-labels: e2e,mpi
# sdz-timeout: 900
# Checkpoints and exact resume on the real training loop:
#  - 4 steps straight == 2 steps, stop, --ckpt.resume=auto, 2 more: bit for bit (same losses,
#    same trajectories, same final weights), for SD-Zero phase 2 (frozen teacher, and a teacher synced
#    at the resume point) and GRPO, colocated and split 1+1+1 (SRT phase 1: tests/e2e/train_srt.sh);
#  - a run checkpointed on 1 rank resumes on 3 ranks (1+1+1) with equal results within a tolerance;
#  - SIGUSR1 during training: checkpoint, exit code 75, and --ckpt.resume=auto finishes the run;
#  - a damaged newest checkpoint is skipped with a warning; an explicit bad path is a clear error.
source "$(dirname "$0")/_lib.sh"
cfg="$SDZ_SOURCE_DIR/configs/tiny.ini"
mpi3=(mpirun -np 3 --oversubscribe --bind-to none)
split=(--layout.mode=split --layout.rollout=1 --layout.teacher=1 --layout.learner=1)

run() {  # run NAME LAUNCH... -- ARGS...
  local name=$1; shift
  "$@" > "$scratch/$name.log" 2>&1 || { cat "$scratch/$name.log"; fail "$name failed"; }
}

compare() {  # compare DIR_A DIR_B TOLERANCE
  python3 - "$1" "$2" "$3" <<'PY'
import json, sys
a = [json.loads(l) for l in open(sys.argv[1] + "/metrics.jsonl")]
b = [json.loads(l) for l in open(sys.argv[2] + "/metrics.jsonl")]
tol = float(sys.argv[3])
sa = {r["step"]: r for r in a}
for r in b:
    s = r["step"]
    assert s in sa, f"step {s} missing in {sys.argv[1]}"
    for k in ["generations", "generated_tokens", "reward_mean", "kept"]:
        assert sa[s][k] == r[k], (s, k, sa[s][k], r[k])
    d = abs(sa[s]["loss"] - r["loss"])
    assert d <= tol * max(1.0, abs(r["loss"])), (s, sa[s]["loss"], r["loss"])
print("agree:", sys.argv[1].split("/")[-1], sys.argv[2].split("/")[-1], [r["step"] for r in b])
PY
}

same_weights() {  # the final policies are byte-identical safetensors
  cmp -s "$1/final/model.safetensors" "$2/final/model.safetensors" || fail "final weights differ: $1 vs $2"
}

# sdzero-sync: SD-Zero phase 2 with the self-evolving teacher (hard copy of the student every 2
# steps): the checkpoint after step 2 holds the freshly synced teacher, which steps 3-4 score with.
for method in sdzero grpo sdzero-sync; do
  for layout in colocated split; do
    launch=("$SDZERO"); extra=(--run.threads=1)
    [[ $layout == split ]] && launch=("${mpi3[@]}" "$SDZERO") && extra+=("${split[@]}")
    margs=(--method.name=$method)
    [[ $method == sdzero-sync ]] && margs=(--method.name=sdzero --teacher.update=sync_every --teacher.sync_every=2)
    common=(--config "$cfg" "${margs[@]}" --ckpt.every_steps=2 "${extra[@]}")
    full="$scratch/$method-$layout-full"; part="$scratch/$method-$layout-part"
    run "$method-$layout-full" "${launch[@]}" train "${common[@]}" --train.steps=4 --run.dir="$full"
    run "$method-$layout-a" "${launch[@]}" train "${common[@]}" --train.steps=2 --run.dir="$part"
    [[ -s "$part/checkpoints/step_00000002.h5" ]] || fail "no checkpoint after 2 steps ($method $layout)"
    run "$method-$layout-b" "${launch[@]}" train "${common[@]}" --train.steps=4 --run.dir="$part" --ckpt.resume=auto
    grep -q "resume: continuing after step 2" "$scratch/$method-$layout-b.log" || fail "did not resume ($method $layout)"
    compare "$full" "$part" 0
    same_weights "$full" "$part"
  done
done

# A fresh run (no --resume) into a directory that holds a run is refused before anything is written;
# a resume after a torn metrics line (a job killed mid-write) and after records past the checkpoint
# keeps one valid record per step.
part="$scratch/sdzero-colocated-part"
before=$(md5sum < "$part/config.ini")
set +e
err=$("$SDZERO" train --config "$cfg" --method.name=grpo --train.steps=2 --run.dir="$part" 2>&1); rc=$?
set -e
[[ $rc -ne 0 ]] || fail "a fresh run into an earlier run's directory was accepted"
expect_contains "$err" "holds an earlier run" "the refusal says why"
expect_contains "$err" "--resume auto" "the refusal says what to do"
[[ "$(md5sum < "$part/config.ini")" == "$before" ]] || fail "the refused run rewrote config.ini"
torn="$scratch/torn"; cp -r "$part" "$torn"
rm "$torn/checkpoints/step_00000004.h5"; echo "step_00000002.h5" > "$torn/checkpoints/latest"
head -c -20 "$torn/metrics.jsonl" > "$torn/m" && mv "$torn/m" "$torn/metrics.jsonl"  # step 4's record torn
run torn "$SDZERO" train --config "$cfg" --method.name=sdzero --ckpt.every_steps=2 --train.steps=4 --run.threads=1 \
  --run.dir="$torn" --ckpt.resume=auto
grep -q "resume: dropped 2 record(s) after step 2" "$scratch/torn.log" || { cat "$scratch/torn.log"; fail "no trim warning"; }
python3 - "$torn/metrics.jsonl" <<'PY' || fail "metrics.jsonl after a torn resume"
import json, sys
steps = [json.loads(l)["step"] for l in open(sys.argv[1])]
assert steps == [1, 2, 3, 4], steps
PY
compare "$scratch/sdzero-colocated-full" "$torn" 0

# Across layouts: 2 steps on 1 rank, then 2 more on 3 ranks; compared with 4 steps on 1 rank.
run x-a "$SDZERO" train --config "$cfg" --method.name=sdzero --ckpt.every_steps=2 --train.steps=2 --run.threads=1 --run.dir="$scratch/x"
run x-b "${mpi3[@]}" "$SDZERO" train --config "$cfg" --method.name=sdzero --ckpt.every_steps=2 --train.steps=4 \
  --run.threads=1 "${split[@]}" --run.dir="$scratch/x" --ckpt.resume=auto
compare "$scratch/sdzero-colocated-full" "$scratch/x" 1e-4

# Preemption: USR1 once two steps are logged -> checkpoint + exit 75; then resume to the end.
"$SDZERO" train --config "$cfg" --method.name=rft --train.steps=400 --ckpt.every_steps=0 --run.threads=1 \
  --run.dir="$scratch/sig" > "$scratch/sig.log" 2>&1 &
pid=$!
for _ in $(seq 1 600); do  # poll (up to 60 s) for the second metrics record
  [[ -f "$scratch/sig/metrics.jsonl" && $(wc -l < "$scratch/sig/metrics.jsonl") -ge 2 ]] && break
  kill -0 $pid 2>/dev/null || break
  sleep 0.1
done
kill -USR1 $pid
set +e; wait $pid; rc=$?; set -e
[[ $rc -eq 75 ]] || { cat "$scratch/sig.log"; fail "expected exit 75 after SIGUSR1, got $rc"; }
ls "$scratch/sig/checkpoints/"step_*.h5 > /dev/null || fail "no checkpoint written on SIGUSR1"
run sig-b "$SDZERO" train --config "$cfg" --method.name=rft --train.steps=6 --run.threads=1 --run.dir="$scratch/sig" --resume auto
grep -q "resume: continuing after step" "$scratch/sig-b.log" || fail "the preempted run did not resume"

# Damage: flip a byte in the newest checkpoint; auto falls back to the previous one with a warning.
ckdir="$scratch/sdzero-colocated-part/checkpoints"
newest=$(ls "$ckdir"/step_*.h5 | sort | tail -1)
python3 - "$newest" <<'PY'
import os, sys
p = sys.argv[1]; n = os.path.getsize(p)
with open(p, "r+b") as f:
    f.seek(n - 4096); b = f.read(1); f.seek(n - 4096); f.write(bytes([b[0] ^ 0xFF]))
PY
run dmg "$SDZERO" train --config "$cfg" --method.name=sdzero --ckpt.every_steps=2 --train.steps=4 --run.threads=1 \
  --run.dir="$scratch/sdzero-colocated-part" --ckpt.resume=auto
grep -q "WARN: resume: skipped" "$scratch/dmg.log" || { cat "$scratch/dmg.log"; fail "no warning for the damaged checkpoint"; }
set +e
err=$("$SDZERO" train --config "$cfg" --train.steps=1 --run.dir="$scratch/bad" --resume "$scratch/nope.h5" 2>&1)
rc=$?
set -e
[[ $rc -ne 0 ]] || fail "a missing checkpoint path was accepted"
expect_contains "$err" "nope.h5" "the error names the file"
echo "train_resume: ok"
