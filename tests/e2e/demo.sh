#!/usr/bin/env bash
# sdz-labels: e2e
# sdz-timeout: 900
# A shortened built-in demo (2 seeds, a 2-rate grid, every method, the localization stage): every
# stage ran, every method used exactly the same generation budget (its own budget counters say so),
# the tables, curves and plots were written, the numbers in results.md equal those in results.jsonl,
# the table rows are the means of the per-seed rows, the claim section's differences are the paired
# per-seed differences (with what each compared method learns from: SFT and SDFT read gold demonstrations, and
# its rows count them), a second run reuses the cached bases, and the
# self-chain stage of the base ran and is recorded, with its unlikelihood after "wrong". The first run relaunches itself under mpirun
# (demo.ranks = 2: two rank groups running stages side by side); a one-process rerun agrees with it.
source "$(dirname "$0")/_lib.sh"
short=(--run.dir="$scratch/demo" --run.threads=1 --demo.seeds=2 --demo.lr_grid=1e-4,3e-4 --demo.pretrain_steps=200
       --demo.pick_every=100 --demo.pick_questions=20 --demo.budget=128 --data.eval_size=60
       --demo.methods=sft,sft_other,rft,grpo,sdft,sdft_other,sdzero --demo.localization_pretrain_steps=60 --demo.localization_questions=16
       --demo.self_chain_steps=20)
# Started directly with demo.ranks = 2, it runs itself under mpirun: two rank groups of one rank run
# different seeds and methods side by side.
"$SDZERO" demo "${short[@]}" --demo.ranks=2 > "$scratch/demo.log" 2>&1 || { tail -40 "$scratch/demo.log"; fail "demo failed"; }
grep -q "sdzero: 2 rank(s), 1 thread(s) per rank" "$scratch/demo.log" || fail "the demo did not relaunch itself with 2 ranks"
grep -q "demo: 2 rank groups of 1 rank(s)" "$scratch/demo.log" || fail "no rank groups"
grep -q "^\[[0-9:]* r1\] demo: seed" "$scratch/demo.log" || fail "rank 1 ran no stage of its own"
cp "$scratch/demo/results.jsonl" "$scratch/grouped.jsonl"
for seed in 1234 1235; do
  grep -q "demo: seed $seed: pretraining the base model" "$scratch/demo.log" || fail "seed $seed: no pretraining stage"
  for m in sft sft_other rft grpo sdft sdft_other sdzero; do
    for lr in 0.0001 0.0003; do
      grep -q "demo: seed $seed: post-training the base with $m at lr $lr" "$scratch/demo.log" || fail "stage $seed $m $lr did not run"
    done
  done
  [[ -s "$scratch/demo/seed-$seed/base/model.safetensors" ]] || fail "the base of seed $seed was not cached"
done
grep -q "demo: base after 100 steps" "$scratch/demo.log" || fail "the base was never evaluated for the band"
grep -q "srt collect:" "$scratch/demo.log" || fail "SD-Zero ran without SRT collection"
grep -q "demo: self-localization on task mul" "$scratch/demo.log" || fail "no localization stage"
for p in accuracy_vs_generations phase2_length localization; do
  [[ -s "$scratch/demo/plots/$p.png" ]] || fail "plot $p.png missing"
