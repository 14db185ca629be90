#!/usr/bin/env bash
# sdz-labels: e2e,slurm
# sdz-timeout: 120
# tools/perfmodel against hand-computed numbers: parameter counts of the Qwen3-4B and Olmo-3-7B
# configs (the published 4.02B / 7.30B), per-token FLOPs and KV bytes, causal and sliding-window
# attention FLOPs, the learner and teacher phase times of a 1-GPU-per-role split, the schedules, the
# layout search (every found split fits and sums to the GPU count), the validate-sync fit and the
# validate-bench rules on data with known answers, and errors for bad input.
source "$(dirname "$0")/_lib.sh"
src=${SDZ_SOURCE_DIR:?}
/usr/bin/python3 - "$src/tools/perfmodel" <<'PY' || fail "perfmodel numbers"
import importlib.machinery, importlib.util, sys
loader = importlib.machinery.SourceFileLoader("perfmodel", sys.argv[1])
spec = importlib.util.spec_from_loader("perfmodel", loader)
pm = importlib.util.module_from_spec(spec)
loader.exec_module(pm)

def near(a, b, what, rel=1e-12):
    if abs(a - b) > rel * max(1.0, abs(b)):
        sys.exit("%s: got %r, expected %r" % (what, a, b))

q = pm.Model(pm.PRESETS["qwen3-4b"])
o = pm.Model(pm.PRESETS["olmo3-7b"])
# Qwen3-4B: per layer q,o 2560x4096, k,v 2560x1024, MLP 3x2560x9728, norms 2x2560 + q/k norms 2x128;
# tied 151936x2560 embedding; final norm 2560.
layer = 2 * 2560 * 4096 + 2 * 2560 * 1024 + 3 * 2560 * 9728 + 2 * 2560 + 2 * 128
near(q.params, 36 * layer + 151936 * 2560 + 2560, "Qwen3-4B parameters")
near(q.params, 4022468096, "Qwen3-4B parameters (4.02B)")
near(q.flops_per_token, 2 * (36 * layer + 151936 * 2560), "Qwen3-4B FLOPs per token")
near(q.kv_bytes_per_token, 36 * 2 * 8 * 128 * 2, "Qwen3-4B KV bytes per token")
# Olmo-3-7B: MHA (32 KV heads), untied 100278x4096 embedding and lm_head.
olayer = 4 * 4096 * 4096 + 3 * 4096 * 11008 + 2 * 4096 + 2 * 128
near(o.params, 32 * olayer + 2 * 100278 * 4096 + 4096, "Olmo-3-7B parameters")
assert 7.25e9 < o.params < 7.35e9, o.params
assert sum(1 for w in o.windows if w == 4096) == 24 and o.windows[3] == 0, o.windows[:4]
# Attention: causal s(s+1)/2 keys; a sliding layer past its window sees w(w+1)/2 + (s-w)w.
s = 1000
near(q.attn_flops(s), 36 * 4 * 32 * 128 * s * (s + 1) / 2, "Qwen3 causal attention FLOPs")
s, w = 6000, 4096
per = 4 * 32 * 128
near(o.attn_flops(s), 8 * per * s * (s + 1) / 2 + 24 * per * (w * (w + 1) / 2 + (s - w) * w), "Olmo-3 sliding attention")

# Phase times of a 1:1:1 split on one node, against the formulas written out here.
hw, eff = pm.H100, pm.EFF
wl = {"prompts": 4, "prompt_len": 100, "response_len": 200, "tail": 2.0, "max_response": 8192, "cue_len": 20,
      "teacher_sync_every": 0}
ph = pm.plan_step(q, hw, eff, wl, 1, 1, 1, 8)
fwd = lambda n: q.flops_per_token * n + q.attn_flops(n)
learn = 3 * 4 * fwd(300) / (0.40 * 989e12) + 28 * q.params / (0.60 * 3.35e12)
near(ph["t_learn"], learn, "learner time (1 GPU: no all-reduce)", 1e-9)
teach = 4 * fwd(100 + 400 + 20) / (0.50 * 989e12) + 4 * 200 * 64 * 8 / (0.80 * 450e9)
near(ph["t_teacher"], teach, "teacher time", 1e-9)
near(ph["t_sync"], 2 * q.params / (0.80 * 450e9), "weight sync over NVLink", 1e-9)
near(pm.step_time(ph, "sync"), ph["t_generate"] + ph["t_teacher"] + ph["t_learn"] + ph["t_sync"], "sync schedule")
near(pm.step_time(ph, "async"), max(ph["t_generate"] + ph["t_sync"], ph["t_teacher"], ph["t_learn"]), "async schedule")
# Olmo-3-7B's learner state does not fit one GPU (16 B/param = 117 GB): no split with one learner.
assert pm.plan_step(o, hw, eff, wl, 6, 1, 1, 8) is None
assert pm.plan_step(o, hw, eff, wl, 4, 1, 3, 8) is not None
# The search: every split sums to the GPU count, and more nodes never make the best async step slower.
wl = {"prompts": 128, "prompt_len": 256, "response_len": 2048, "tail": 2.0, "max_response": 8192, "cue_len": 20,
      "teacher_sync_every": 0}
