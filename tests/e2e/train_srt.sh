#!/usr/bin/env bash
# sdz-labels: e2e
# sdz-timeout: 900
# SD-Zero phase 1 through `sdzero train --method.name=srt` on a tiny model, rewards from a judge script:
#  - the sequential objective (the released code's two SFT stages): metrics records of both stages,
#    revision-only then generation-only terms, each stage with a fresh warmup, finite losses, stage
#    length = train.srt_epochs x traces / batch, parameters changed, srt_cues.json beside the model;
#  - checkpoints: step 0 right after collection (phase srt_train, the traces file recorded), then by
#    cadence; a run stopped by its step limit twice (mid stage 1, then in stage 2) and resumed with
#    --resume auto equals the uninterrupted run bit for bit (losses, final weights);
#  - the released split (srt.revision_traces, generation first, srt.clean_initial): each stage on its
#    own traces and steps, resumed in stage 2 exactly; refused without the sequential objective;
#  - SIGUSR1: checkpoint, exit 75, --resume auto continues from it; `sdzero inspect` shows the phase;
#  - guards: a changed traces file, a method other than srt on SRT checkpoints, phase 2 with another
#    cue than SRT's, and the removed srt.cue_* keys are clear errors; phase 2 with SRT's cue runs and
#    writes checkpoints of phase distill;
#  - distill.srt_replay: phase 2 replays SRT traces (counted per step, resumed exactly), and its
#    guards;
#  - srt.unlikelihood: the marks on traces of wrong answers, one row per draw of a marked trace, exact
#    resume with them.
source "$(dirname "$0")/_lib.sh"
cfg="$SDZ_SOURCE_DIR/configs/tiny.ini"
common=(--config "$cfg" --run.threads=1 --data.q1_size=48 --data.q2_size=48)

run() {  # run NAME ARGS...: sdzero with ARGS, log in $scratch/NAME.log, fail on error
  local name=$1; shift
  "$SDZERO" "$@" > "$scratch/$name.log" 2>&1 || { tail -30 "$scratch/$name.log"; fail "$name failed"; }
}
fails() {  # fails NAME NEEDLE ARGS...: sdzero must fail and say NEEDLE
  local name=$1 needle=$2; shift 2
  set +e; "$SDZERO" "$@" > "$scratch/$name.log" 2>&1; local rc=$?; set -e
  [[ $rc -ne 0 ]] || fail "$name: expected a failure"
  grep -qF -- "$needle" "$scratch/$name.log" || { tail -20 "$scratch/$name.log"; fail "$name: no '$needle' in the error"; }
}

# Rewards from an external judge (reward.command): deterministic in the response, about two thirds
# of them 1, so that a random tiny model yields verified revisions after both cues. The method's
# mechanics are under test here, not what it learns.
cat > "$scratch/judge.py" <<'PY'
import json, sys
for line in sys.stdin:
    r = json.loads(line)["response"]
    print(json.dumps({"reward": 1.0 if sum(r.encode()) % 3 else 0.0}), flush=True)
PY
common+=(--reward.command="python3 -u $scratch/judge.py")
srt=("${common[@]}" --method.name=srt --train.split=q1 --method.samples_per_question=0
     --srt.objective=sequential --train.srt_epochs=0.5 --train.questions_per_step=8 --train.steps=100000
     --optim.warmup_steps=2)