done
python3 - "$scratch/demo" <<'PY'
import json, re, sys
d = sys.argv[1]
lines = [json.loads(l) for l in open(d + "/results.jsonl")]
runs = [l for l in lines if "table" not in l]
tables = [l for l in lines if l.get("table") in ("main", "revision")]
models = ["base", "sft", "sft_other", "rft", "grpo", "sdft", "sdft_other", "srt", "sdzero"]
assert sorted({r["model"] for r in runs}) == sorted(models), {r["model"] for r in runs}
assert len(runs) == 2 * (1 + 2 * 8), len(runs)  # per seed: base + 2 rates x (sft, sft_other, rft, grpo, sdft, sdft_other, srt, sdzero)
# The same budget for every method, from its own budget counters (sdzero = SRT share + phase 2).
for r in runs:
    if r["model"] in ("base",):
        continue
    run = f"{d}/seed-{r['seed']}/{'sdzero' if r['model'] == 'srt' else r['model']}-lr{r['lr']:g}"
    if r["model"] == "srt":
        assert 0 < r["generations"] <= 96, r  # 3/4 of the budget at most
        continue
    last = [json.loads(l) for l in open(run + "/metrics.jsonl")][-1]
    if r["model"] in ("sft", "sft_other"):
        # SFT samples nothing and reads as many demonstrations as SDFT's teacher (128 / 32 per step);
        # its curve runs over the demonstrations read. sft_other reads the other style's.
        style = [l.split("=")[1].strip() for l in open(run + "/config.ini") if l.startswith("demo_style")]
        assert style == (["other"] if r["model"] == "sft_other" else ["own"]), (r["model"], style)
        assert r["generations"] == 0 and last["budget/generations"] == 0, (r, last)
        assert r["demonstrations"] == 128 and last["step"] == 4, (r["demonstrations"], last)
        assert len(r["curve"]) >= 3 and r["curve"][-1][0] == 128, r["curve"]
        continue
    phase1 = next(x["generations"] for x in runs if x["model"] == "srt" and x["seed"] == r["seed"] and x["lr"] == r["lr"]) \
        if r["model"] == "sdzero" else 0
    assert r["generations"] == 128, r
    assert last["budget/generations"] + phase1 == 128, (r["model"], last["budget/generations"], phase1)
    assert len(r["curve"]) >= 3 and r["curve"][-1][0] == 128, r["curve"]
    # SDFT's teacher reads the gold demonstration of every sampled question (sdft_other: another
    # correct answer where there are several); the others none.
    assert r["demonstrations"] == (128 if r["model"] in ("sdft", "sdft_other") else 0), (r["model"], r["demonstrations"])
# Each table row is the mean over seeds of the per-seed rows at its learning rate ...
for t in tables:
    rows = [r for r in runs if r["model"] == t["model"] and (t["model"] == "base" or r["lr"] == t["lr"])]
    assert len(rows) == 2 and t["seeds"] == 2, t
    key = "avg_at_k" if t["table"] == "main" else "correction_rate"
    got = [100 * (r["test"]["sampling"]["avg_at_k"] if key == "avg_at_k" else r["test"]["revision"]["oracle"]["correction_rate"]) for r in rows]
    assert abs(t[key]["mean"] - sum(got) / 2) < 1e-9, (t, got)
# ... the chosen rate has the best mean validation accuracy ...
for t in tables:
    if t["model"] == "base":
        continue
    means = {}
    for r in runs:
        if r["model"] == t["model"]:
            means.setdefault(r["lr"], []).append(r["val_avg_at_k"])
    best = max(means, key=lambda lr: sum(means[lr]) / len(means[lr]))
    assert abs(sum(means[best]) - sum(means[t["lr"]])) < 1e-12, (t["model"], means, t["lr"])
# ... and results.md shows exactly those numbers.
md = open(d + "/results.md").read()
shown = {}
for line in md.splitlines():
    cells = [c.strip() for c in line.strip("|").split("|")]
    if len(cells) in (9, 10, 12) and cells[0] in models and re.match(r"[\d.]+ ± [\d.]+", cells[3]):
        shown.setdefault(cells[0], []).append(cells)
for t in tables:
    cells = shown[t["model"]][0 if t["table"] == "main" else 1]
    col = 4 if t["table"] == "main" else 5  # avg@k / correction rate
    key = "avg_at_k" if t["table"] == "main" else "correction_rate"
    want = "%.1f ± %.1f" % (t[key]["mean"], t[key]["sd"])
    assert cells[col] == want, (t["model"], t["table"], cells[col], want)
    if t["table"] == "revision":  # the hindsight's repeat rates, the last two columns
        rows = [r for r in runs if r["model"] == t["model"] and (t["model"] == "base" or r["lr"] == t["lr"])]
        for col, key, field in ((10, "hindsight_revision_repeats", "revision_repeat_rate"),
                                (11, "hindsight_fresh_repeats", "fresh_repeat_rate")):
            got = [100 * r["test"]["hindsight"][field] for r in rows]
            assert abs(t[key]["mean"] - sum(got) / 2) < 1e-9 and 0 <= t[key]["mean"] <= 100, (t, got)
            assert cells[col] == "%.1f ± %.1f" % (t[key]["mean"], t[key]["sd"]), (t["model"], key, cells[col])