prev = None
for n in (1, 2, 4):
    res = pm.best_layouts(q, hw, eff, wl, n, 8)
    lay, ph, st = res["split (async)"]
    assert sum(int(x) for x in lay.split(":")) == 8 * n, lay
    assert prev is None or st <= prev + 1e-9, (n, st, prev)
    prev = st
print("perfmodel: ok")
PY

out=$("$src/tools/perfmodel" plan --model qwen3-4b --nodes 1,2) || fail "plan failed"
expect_contains "$out" "qwen3-4b: 4.02B parameters, 36 layers, hidden 2560, 32/8 heads" "plan header"
expect_contains "$out" "| 2 | 16 | split (async) |" "a row per nodes x schedule"
# A measured figure replaces a documented one: halving the training MFU doubles the learner's compute.
base=$("$src/tools/perfmodel" plan --model qwen3-4b --nodes 1 --json)
slow=$("$src/tools/perfmodel" plan --model qwen3-4b --nodes 1 --json --set train_mfu=0.2)
/usr/bin/python3 - "$base" "$slow" <<'PY' || fail "--set train_mfu"
import json, sys
b = {r["schedule"]: r for r in json.loads(sys.argv[1])["rows"]}["colocated (sync)"]
s = {r["schedule"]: r for r in json.loads(sys.argv[2])["rows"]}["colocated (sync)"]
assert s["t_learn"] > 1.8 * b["t_learn"] and s["t_learn"] < 2.0 * b["t_learn"], (b["t_learn"], s["t_learn"])
assert abs(s["t_teacher"] - b["t_teacher"]) < 1e-12
PY
set +e
err=$("$src/tools/perfmodel" plan --set no_such=1 2>&1)
set -e
expect_contains "$err" "unknown name 'no_such'" "--set with an unknown name"
set +e
err=$("$src/tools/perfmodel" plan --model no-such-model 2>&1)
rc=$?
set -e
[[ $rc -ne 0 ]] || fail "an unknown model was accepted"
expect_contains "$err" "neither a preset" "unknown model message"
echo '{"hidden_size": 8}' >"$scratch/bad.json"
set +e
err=$("$src/tools/perfmodel" plan --model "$scratch/bad.json" 2>&1)
set -e
expect_contains "$err" "missing key 'num_hidden_layers'" "incomplete config message"
# validate-sync: broadcasts that follow latency + bytes / bandwidth exactly are predicted exactly.
for mb in 2 8 32 128; do
  d="$scratch/sync/strong_np2_colocated_${mb}mb"
  mkdir -p "$d"
  echo "{\"ranks\":2,\"mb\":$mb,\"mode\":\"strong\",\"throughput_key\":\"weight_sync_gb_per_s\"}" >"$d/run.json"
  t=$(/usr/bin/python3 -c "print(0.001 + $mb * 1048576 / 2e9)")
  for s in 0 1 2; do echo "{\"step\":$s,\"t_sync\":$t,\"weight_sync_gb_per_s\":1}" >>"$d/metrics.jsonl"; done
done
out=$("$src/tools/perfmodel" validate-sync "$scratch/sync") || fail "validate-sync failed"
expect_contains "$out" "| 2 | 0.0010 | 2.00 | strong_np2_colocated_32mb | 32 |" "fitted latency and bandwidth"
expect_contains "$out" "mean absolute error: 0% over 2 held-out runs" "exact data, zero error"
# validate-bench: train tokens/s predicted as prefill / 3 x train_mfu / forward_mfu (0.40 / 0.50).
echo '{"shapes":{"small":{"prefill_tokens_per_s":3000,"train_tokens_per_s":1000,"decode_b64_tokens_per_s":500,"decode_b64_bound_tokens_per_s":1000}}}' >"$scratch/bench.json"
out=$("$src/tools/perfmodel" validate-bench "$scratch/bench.json") || fail "validate-bench failed"
expect_contains "$out" "| small | train tokens/s | 1000 | 800 | -20% |" "train rule"
expect_contains "$out" "| small | decode b64 tokens/s | 500 | 400 | -20% |" "decode rule"
echo "slurm_perfmodel: ok"