# 1. Uninterrupted sequential SRT.
run full train "${srt[@]}" --ckpt.every_steps=0 --run.dir="$scratch/full"
[[ -s "$scratch/full/checkpoints/step_00000000.h5" ]] || fail "no checkpoint after collection"
[[ -s "$scratch/full/final/srt_cues.json" ]] || fail "no srt_cues.json beside the SRT model"
run zero train "${srt[@]}" --train.steps=0 --ckpt.every_steps=0 --run.dir="$scratch/zero"  # the initial model
cmp -s "$scratch/zero/final/model.safetensors" "$scratch/full/final/model.safetensors" && fail "SRT did not change the parameters"
P=$(python3 - "$scratch/full" <<'PY'
import json, math, sys
d = sys.argv[1]
recs = [json.loads(l) for l in open(d + "/metrics.jsonl")]
col, steps = recs[0], recs[1:]
traces = sum(1 for _ in open(d + "/srt_traces.jsonl"))
assert col["phase"] == "srt_collect" and col["step"] == 0 and col["traces"] == traces > 0, col
assert col["generations"] == col["questions"] * 1 + col["candidates"], col  # initial + revisions
per_stage = math.ceil(0.5 * traces / 8)
assert [r["step"] for r in steps] == list(range(1, 2 * per_stage + 1)), ([r["step"] for r in steps], per_stage)
for r in steps:
    assert r["phase"] == "srt_train" and math.isfinite(r["loss"]) and r["loss"] > 0, r
    first = r["step"] <= per_stage
    assert r["stage"] == (1 if first else 2), r
    # revision first (srt.sequential_first), then generation only
    assert (r["srt/revision_term"], r["srt/generation_term"]) == ((1, 0) if first else (0, 1)), r
# each stage starts a fresh optimizer: its warmup begins again
assert steps[per_stage]["optim/lr"] == steps[0]["optim/lr"] < steps[1]["optim/lr"], (steps[0], steps[per_stage])
print(per_stage)
PY
) || fail "sequential SRT metrics"
echo "sequential SRT: $P steps per stage"
grep -q "srt: .* steps per stage x 2 stage(s)" "$scratch/full.log" || fail "the log does not report the stages"

# 2. The same run stopped by its step limit mid stage 1 and again in stage 2, resumed each time.
run part-a train "${srt[@]}" --ckpt.every_steps=2 --train.steps=$((P - 1)) --run.dir="$scratch/part"
run part-b train "${srt[@]}" --ckpt.every_steps=2 --train.steps=$((P + 2)) --run.dir="$scratch/part" --resume auto
grep -q "resume: SRT continuing after step" "$scratch/part-b.log" || fail "part b did not resume"
grep -q "srt collect:" "$scratch/part-b.log" && fail "a resumed SRT run collected again"
run part-c train "${srt[@]}" --ckpt.every_steps=2 --run.dir="$scratch/part" --resume auto
cmp -s "$scratch/full/srt_traces.jsonl" "$scratch/part/srt_traces.jsonl" || fail "collection is not deterministic"
python3 - "$scratch/full" "$scratch/part" <<'PY'
import json, sys
a = {r["step"]: r for r in map(json.loads, open(sys.argv[1] + "/metrics.jsonl"))}
b = {r["step"]: r for r in map(json.loads, open(sys.argv[2] + "/metrics.jsonl"))}  # later records win
assert sorted(a) == sorted(b), (sorted(a), sorted(b))
for s in a:
    if s == 0: continue
    for k in ("loss", "optim/lr", "optim/grad_norm", "loss/revision_nll_sum", "loss/generation_nll_sum", "stage"):
        assert a[s][k] == b[s][k], (s, k, a[s][k], b[s][k])
print("srt resume: identical metrics for", len(a) - 1, "steps")
PY
cmp -s "$scratch/full/final/model.safetensors" "$scratch/part/final/model.safetensors" || fail "resumed SRT weights differ"

