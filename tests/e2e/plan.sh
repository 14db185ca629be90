#!/usr/bin/env bash
# sdz-labels: e2e
# sdz-timeout: 180
# `sdzero plan --memory`: the paper config with the published Qwen3-4B shape (table, JSON bytes, fit
# decision and hints), ZeRO-1 over learners for Olmo-3-7B, errors, and --measure on a small CPU shape:
# the measured peak of a real learner step and a real generate call must be within [0.6, 1.6] of
# the plan (plan / measured).
source "$(dirname "$0")/_lib.sh"
paper="$SDZ_SOURCE_DIR/configs/paper"

# The paper's Qwen3-4B phase 2 on one learner of an 80 GB GPU, first as it would be in fp32 without
# checkpointing (the paper configs set bf16 and checkpointing: this is why).
out=$("$SDZERO" plan --memory --config "$paper/qwen3-4b-math-distill.ini" --shape qwen3-4b --ranks 3 \
  --model.dtype=fp32 --model.activation_checkpointing=false)
expect_contains "$out" "4.022B parameters" "parameter count"
expect_contains "$out" "rollout" "rollout column"
expect_contains "$out" "teacher" "teacher column"
expect_contains "$out" "learner" "learner column"
for part in weights grads optimizer activations "KV cache" logits total; do
  expect_contains "$out" "$part" "part $part"
done
# 4 B x 4,022,468,096 parameters = 14.98 GiB of fp32 masters; AdamW 29.97 GiB.
expect_contains "$out" "14.98" "weights GiB"
expect_contains "$out" "29.97" "optimizer GiB"
expect_contains "$out" "DOES NOT FIT" "fp32 graphs of 8K tokens without checkpointing do not fit"
expect_contains "$out" "hint: model.activation_checkpointing=true" "checkpointing hint"
expect_contains "$out" "hint: both: activation checkpointing + bf16: 76.44 GiB per learner (fits)" "both levers"
[[ "$out" != *"one sequence's graph at a time"* ]] || fail "per-sequence backward is done (algo::train_step): no hint"

json=$("$SDZERO" plan --memory --config "$paper/qwen3-4b-math-distill.ini" --shape qwen3-4b --ranks 3 \
  --model.dtype=bf16 --model.activation_checkpointing=false --json)
echo "$json" | jq -e '.model.params == 4022468096' > /dev/null || fail "params in JSON"
echo "$json" | jq -e '(.roles[] | select(.role == "learner") | .parts.weights) == 4 * 4022468096' > /dev/null ||
  fail "learner weights bytes"
echo "$json" | jq -e '(.roles[] | select(.role == "learner") | .parts.optimizer) == 8 * 4022468096' > /dev/null ||
  fail "learner optimizer bytes"
echo "$json" | jq -e '.sizes.student_tokens == 8192 and .sizes.scored_tokens == 7680' > /dev/null ||
  fail "sequence sizes from method.max_new_tokens and student_max_tokens"
# One graph alive (algo::train_step back-propagates each sequence), but the teacher top-k signals of
# all 128 sequences of the learner's share are held: 128 x 7680 x (64 x 12 + 4) bytes.
echo "$json" | jq -e '.sizes.live_sequences == 1 and .sizes.learner_sequences == 128' > /dev/null ||
  fail "one live graph, 128 sequences in the learner's share"
echo "$json" | jq -e '(.roles[] | select(.role == "learner") | .parts["batch data"]) == 128 * 7680 * (64 * 12 + 4)' \
  > /dev/null || fail "batch data counts the learner's whole share"
ck=$("$SDZERO" plan --memory --config "$paper/qwen3-4b-math-distill.ini" --shape qwen3-4b --ranks 3)  # as written
expect_contains "$ck" "total               174.52       28.68       76.44" "Qwen3-4B bf16 + checkpointing totals"
expect_contains "$ck" "learner fits" "the learner fits 80 GB"
echo "$json" | jq -e '(.roles[] | select(.role == "rollout") | .parts["KV cache"]) == 36 * 2 * 128 * 8 * 8192 * 128 * 2' \
  > /dev/null || fail "KV cache bytes (36 layers, 128 slots, 8 kv heads, 8192 capacity, head_dim 128, bf16)"

