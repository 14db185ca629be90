#!/usr/bin/env bash
# sdz-labels: e2e,mpi
# sdz-timeout: 600
# `sdzero bench --pipeline`, reduced (tiny shape, 1 and 2 ranks, 2 steps): it runs real training jobs
# under mpirun and writes JSON with throughput, phase shares and the async speed-up per rank count.
source "$(dirname "$0")/_lib.sh"
out="$scratch/bench.json"
"$SDZERO" bench --pipeline --shape tiny --ranks 1,2 --steps 2 --questions 4 --max-new-tokens 8 --out "$out" \
  > "$scratch/stdout.json" 2> "$scratch/stderr.log" || { cat "$scratch/stderr.log"; fail "bench --pipeline failed"; }
cmp -s "$out" "$scratch/stdout.json" || fail "stdout and --out differ"
python3 - "$out" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
for k in ["shape", "model", "steps", "max_new_tokens", "runs", "async_speedup", "cores"]:
    assert k in j, k
assert j["shape"] == "tiny"
runs = j["runs"]
assert sorted((r["ranks"], r["max_staleness"]) for r in runs) == [(1, 0), (1, 1), (2, 0), (2, 1)], runs
for r in runs:
    for k in ["layout", "tokens_per_s", "steps_per_s", "seconds", "generated_tokens", "phase_share"]:
        assert k in r, (k, r)
    assert r["tokens_per_s"] > 0 and r["steps_per_s"] > 0 and r["steps"] == 2, r
    share = r["phase_share"]
    assert set(share) == {"generate", "verify", "teacher", "learn", "sync", "exchange", "idle"}, share
    assert all(0 <= v <= 1 for v in share.values()) and abs(sum(share.values()) - 1) < 0.05, share
    assert share["generate"] > 0 and share["learn"] > 0, share
assert set(j["async_speedup"]) == {"1", "2"} and all(v > 0 for v in j["async_speedup"].values())
print("bench --pipeline keys ok:", j["async_speedup"])
PY
# A bad rank count is a clear error before any run starts.
set +e
err=$("$SDZERO" bench --pipeline --ranks 1,7 --out "$scratch/x.json" 2>&1)
rc=$?
set -e
[[ $rc -ne 0 ]] || fail "--ranks 7 was accepted"
expect_contains "$err" "--ranks" "the error names the flag"
echo "bench_pipeline: ok"