# The claim section: SD-Zero minus each model, paired by seed, each at its chosen rate.
claims = [l for l in lines if l.get("table") == "claim"]
assert sorted(c["model"] for c in claims) == ["base", "grpo", "rft", "sdft", "sdft_other", "sft", "sft_other"], claims
rate = {t["model"]: t["lr"] for t in tables if t["table"] == "main"}
def acc(m, seed):
    return next(r for r in runs if r["model"] == m and r["seed"] == seed and (m == "base" or r["lr"] == rate[m]))["test"]["sampling"]["avg_at_k"]
for c in claims:
    d = [100 * (acc("sdzero", seed) - acc(c["model"], seed)) for seed in (1234, 1235)]
    assert abs(c["difference"]["mean"] - sum(d) / 2) < 1e-9, (c, d)
    assert c["holds"] == (c["difference"]["mean"] >= 10 if c["model"] == "base" else c["difference"]["mean"] > 0), c
    assert c["reads_demonstrations"] == (c["model"] in ("sft", "sft_other", "sdft", "sdft_other")), c
    source = {"base": "-", "sft": "gold demonstrations", "sdft": "gold demonstrations", "sdft_other": "gold demonstrations, another answer",
              "sft_other": "gold demonstrations, another answer"}.get(c["model"], "binary reward")
    want = "| %s | %s | %+.1f ± %.1f | %s" % (c["model"], source, c["difference"]["mean"], c["difference"]["sd"],
                                            "yes" if c["holds"] else "no")
    assert want in md, want
    spread = c["model"] != "base" and c["holds"] and c["difference"]["mean"] < c["difference"]["sd"]
    assert c["within_spread"] == spread, c
    assert (want + " (within the spread)" in md) == spread, (want, md)
assert "Same questions and budget, not the same information." in md
assert "sft_other and sdft_other read another correct answer in the same notation" in md
assert "sft reads as many of those worked solutions as SDFT's teacher does" in md
# Where it ran: this machine's CPU (the first "model name" of /proc/cpuinfo), the ranks; the same
# line in results.md and in the run row of results.jsonl.
run = [l for l in lines if l.get("table") == "run"]
assert len(run) == 1 and run[0]["seconds"] > 0, run
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "unknown CPU")
assert run[0]["machine"].startswith(cpu + "; ") and "rank(s) x 1 thread(s)" in run[0]["machine"], (cpu, run)
assert "Ran on " + run[0]["machine"] + "." in md, run
loc = [l for l in lines if l.get("table") == "localization"]
assert loc and loc[0]["summary"]["wrong"] + loc[0]["summary"]["correct"] > 0, loc
print("demo: tables agree with results.jsonl;", {t["model"]: round(t["avg_at_k"]["mean"], 1) for t in tables if t["table"] == "main"})
PY
# A second run, one process (demo.ranks = 1), reuses the bases instead of pretraining again, and
# its rows equal the grouped run's to the last bit: which group ran a stage changes nothing.
"$SDZERO" demo "${short[@]}" --demo.ranks=1 --demo.methods=rft --demo.lr_grid=1e-4 --demo.localization_task=none > "$scratch/demo2.log" 2>&1 ||
  { tail -20 "$scratch/demo2.log"; fail "second demo failed"; }
grep -q "sdzero: 1 rank(s)" "$scratch/demo2.log" || fail "demo.ranks=1 did not stay one process"
if grep -q "rank groups" "$scratch/demo2.log"; then fail "one process reported rank groups"; fi
grep -q "demo: reusing the base model" "$scratch/demo2.log" || fail "the cached base was not reused"
if grep -q "pretraining the base" "$scratch/demo2.log"; then fail "the second run pretrained again"; fi
python3 - "$scratch/grouped.jsonl" "$scratch/demo/results.jsonl" <<'PY'
import json, sys
def rows(path):
    out = {}
    for l in open(path):
        r = json.loads(l)
        if "table" in r or (r["model"] != "base" and (r["model"], r["lr"]) != ("rft", 1e-4)):
            continue
        r.pop("seconds"); r["test"].pop("seconds")
        out[(r["model"], r["seed"])] = json.dumps(r, sort_keys=True)
    return out
