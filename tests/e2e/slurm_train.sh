#!/usr/bin/env bash
# sdz-labels: e2e,slurm
# sdz-timeout: 600
# Training through Slurm on a real one-node cluster (tools/slurm-local.sh), configs/tiny.ini with the
# SD-Zero method:
#   1. `sbatch -n 3 slurm/sdzero.sh configs/tiny.ini` runs the split layout (rollout, teacher,
#      learner: one rank each) to completion: one metrics line per step with the phase times, the
#      launch log and the final policy in the run directory, resume=auto passed to the run;
#   3. a scaling array of training runs (1, 2, 3 tasks; colocated and 1:1:1) completes and
#      tools/scaling-report makes its table (tokens/s, t_generate ... t_sync) and plots.
# (The issue's test 2, USR1 -> checkpoint -> requeue -> resume, needs checkpoints in `sdzero train`.)
source "$(dirname "$0")/_lib.sh"
src=${SDZ_SOURCE_DIR:?}
cluster="$scratch/cluster"
trap '"$src/tools/slurm-local.sh" stop "$cluster" || true; rm -rf "$scratch"' EXIT
eval "$("$src/tools/slurm-local.sh" start "$cluster")"
export SDZERO SDZ_ROOT="$src"
unset SDZ_COMMAND
cd "$src"
sl() { "$src/tools/slurm-local.sh" "$1" "$cluster" "${@:2}"; }
tiny=(--method.name=sdzero --train.steps=3)

# 1. Three tasks to completion.
run1="$scratch/run1"
id=$(sbatch --parsable -o "$scratch/t1.out" -n 3 slurm/sdzero.sh configs/tiny.ini --run.dir="$run1" "${tiny[@]}" \
  --layout.mode=split --layout.rollout=1 --layout.teacher=1 --layout.learner=1)
state=$(sl wait-job "$id" 300) || fail "training job ended $state: $(cat "$scratch/t1.out")"
[[ $(wc -l <"$run1/metrics.jsonl") -eq 3 ]] || fail "expected 3 metrics lines: $(cat "$run1/metrics.jsonl")"
last=$(tail -n 1 "$run1/metrics.jsonl")
for key in '"step":3' '"tokens_per_s"' '"t_generate"' '"t_teacher"' '"t_learn"' '"t_sync"'; do
  expect_contains "$last" "$key" "metrics of the last step"
done
log=$(cat "$run1/logs/slurm-$id.0.log")
expect_contains "$log" "launch: srun --mpi=pmix" "launch log in the run directory"
expect_contains "$log" "--ckpt.resume=auto" "a requeued job resumes"
expect_contains "$log" "layout rollout 1 + teacher 1 + learner 1" "the split layout ran"
[[ -d "$run1/final" ]] || fail "no final policy in $run1/final"
grep -q '^resume = auto' "$run1/config.ini" || fail "resolved config does not have ckpt resume = auto"

# 3. A scaling array of training runs, then the report.
study="$scratch/study"
sub=$(slurm/scaling.sh --tasks "1 2 3" --ratios "colocated 1:1:1" --serial --batch-key train.questions_per_step \
  --batch 8 -- "$study" configs/tiny.ini "${tiny[@]}")
for j in $(sed -n 's/^submitted \([0-9]*\):.*/\1/p' <<<"$sub"); do
  state=$(sl wait-job "$j" 300) || fail "scaling array $j ended $state: $(cat "$study"/logs/*.out)"
done
for run in strong_np1_colocated strong_np2_colocated strong_np3_colocated strong_np3_1-1-1; do
  [[ $(wc -l <"$study/$run/metrics.jsonl") -eq 3 ]] || fail "$run: expected 3 metrics lines"
done
/usr/bin/python3 "$src/tools/scaling-report" "$study" >/dev/null || fail "scaling-report failed"
md=$(cat "$study/report.md")
expect_contains "$md" "| strong_np3_1-1-1 | strong | 3 | 1 | 1:1:1 |" "training study table"
expect_contains "$md" "tokens_per_s" "throughput column"
expect_contains "$md" "t_teacher s" "phase columns"
for p in throughput efficiency phases layouts; do
  [[ "$(head -c 8 "$study/plots/$p.png" | od -An -tx1 | tr -d ' \n')" == 89504e470d0a1a0a ]] || fail "plots/$p.png is not a PNG"
done
echo "slurm_train: ok"