# 2b. The released split (srt.revision_traces = R, generation first): the generation stage trains on
# every wrong-y0 trace the revision stage does not take, the revision stage on R (correct y0 first);
# each stage as many steps as its own traces ask; stopped in stage 2 and resumed: identical.
R=$(python3 - "$scratch/full/srt_traces.jsonl" <<'PY'
import json, sys
t = [json.loads(l) for l in open(sys.argv[1])]
nc = sum(1 for x in t if x["initial_reward"] > 0.5); nw = len(t) - nc
assert nw >= 2, ("too few wrong-y0 traces for the split", nc, nw)
print(max(1, nc // 2))  # half the correct-y0 traces: the generation stage keeps every wrong-y0 one
PY
) || fail "counting traces for the released split"
rel=("${srt[@]}" --srt.sequential_first=generation --srt.revision_traces=$R --ckpt.every_steps=0 --srt.clean_initial=true)
run rel train "${rel[@]}" --run.dir="$scratch/rel"
L=$(python3 - "$scratch/rel" $R <<'PY'
import json, math, sys
d, R = sys.argv[1], int(sys.argv[2])
t = [json.loads(l) for l in open(d + "/srt_traces.jsonl")]
nc = sum(1 for x in t if x["initial_reward"] > 0.5)
gen = len(t) - nc - max(0, R - nc)  # the wrong-y0 traces the revision stage does not take
recs = [json.loads(l) for l in open(d + "/metrics.jsonl")]
col, steps = recs[0], recs[1:]
# srt.clean_initial: the record counts the cut initial answers (of the verified candidates)
assert 0 <= col["initial_cut"] <= col["candidates"] - col["unverified"], col
L0, L1 = math.ceil(0.5 * gen / 8), math.ceil(0.5 * R / 8)
assert [r["step"] for r in steps] == list(range(1, L0 + L1 + 1)), ([r["step"] for r in steps], L0, L1)
for r in steps:
    first = r["step"] <= L0
    assert r["stage"] == (1 if first else 2), r
    assert (r["srt/revision_term"], r["srt/generation_term"]) == ((0, 1) if first else (1, 0)), r
    # epoch counts passes over the stage's own traces
    local = r["step"] - (0 if first else L0)
    assert abs(r["epoch"] - local * 8 / (gen if first else R)) < 1e-9, (r["epoch"], local, gen, R)
print(L0)
PY
) || fail "released split metrics"
grep -qE "srt: [0-9]+ traces \([0-9]+ \+ $R per stage\)" "$scratch/rel.log" ||
  { grep "srt:" "$scratch/rel.log"; fail "the log does not report the stages' traces"; }
run rel-a train "${rel[@]}" --train.steps=$((L + 1)) --ckpt.every_steps=1 --run.dir="$scratch/rel2"
run rel-b train "${rel[@]}" --run.dir="$scratch/rel2" --resume auto
grep -q "resume: SRT continuing after step $((L + 1))" "$scratch/rel-b.log" || fail "the released split did not resume in stage 2"
cmp -s "$scratch/rel/final/model.safetensors" "$scratch/rel2/final/model.safetensors" || fail "released split: resumed weights differ"
echo "released split: revision stage $R traces, generation stage first ($L steps), resumed in stage 2: identical"
fails rel-joint "srt.revision_traces" train "${common[@]}" --method.name=srt --srt.revision_traces=3 --run.dir="$scratch/relj"

# 3. inspect shows the phase and the traces record.
newest=$(ls "$scratch/part/checkpoints/"step_*.h5 | sort | tail -1)
"$SDZERO" inspect "$newest" > "$scratch/inspect.txt" 2>&1 || { cat "$scratch/inspect.txt"; fail "inspect failed"; }
grep -qE "phase +srt_train" "$scratch/inspect.txt" || { cat "$scratch/inspect.txt"; fail "inspect shows no SRT phase"; }
grep -q "text.srt_traces" "$scratch/inspect.txt" || fail "inspect shows no traces record"

# 4. SIGUSR1 during SRT training: checkpoint, exit 75, then --resume auto finishes the run.
"$SDZERO" train "${srt[@]}" --train.srt_epochs=2000 --ckpt.every_steps=0 --run.dir="$scratch/sig" > "$scratch/sig.log" 2>&1 &
pid=$!
for _ in $(seq 1 900); do  # up to 90 s for the collection record and two step records
  [[ -f "$scratch/sig/metrics.jsonl" && $(wc -l < "$scratch/sig/metrics.jsonl") -ge 3 ]] && break
  kill -0 $pid 2>/dev/null || break
  sleep 0.1
done
kill -USR1 $pid
set +e; wait $pid; rc=$?; set -e
[[ $rc -eq 75 ]] || { tail -20 "$scratch/sig.log"; fail "expected exit 75 after SIGUSR1, got $rc"; }
stopped=$(ls "$scratch/sig/checkpoints/"step_*.h5 | sort | tail -1)
[[ "$stopped" != *step_00000000.h5 ]] || fail "no checkpoint written on SIGUSR1"
s=$((10#$(basename "$stopped" .h5 | sed 's/step_//')))
run sig-b train "${srt[@]}" --train.srt_epochs=2000 --train.steps=$((s + 2)) --run.dir="$scratch/sig" --resume auto
grep -q "resume: SRT continuing after step $s " "$scratch/sig-b.log" || fail "the signalled SRT run did not resume at $s"
[[ -s "$scratch/sig/final/model.safetensors" ]] || fail "the resumed SRT run saved no model"

# 5. Guards.
cp "$scratch/part/srt_traces.jsonl" "$scratch/traces.bak"
echo >> "$scratch/part/srt_traces.jsonl"  # one byte more: the size and crc32c no longer match
fails changed "changed since the checkpoint" train "${srt[@]}" --run.dir="$scratch/part" --resume auto
cp "$scratch/traces.bak" "$scratch/part/srt_traces.jsonl"
fails wrong-method "cannot resume method sdzero" train "${common[@]}" --method.name=sdzero --train.init="$scratch/full/final" \
  --run.dir="$scratch/part" --resume auto
fails other-cue "prompt.cue_wrong" train "${common[@]}" --method.name=sdzero --train.init="$scratch/full/final" \
  --prompt.cue_wrong="<r>" --run.dir="$scratch/p2bad"
printf '[srt]\ncue_wrong = Wrong. I need to redo all.\n' > "$scratch/old.ini"
fails old-key "did you mean 'prompt.cue_wrong'" config --config "$scratch/old.ini"

# 6. Phase 2 from the SRT model with its cue: runs, checkpoints say distill.
run phase2 train "${common[@]}" --method.name=sdzero --train.init="$scratch/full/final" --train.split=q2 \
  --train.steps=1 --ckpt.every_steps=1 --run.dir="$scratch/p2"
"$SDZERO" inspect "$scratch/p2" > "$scratch/inspect2.txt" 2>&1 || { cat "$scratch/inspect2.txt"; fail "inspect p2"; }
grep -qE "phase +distill" "$scratch/inspect2.txt" || { cat "$scratch/inspect2.txt"; fail "phase 2 checkpoint is not phase distill"; }
fails srt-on-distill "cannot resume SRT" train "${srt[@]}" --run.dir="$scratch/p2" --resume auto
# 6b. distill.srt_replay: phase 2 also trains the revision NLL of replayed SRT traces, replay_per_step
# of them each step, drawn by step (so a resumed run replays the same ones); without the key nothing
# is replayed; a missing file, no file, or another method are clear errors.
rep=("${common[@]}" --method.name=sdzero --train.init="$scratch/full/final" --train.split=q2 --train.questions_per_step=4
     --distill.srt_replay=1 --distill.replay_traces="$scratch/full/srt_traces.jsonl" --distill.replay_per_step=5)
run replay train "${rep[@]}" --train.steps=3 --ckpt.every_steps=0 --run.dir="$scratch/rep"
grep -q "distill.srt_replay = 1: [0-9]* SRT traces from .*, 5 per step" "$scratch/replay.log" || fail "the log does not report the replay"
run replay-a train "${rep[@]}" --train.steps=2 --ckpt.every_steps=1 --run.dir="$scratch/rep-part"
run replay-b train "${rep[@]}" --train.steps=3 --ckpt.every_steps=1 --run.dir="$scratch/rep-part" --resume auto
python3 - "$scratch/rep" "$scratch/rep-part" "$scratch/p2" <<'PY'
import json, math, sys
a = {r["step"]: r for r in map(json.loads, open(sys.argv[1] + "/metrics.jsonl"))}
b = {r["step"]: r for r in map(json.loads, open(sys.argv[2] + "/metrics.jsonl"))}
assert sorted(a) == sorted(b) == [1, 2, 3], (sorted(a), sorted(b))
for s, r in a.items():
    assert r["samples/replayed"] == 5 and r["loss/replay_tokens"] > 0, r
    assert math.isfinite(r["loss/replay_nll_sum"]) and r["loss/replay_nll_sum"] > 0, r
    for k in ("loss", "loss/replay_nll_sum", "loss/replay_tokens", "loss/kl_sum"):
        assert a[s][k] == b[s][k], (s, k, a[s][k], b[s][k])
plain = [json.loads(l) for l in open(sys.argv[3] + "/metrics.jsonl")]
assert plain and not any("samples/replayed" in r for r in plain), plain
print("srt replay: 5 traces per step, resume identical")
PY
cmp -s "$scratch/rep/final/model.safetensors" "$scratch/rep-part/final/model.safetensors" || fail "resumed replay weights differ"
fails replay-missing "distill.replay_traces = $scratch/none.jsonl" train "${rep[@]}" --train.steps=1 \
  --distill.replay_traces="$scratch/none.jsonl" --run.dir="$scratch/rep-bad"
fails replay-unnamed "no traces file is named" train "${rep[@]}" --train.steps=1 --distill.replay_traces= --run.dir="$scratch/rep-bad"
fails replay-method "distill.srt_replay" train "${common[@]}" --method.name=rft --distill.srt_replay=1 --train.steps=1 \
  --run.dir="$scratch/rep-bad"

# 7. srt.unlikelihood: each kept revision of a wrong answer carries where that answer leaves every known
# correct one (the task's answer and what verified), the revision stage trains one unlikelihood row per
# such trace and epoch, and a run stopped and resumed (traces read back from the JSONL) is identical.
grep -q '"avoid"' "$scratch/full/srt_traces.jsonl" && fail "traces without srt.unlikelihood carry an avoid mark"
ul=("${common[@]}" --method.name=srt --train.split=q1 --method.samples_per_question=0 --srt.objective=revision
    --srt.unlikelihood=3 --train.srt_epochs=1 --train.questions_per_step=8 --train.steps=100000 --optim.warmup_steps=2)
run ul train "${ul[@]}" --ckpt.every_steps=0 --run.dir="$scratch/ul"
grep -q "kept revisions of wrong answers carry an unlikelihood row" "$scratch/ul.log" || fail "the log does not count the unlikelihood rows"
python3 - "$scratch/ul" <<'PY'
import json, sys
d = sys.argv[1]
traces = [json.loads(l) for l in open(d + "/srt_traces.jsonl")]
recs = [json.loads(l) for l in open(d + "/metrics.jsonl")]
stop = max(t["initial_ids"][-1] for t in traces)  # every y0 here ends with the stop id or is cut
marked = 0
for t in traces:
    a = t.get("avoid")
    if t["initial_reward"] > 0.5:
        assert a is None, t
        continue
    assert a is not None, t  # a random tiny model never writes the task's answer as a wrong one
    y0 = t["initial_ids"][:-1] if t["initial_ids"][-1] == stop else t["initial_ids"]
    assert 0 <= a["at"] <= len(y0), t
    assert a["token"] == (y0[a["at"]] if a["at"] < len(y0) else stop), t
    marked += 1
assert marked > 0, "no wrong initial answer among the traces"
assert recs[0]["unlikelihood_rows"] == marked, (recs[0], marked)
steps = recs[1:]
# One epoch draws every trace once; the last batch is filled up with draws of the next epoch.
rows, draws = sum(r["srt/unlikelihood_rows"] for r in steps), sum(r["samples/count"] for r in steps)
assert marked <= rows <= marked + (draws - len(traces)), (rows, marked, draws, len(traces))
assert all(r["loss/revision_unlikelihood_sum"] >= 0 for r in steps)
assert sum(r["loss/revision_unlikelihood_sum"] for r in steps) > 0
print("srt unlikelihood:", marked, "of", len(traces), "traces marked")
PY
n=$(($(wc -l < "$scratch/ul/metrics.jsonl") - 1))
run ul-a train "${ul[@]}" --ckpt.every_steps=1 --train.steps=$((n / 2)) --run.dir="$scratch/ul-part"
run ul-b train "${ul[@]}" --ckpt.every_steps=1 --run.dir="$scratch/ul-part" --resume auto
python3 - "$scratch/ul" "$scratch/ul-part" <<'PY'
import json, sys
a = {r["step"]: r for r in map(json.loads, open(sys.argv[1] + "/metrics.jsonl"))}
b = {r["step"]: r for r in map(json.loads, open(sys.argv[2] + "/metrics.jsonl"))}
assert sorted(a) == sorted(b), (sorted(a), sorted(b))
for s in a:
    if s == 0: continue
    for k in ("loss", "loss/revision_unlikelihood_sum", "srt/unlikelihood_rows"):
        assert a[s][k] == b[s][k], (s, k, a[s][k], b[s][k])
PY
cmp -s "$scratch/ul/final/model.safetensors" "$scratch/ul-part/final/model.safetensors" || fail "resumed SRT weights differ with the unlikelihood"
echo "train_srt: ok"