a, b = rows(sys.argv[1]), rows(sys.argv[2])
assert sorted(a) == sorted(b) and len(a) == 4, (sorted(a), sorted(b))
for k in a:
    assert a[k] == b[k], (k, a[k][:300], b[k][:300])
print("demo: 2 rank groups and one process agree on", sorted(a))
PY
# Every cached base keeps its recipe (recipe.json: what shapes it, from the pretraining stage's own
# config). The rerun above changed only the methods and rates and reused them; a run that would make
# another base is refused by key, with both values and the base named, before it relaunches or pretrains
# anything, and the cached base stays as it was.
for b in seed-1234 seed-1235 localization; do
  [[ -f $scratch/demo/$b/base/recipe.json ]] || fail "$b/base has no recipe.json"
done
grep -q '"demo.pretrain_steps": "200"' "$scratch/demo/seed-1234/base/recipe.json" || fail "the recipe lacks demo.pretrain_steps"
grep -q '"demo.pretrain_steps": "60"' "$scratch/demo/localization/base/recipe.json" || fail "the localization recipe lacks its own steps"
if grep -q '"demo.lr_grid"\|"demo.methods"' "$scratch/demo/seed-1234/base/recipe.json"; then fail "the recipe records method settings"; fi
sums() { md5sum "$scratch"/demo/{seed-1234,seed-1235,localization}/base/*; }
before=$(sums)
if "$SDZERO" demo "${short[@]}" --demo.pretrain_steps=300 > "$scratch/recipe.log" 2>&1; then
  fail "bases of 200 pretraining steps were reused for a run of 300"
fi
grep -q "demo.pretrain_steps: 200 there, 300 now" "$scratch/recipe.log" && grep -q "$scratch/demo/seed-1234/base" "$scratch/recipe.log" ||
  { cat "$scratch/recipe.log"; fail "the refusal does not name the key, both values and the base"; }
if grep -q "rank(s)\|pretraining\|post-training" "$scratch/recipe.log"; then fail "the refusal came after work started"; fi
if "$SDZERO" demo "${short[@]}" --demo.localization_pretrain_steps=61 > "$scratch/recipe2.log" 2>&1; then
  fail "a localization base of 60 steps was reused for 61"
fi
grep -q "the localization base: .*demo.pretrain_steps: 60 there, 61 now" "$scratch/recipe2.log" ||
  { cat "$scratch/recipe2.log"; fail "the localization refusal does not say which base and values"; }
[[ $(sums) == "$before" ]] || fail "a refused run changed a cached base"
# SD-Zero's SRT collects on demo.srt_split (q1 by default) and its phase 2 trains on demo.distill_split (q2).
grep -q "^split = q2" "$scratch/demo/seed-1234/sdzero-lr0.0001/config.ini" || fail "phase 2 is not on Q2"
grep -q "^split = q1" "$scratch/demo/seed-1234/sdzero-lr0.0001/srt_run/config.ini" || fail "SRT is not on Q1 (demo.srt_split)"
# distill.srt_replay: SD-Zero's phase 2 replays the traces its own SRT run collected; every other stage
# runs without the key (on copies of the bases: one seed, one rate, SD-Zero and RFT).
mkdir -p "$scratch/replay/seed-1234" && cp -r "$scratch/demo/seed-1234/base" "$scratch/replay/seed-1234/"
"$SDZERO" demo "${short[@]}" --run.dir="$scratch/replay" --demo.ranks=1 --demo.seeds=1 --demo.methods=rft,sdzero \
  --demo.lr_grid=1e-4 --demo.localization_task=none --distill.srt_replay=1 > "$scratch/replay.log" 2>&1 ||
  { tail -20 "$scratch/replay.log"; fail "the demo with distill.srt_replay failed"; }
r=$scratch/replay/seed-1234
grep -q "^replay_traces = $r/sdzero-lr0.0001/srt_run/srt_traces.jsonl$" "$r/sdzero-lr0.0001/config.ini" &&
  grep -q "^srt_replay = 1$" "$r/sdzero-lr0.0001/config.ini" || fail "phase 2 does not replay its SRT run's traces"
for c in "$r/sdzero-lr0.0001/srt_run/config.ini" "$r/rft-lr0.0001/config.ini"; do
  grep -q "^srt_replay = 0$" "$c" || fail "$c: a stage other than phase 2 kept distill.srt_replay"
done
grep -q '"samples/replayed"' "$r/sdzero-lr0.0001/metrics.jsonl" || fail "phase 2 replayed nothing"
# sft_other and sdft_other on a task without other-style demonstrations are refused by key, by the one
# process, before it relaunches or pretrains anything.
for m in sft_other sdft_other; do
  if "$SDZERO" demo "${short[@]}" --run.dir="$scratch/bad0" --data.task=mul --demo.methods=rft,$m > "$scratch/bad0.log" 2>&1; then
    fail "$m on mul was accepted"
  fi
  grep -q "demo.methods" "$scratch/bad0.log" && grep -q "$m: " "$scratch/bad0.log" || { cat "$scratch/bad0.log"; fail "the refusal does not name demo.methods and $m"; }
  if grep -q "rank(s)" "$scratch/bad0.log"; then fail "the refusal came after the relaunch"; fi
done
# Groups that do not divide the ranks are refused by key before any stage starts.
if "$SDZERO" demo "${short[@]}" --run.dir="$scratch/bad" --demo.ranks=2 --demo.groups=3 > "$scratch/bad.log" 2>&1; then
  fail "demo.groups=3 on 2 ranks was accepted"
fi
grep -q "demo.groups" "$scratch/bad.log" || { cat "$scratch/bad.log"; fail "the refusal does not name demo.groups"; }
if grep -q "pretraining" "$scratch/bad.log"; then fail "a stage started before the refusal"; fi
# Self chains (demo.self_chain_steps): after the pick, the base answers every pretraining question
# once and trains on "own answer, cue, worked solution"; picked.json records the stage. The
# localization base is a plain one (no chains).
line=$(grep -o "self chains from [0-9]* own attempts ([0-9]* wrong" "$scratch/demo.log" | head -1) || fail "no self-chain stage"
n=$(echo "$line" | awk '{print $4}'); w=$(echo "$line" | awk '{print $7}' | tr -d '(')
[[ $n -gt 0 && $w -ge 0 && $w -le $n ]] || fail "self chains: $line"
[[ $(grep -c "steps of self chains" "$scratch/demo.log") == 2 ]] || fail "self chains did not run once per seed"
for seed in 1234 1235; do
  grep -q '"self_chain_steps":20' "$scratch/demo/seed-$seed/base/picked.json" || fail "picked.json of $seed does not record the self chains"
done
if grep -q "self_chain_steps" "$scratch/demo/localization/base/picked.json"; then fail "the localization base ran self chains"; fi
# The unlikelihood after "wrong" (demo.ini: chain_unlikelihood = self_chain_unlikelihood = 3): every
# wrong own answer of the self chains gets its row, the pretraining steps report the term, and
# picked.json records both weights. The annealed run below turns both off.
u=$(grep -o "self chains from [0-9]* own attempts ([0-9]* wrong, .*; [0-9]* with an unlikelihood where they go wrong"     "$scratch/demo.log" | head -1) || fail "the self chains have no unlikelihood rows"
w=$(echo "$u" | awk '{print $7}' | tr -d '('); k=$(echo "$u" | grep -o "; [0-9]* with" | awk '{print $2}')
[[ -n $w && $w == "$k" ]] || fail "not one unlikelihood row per wrong own answer: $u"
grep -q "pretrain  .* unlikelihood [0-9.]*  lr" "$scratch/demo.log" || fail "the pretraining steps do not report the unlikelihood"
for seed in 1234 1235; do
  grep -q '"chain_unlikelihood":3' "$scratch/demo/seed-$seed/base/picked.json" || fail "picked.json of $seed: no chain_unlikelihood"
  grep -q '"self_chain_unlikelihood":3' "$scratch/demo/seed-$seed/base/picked.json" || fail "picked.json of $seed: no self_chain_unlikelihood"
done
# demo.anneal: the self-chain stage ends the base's training at a rate decaying to zero (the last
# self-chain step's rate is a few percent of demo.pretrain_lr; without it, the pretraining rate itself),
# and picked.json records it.
"$SDZERO" demo "${short[@]}" --run.dir="$scratch/anneal" --demo.seeds=1 --demo.ranks=1 --demo.anneal=true \
  --demo.pretrain_steps=40 --demo.pick_every=40 --demo.chain_unlikelihood=0 --demo.self_chain_unlikelihood=0 \
  --demo.methods=sft --demo.lr_grid=1e-4 --demo.localization_task=none > "$scratch/anneal.log" 2>&1 ||
  { tail -20 "$scratch/anneal.log"; fail "the annealed demo failed"; }
grep -q '"annealed":true' "$scratch/anneal/seed-1234/base/picked.json" || fail "picked.json does not record demo.anneal"
if grep -q '"annealed"' "$scratch/demo/seed-1234/base/picked.json"; then fail "an unannealed base says it was annealed"; fi
if grep -q "unlikelihood" "$scratch/anneal.log" "$scratch/anneal/seed-1234/base/picked.json"; then
  fail "the unlikelihood ran with both weights 0"
fi
last_lr() { grep -o "self chains  20/20 .*lr [0-9.e+-]*" "$1" | tail -1 | awk '{print $NF}'; }
python3 -c "import sys; a, p = float(sys.argv[1]), float(sys.argv[2]); assert 0 < a < 0.05e-3 and p == 1e-3, (a, p)" \
  "$(last_lr "$scratch/anneal.log")" "$(last_lr "$scratch/demo.log")" || fail "self-chain rates: annealed vs constant"
# demo.self_chain_rounds: the base's own answers are sampled again halfway through the self chains;
# demo.pretrain_on=other: the base pretrains on as many other questions (tasks test: none is a Q1/Q2 one);
# demo.self_chain_on=fresh: each round's self chains answer yet other questions.
"$SDZERO" demo "${short[@]}" --run.dir="$scratch/rounds" --demo.seeds=1 --demo.ranks=1 --demo.self_chain_rounds=2 \
  --demo.pretrain_on=other --demo.self_chain_on=fresh \
  --demo.pretrain_steps=40 --demo.pick_every=40 \
  --demo.methods=sft --demo.lr_grid=1e-4 --demo.localization_task=none > "$scratch/rounds.log" 2>&1 ||
  { tail -20 "$scratch/rounds.log"; fail "the demo with two self-chain rounds failed"; }
for r in 1 2; do
  grep -q "self chains (round $r of 2) from 1024 own attempts to fresh questions" "$scratch/rounds.log" ||
    fail "no self-chain round $r on fresh questions"
done
if grep -q "to fresh questions" "$scratch/demo.log"; then fail "the default self chains are on fresh questions"; fi
grep -q '"self_chain_on":"fresh"' "$scratch/rounds/seed-1234/base/picked.json" || fail "picked.json does not record demo.self_chain_on"
[[ $(grep -c "self chains  10/10 " "$scratch/rounds.log") == 2 ]] ||
  fail "not two rounds of 10 steps each: $(grep 'self chains  ' "$scratch/rounds.log" | tail -3)"
grep -q '"self_chain_rounds":2' "$scratch/rounds/seed-1234/base/picked.json" || fail "picked.json does not record the rounds"
grep -q "the base pretrains on 1024 other questions" "$scratch/rounds.log" || fail "demo.pretrain_on=other did not take other questions"
grep -q '"pretrain_on":"other"' "$scratch/rounds/seed-1234/base/picked.json" || fail "picked.json does not record demo.pretrain_on"
if grep -q '"pretrain_on"' "$scratch/demo/seed-1234/base/picked.json"; then fail "a default base records pretrain_on"; fi
echo "demo: ok"
