#!/usr/bin/env bash
# sdz-labels: e2e
# `sdzero verify`: one reward line per input line, in order, bad lines scored 0 without stopping the
# others; reward.command kept alive across lines; its failure is a clear error.
source "$(dirname "$0")/_lib.sh"

out=$("$SDZERO" verify --in "$SDZ_SOURCE_DIR/data/verify_sample.jsonl")
rewards=$(echo "$out" | python3 -c 'import json,sys; print(" ".join(str(int(json.loads(l)["reward"])) for l in sys.stdin))')
[[ "$rewards" == "1 0 0 1 1 1 1 1 0 0" ]] || fail "rewards were: $rewards"
expect_contains "$(echo "$out" | sed -n 10p)" "line 10: not a JSON object" "bad line reason"
expect_contains "$(echo "$out" | sed -n 9p)" "limit" "infinite loop stopped"
expect_contains "$(echo "$out" | sed -n 3p)" "value 448 is not the target 456" "div reason"

# stdin works too, and missing fields are reasons.
out=$(printf '%s\n' '{"kind":"math","answer":"1"}' '' '{"kind":"math","response":"\\boxed{1}","answer":"1"}' | "$SDZERO" verify)
expect_contains "$(echo "$out" | sed -n 1p)" "missing field 'response'" "missing response"
expect_contains "$(echo "$out" | sed -n 2p)" "empty line" "blank line"
expect_contains "$(echo "$out" | sed -n 3p)" '"reward":1.0' "good line after bad ones"

# reward.command: one process answers every line.
cat > "$scratch/judge.py" <<'PY'
import json, os, sys
for line in sys.stdin:
    q = json.loads(line)
    print(json.dumps({"reward": float(q["response"] == q["answer"]), "reason": str(os.getpid())}), flush=True)
PY
out=$(printf '%s\n' '{"kind":"x","response":"a","answer":"a"}' '{"kind":"x","response":"b","answer":"a"}' \
      | "$SDZERO" verify --reward.command="python3 $scratch/judge.py")
pids=$(echo "$out" | python3 -c 'import json,sys; print(len({json.loads(l)["reason"] for l in sys.stdin}))')
[[ "$pids" == 1 ]] || fail "reward.command restarted between lines: $out"
expect_contains "$(echo "$out" | sed -n 2p)" '"reward":0.0' "external reward"
if err=$(echo '{"kind":"x","response":"a","answer":"a"}' | "$SDZERO" verify --reward.command="exit 4" 2>&1); then
  fail "a failing reward.command was accepted"
fi
expect_contains "$err" "reward.command" "external failure names the key"
expect_contains "$err" "exited with status 4" "external failure says how"

out=$("$SDZERO" verify --check-sandbox)
expect_contains "$out" "network namespace" "sandbox report"
