#!/usr/bin/env bash
# sdzero bench --quick: every key the issue lists is present for both shapes, fractions lie in (0, 1],
# and the JSON is written to the --out file as well as stdout.
# sdz-timeout: 600
set -euo pipefail
: "${SDZERO:?}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$SDZERO" bench --quick --threads 1 --out "$work/bench.json" > "$work/stdout.json"
cmp -s "$work/bench.json" "$work/stdout.json" || { echo "FAIL: stdout and --out differ" >&2; exit 1; }
for shape in tiny small; do
  for key in peak_gflops_fp32 prefill_tokens_per_s decode_b1_tokens_per_s decode_b64_tokens_per_s \
             decode_b64_frac_of_bound train_tokens_per_s train_mfu score_top64_tokens_per_s; do
    v=$(tr -d '\n ' < "$work/bench.json" | grep -o "\"$shape\":{[^}]*}" | grep -o "\"$key\":[0-9.e+-]*" | cut -d: -f2)
    [ -n "$v" ] || { echo "FAIL: $shape.$key missing" >&2; cat "$work/bench.json" >&2; exit 1; }
    awk -v v="$v" 'BEGIN { exit !(v > 0) }' || { echo "FAIL: $shape.$key = $v" >&2; exit 1; }
  done
  for key in decode_b64_frac_of_bound train_mfu; do
    v=$(tr -d '\n ' < "$work/bench.json" | grep -o "\"$shape\":{[^}]*}" | grep -o "\"$key\":[0-9.e+-]*" | cut -d: -f2)
    awk -v v="$v" 'BEGIN { exit !(v <= 1.0) }' || { echo "FAIL: $shape.$key = $v > 1" >&2; exit 1; }
  done
done
if "$SDZERO" bench --shape huge --out "$work/x.json" 2>"$work/err"; then echo "FAIL: unknown shape accepted" >&2; exit 1; fi
grep -q "unknown bench shape" "$work/err" || { echo "FAIL: unclear error: $(cat "$work/err")" >&2; exit 1; }
echo "model_bench: ok"
