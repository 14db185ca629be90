#!/usr/bin/env bash
# sdz-labels: e2e
# sdz-timeout: 120
# configs/paper/*.ini, the paper's real settings (tools/gen-paper-configs writes them):
#  - the files are exactly what the generator writes (nobody edited one copy of a shared number);
#  - every file resolves against the schema (`sdzero config`: types, ranges, choices, unknown keys);
#  - the resolved values are SDZERO.md's: lr, betas, schedules, top-k, mixed KL, 128 prompts per step,
#    budgets 40K + 9K vs 60K, temperatures, token limits, cues of each model family, and the distill
#    config of each setting starts from its SRT run's model with the same cues.
source "$(dirname "$0")/_lib.sh"
dir="$SDZ_SOURCE_DIR/configs/paper"
python3 "$SDZ_SOURCE_DIR/tools/gen-paper-configs" --out "$dir" --check || fail "configs/paper differs from tools/gen-paper-configs"
n=0
for f in "$dir"/*.ini; do
  "$SDZERO" config --config "$f" --out "$scratch/$(basename "$f")" > "$scratch/log" 2>&1 || { cat "$scratch/log"; fail "$f does not resolve"; }
  n=$((n + 1))
done
[[ $n -eq 24 ]] || fail "expected 24 paper configs (2 models x 2 domains x 6), found $n"

python3 - "$scratch" <<'PY'
import configparser, glob, os, sys
d = sys.argv[1]
def load(p):
    c = configparser.ConfigParser(interpolation=None, comment_prefixes=("#",))
    c.read(p)
    return {f"{s}.{k}": v.strip('"') for s in c.sections() for k, v in c[s].items()}
cfg = {os.path.basename(p)[:-4]: load(p) for p in glob.glob(d + "/*.ini")}
def eq(name, key, want):
    got = cfg[name].get(key)
    assert got == want, f"{name}: {key} = {got!r}, want {want!r}"
budget = {"srt": "40000", "distill": "9000", "sft": "60000", "rft": "60000", "grpo": "60000", "sdft": "60000"}
cue_wrong = {"qwen3-4b": "Wait, this response is wrong. Let me correct it.", "olmo3-7b": "Wrong. I need to redo all."}
for name, c in cfg.items():
    model, domain, method = name.rsplit("-", 2)[0], name.split("-")[-2], name.split("-")[-1]
    eq(name, "optim.lr", "5e-06")
    eq(name, "optim.grad_clip", "1")
    eq(name, "budget.max_generations", budget[method])
    eq(name, "method.temperature", "0.7")
    eq(name, "method.student_max_tokens", "8192")
    eq(name, "prompt.format", "chatml" if model == "qwen3-4b" else "olmo3")
    eq(name, "model.dtype", "bf16"); eq(name, "model.activation_checkpointing", "true")
    if method != "srt":  # SRT trains data-parallel over every rank without ZeRO
        eq(name, "dist.zero1", "true")
    eq(name, "prompt.cue_correct", "Let me rephrase the above solution.")
    eq(name, "prompt.cue_wrong", cue_wrong[model])
    eq(name, "data.task", "jsonl")
    eq(name, "data.kind", domain)
    eq(name, "train.questions_per_step", "128")
    eq(name, "method.name", {"distill": "sdzero"}.get(method, method))
    eq(name, "train.split", {"srt": "q1", "distill": "q2"}.get(method, "train"))
    if domain == "code":
        eq(name, "prompt.suffix", "")
        eq(name, "reward.code_time_limit", "2")
        eq(name, "reward.compile_time_limit", "30")
    else:
        assert "\\boxed{}" in c["prompt.suffix"], (name, c["prompt.suffix"])
    if method in ("srt", "sft"):  # supervised stages: cosine, 5% warmup, wd 1e-4, betas (0.9, 0.95)
        eq(name, "optim.schedule", "cosine"); eq(name, "optim.warmup_fraction", "0.05")
        eq(name, "optim.weight_decay", "0.0001"); eq(name, "optim.beta2", "0.95")
    else:  # online phases: 20 warmup steps then constant, wd 0.01, betas (0.9, 0.999)
        eq(name, "optim.schedule", "constant"); eq(name, "optim.warmup_steps", "20")
        eq(name, "optim.weight_decay", "0.01"); eq(name, "optim.beta2", "0.999")
    if method in ("distill", "sdft"):
        eq(name, "distill.top_k", "64"); eq(name, "distill.kl", "mixed"); eq(name, "distill.forward_weight", "0.5")
        eq(name, "distill.temperature", c["method.temperature"]); eq(name, "distill.teacher_max_tokens", "32768")
        eq(name, "distill.student_temperature", c["method.temperature"])
    if method == "srt":
        eq(name, "srt.initial_samples", "1"); eq(name, "srt.revisions", "3"); eq(name, "srt.revise", "both")
        eq(name, "srt.objective", "joint"); eq(name, "srt.revision_traces", "0")
        eq(name, "srt.top_p", "0.9"); eq(name, "train.srt_epochs", "3")
        # 10K questions x (1 + 3) = the 40K budget
        assert int(c["data.q1_size"]) * 4 == int(c["budget.max_generations"]), name
    if method == "distill":
        srt = cfg[f"{model}-{domain}-srt"]
        eq(name, "train.init", f"runs/{srt['run.name']}/final")
        for k in ("prompt.cue_correct", "prompt.cue_wrong", "prompt.cue_separator", "prompt.format"):
            eq(name, k, srt[k])
        eq(name, "teacher.update", "frozen")
    if method == "grpo":
        eq(name, "grpo.clip_low", "0.2"); eq(name, "grpo.clip_high", "0.28"); eq(name, "grpo.kl_coef", "0")
        eq(name, "grpo.dynamic_sampling", "true"); eq(name, "grpo.refill_rounds", "0")
    if method == "sdft":
        eq(name, "teacher.update", "ema"); eq(name, "teacher.ema_rate", "0.01")
    if method in ("rft", "grpo"):  # 15K questions x 4 = 60K
        eq(name, "method.samples_per_question", "4")
print(f"paper configs: {len(cfg)} files agree with SDZERO.md")
PY

# A changed copy is caught by --check.
cp -r "$dir" "$scratch/paper"
sed -i 's/^lr = 5e-06/lr = 1e-05/' "$scratch/paper/qwen3-4b-math-rft.ini"
if python3 "$SDZ_SOURCE_DIR/tools/gen-paper-configs" --out "$scratch/paper" --check 2> "$scratch/check.err"; then
  fail "--check accepted an edited config"
fi
expect_contains "$(cat "$scratch/check.err")" "qwen3-4b-math-rft.ini" "--check names the edited file"
echo "paper_configs: ok"