# Olmo-3-7B: ZeRO-1 shards the optimizer over the learners (8 ranks: 2 learners; 16 ranks: 4).
o2=$("$SDZERO" plan --memory --config "$paper/olmo3-7b-math-distill.ini" --shape olmo3-7b --ranks 8 \
  --dist.zero1=true --model.dtype=bf16 --model.activation_checkpointing=true --json)
o4=$("$SDZERO" plan --memory --config "$paper/olmo3-7b-math-distill.ini" --shape olmo3-7b --ranks 16 \
  --dist.zero1=true --model.dtype=bf16 --model.activation_checkpointing=true --json)
echo "$o2" | jq -e '.sizes.learners == 2 and .sizes.zero1' > /dev/null || fail "2 learners with zero1"
opt2=$(echo "$o2" | jq '.roles[] | select(.role == "learner") | .parts.optimizer')
opt4=$(echo "$o4" | jq '.roles[] | select(.role == "learner") | .parts.optimizer')
[[ $opt2 -lt $((8 * 7298011136 * 6 / 10)) && $opt4 -lt $opt2 ]] || fail "zero1 optimizer shards: $opt2, $opt4"
# One graph per learner whatever the share: the activations do not shrink with more learners.
act2=$(echo "$o2" | jq '.roles[] | select(.role == "learner") | .parts.activations')
act4=$(echo "$o4" | jq '.roles[] | select(.role == "learner") | .parts.activations')
[[ $act2 -eq $act4 ]] || fail "one live graph per learner: activations $act2 vs $act4"
echo "$o2" | jq -e '(.roles[] | select(.role == "learner") | .total) / 1073741824 | . > 137.10 and . < 137.12' \
  > /dev/null || fail "Olmo-3-7B learner, 2 learners with ZeRO-1: 137.11 GiB"

# Errors: a model directory that does not exist names itself and says how to plan without weights.
if err=$("$SDZERO" plan --memory --config "$paper/qwen3-4b-math-distill.ini" 2>&1); then fail "missing model accepted"; fi
expect_contains "$err" "runs/qwen3-4b-math-srt/final" "error names the directory"
expect_contains "$err" "--shape" "error says --shape"
if err=$("$SDZERO" plan --memory --shape llama 2>&1); then fail "unknown shape accepted"; fi
expect_contains "$err" "qwen3-4b" "unknown shape lists the names"
if err=$("$SDZERO" plan --memory --model-config "$scratch/none.json" 2>&1); then fail "missing config.json accepted"; fi

# --measure on a small shape on the CPU (29M parameters): the learner step (2 sequences of 512 tokens,
# one micro-batch of method.micro_batch_tokens) holds 0.5 GB of weights, grads and moments plus the
# micro-batch's activations and logits (planned as 2 live sequences); the rollout 0.1 GB of weights plus a
# 0.13 GB KV cache (32 slots x 512 tokens). Unplanned CPU memory (BLAS packing buffers, allocator
# fragmentation: ~0.1 GB here) stays a minor share.
cat > "$scratch/small.ini" <<'INI'
[run]
threads = 2
[model]
family = qwen3
vocab_size = 32000
hidden_size = 512
intermediate_size = 1536
num_layers = 4
num_heads = 8
num_kv_heads = 4
head_dim = 64
max_position = 2048
[method]
name = sdzero
max_new_tokens = 448
student_max_tokens = 1024
[train]
questions_per_step = 32
slots = 32
[dist]
device = cpu
INI
out=$("$SDZERO" plan --memory --measure --config "$scratch/small.ini" --prompt-tokens 64 --learner-sequences 2 --json)
echo "$out" | jq -c '.measured[] | {role, plan_bytes, peak_bytes, ratio}'
echo "$out" | jq -e '[.measured[] | .role] == ["learner", "rollout"]' > /dev/null || fail "both roles measured"
echo "$out" | jq -e 'all(.measured[]; .ratio >= 0.6 and .ratio <= 1.6)' > /dev/null ||
  fail "plan/measured outside [0.6, 1.6]: $(echo "$out" | jq -c '[.measured[] | .ratio]')"
echo "$out" | jq -e '.measured[0].sequences == 2 and (.measured[0].loss | type) == "number"' > /dev/null ||
  fail "the learner step ran on the config's 2 sequences"
echo "plan e2e ok"
