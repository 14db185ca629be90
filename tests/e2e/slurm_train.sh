#!/usr/bin/env bash
# sdz-labels: e2e,slurm
# sdz-timeout: 600
# `sbatch slurm/sdzero.sh configs/tiny.ini` on a real one-node Slurm cluster with 3 tasks:
#   1. the run completes and writes metrics (one line per step) and a checkpoint;
#   2. USR1 to the batch shell (what --signal=B:USR1@120 sends) makes the ranks checkpoint and exit 75,
#      the script requeues the job, and the requeued job resumes from that checkpoint and finishes;
#   3. a scaling array (1, 2, 3 tasks) of training runs completes and tools/scaling-report makes its
#      table and plots.
source "$(dirname "$0")/_lib.sh"
src=${SDZ_SOURCE_DIR:?}
cluster="$scratch/cluster"
trap '"$src/tools/slurm-local.sh" stop "$cluster" || true; rm -rf "$scratch"' EXIT
eval "$("$src/tools/slurm-local.sh" start "$cluster")"
export SDZERO SDZ_ROOT="$src"
unset SDZ_COMMAND
cd "$src"
sl() { "$src/tools/slurm-local.sh" "$1" "$cluster" "${@:2}"; }

# 1. Three tasks to completion: metrics for every step, a checkpoint.
run1="$scratch/run1"
id=$(sbatch --parsable -o "$scratch/t1.out" -n 3 slurm/sdzero.sh configs/tiny.ini --run.dir="$run1" --ckpt.every_steps=1)
state=$(sl wait-job "$id" 300) || fail "training job ended $state: $(cat "$scratch/t1.out")"
[[ $(wc -l <"$run1/metrics.jsonl") -eq 3 ]] || fail "expected 3 metrics lines: $(cat "$run1/metrics.jsonl")"
expect_contains "$(tail -n 1 "$run1/metrics.jsonl")" '"tokens_per_s"' "metrics keys"
ls "$run1"/checkpoints/step_*.h5 >/dev/null 2>&1 || fail "no checkpoint in $run1/checkpoints"
expect_contains "$(cat "$run1/logs/slurm-$id.0.log")" "launch: srun --mpi=pmix" "launch log in the run directory"

# 2. USR1 -> checkpoint -> exit 75 -> requeue -> resume -> finish.
run2="$scratch/run2"
steps=40
id=$(sbatch --parsable -o "$scratch/t2.out" -n 3 slurm/sdzero.sh configs/tiny.ini --run.dir="$run2" \
  --train.steps=$steps --ckpt.every_steps=1000)
end=$((SECONDS + 240))
until [[ -s "$run2/metrics.jsonl" && $(wc -l <"$run2/metrics.jsonl") -ge 2 ]]; do
  ((SECONDS < end)) || fail "no training steps after 240 s: $(cat "$scratch/t2.out")"
  sleep 0.2
done
scancel --batch --signal=USR1 "$id"
requeued() { [[ "$(sl job-field "$id" Restarts)" -ge 1 ]]; }
end=$((SECONDS + 120))
until requeued; do ((SECONDS < end)) || fail "the job was not requeued: $(cat "$scratch/t2.out")"; sleep 0.2; done
# Slurm holds a requeued job back for one credential lifetime (cred_expire, 10 s in the local
# cluster): moving its start time earlier races the node's record of the killed run and fails the
# job. Restarts counts up while the first run is still ending, so wait for the second run to start
# (its own log) before waiting for the job's final state.
end=$((SECONDS + 240))
until [[ -f "$run2/logs/slurm-$id.1.log" ]]; do
  ((SECONDS < end)) || fail "the requeued job never started: $(cat "$scratch/t2.out")"
  sleep 0.5
done
state=$(sl wait-job "$id" 300) || fail "the requeued job ended $state: $(cat "$scratch/t2.out")"
out=$(cat "$scratch/t2.out")
expect_contains "$out" "got SIGUSR1" "the batch shell forwarded the signal"
expect_contains "$out" "requeueing job $id" "requeue on exit 75"
ls "$run2"/checkpoints/step_*.h5 >/dev/null 2>&1 || fail "no checkpoint after USR1"
[[ -f "$run2/logs/slurm-$id.1.log" ]] || fail "the requeued job wrote no log of its own"
expect_contains "$(cat "$run2/logs/slurm-$id.1.log")" "resum" "the requeued job resumed"
last=$(tail -n 1 "$run2/metrics.jsonl")
expect_contains "$last" "\"step\":$steps" "the resumed run reached its last step (logs: $(tail -n 5 "$run2"/logs/*.log))"

# 3. A scaling array of training runs, then the report.
study="$scratch/study"
sub=$(slurm/scaling.sh --tasks "1 2 3" --ratios "colocated 1:1:1" --serial --batch-key train.questions_per_step --batch 8 \
  -- "$study" configs/tiny.ini --train.steps=3)
for j in $(sed -n 's/^submitted \([0-9]*\):.*/\1/p' <<<"$sub"); do
  state=$(sl wait-job "$j" 300) || fail "scaling array $j ended $state: $(cat "$study"/logs/*.out)"
done
/usr/bin/python3 "$src/tools/scaling-report" "$study" >/dev/null || fail "scaling-report failed"
expect_contains "$(cat "$study/report.md")" "| strong_np3_1-1-1 | strong | 3 | 1 | 1:1:1 |" "training study table"
for p in throughput efficiency phases layouts; do
  [[ -s "$study/plots/$p.png" ]] || fail "no plots/$p.png"
done
echo "slurm_train: ok"
