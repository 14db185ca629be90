#!/usr/bin/env bash
# Encode throughput of sdzero's BPE against the JavaScript references, in the same run, on 1 MB of
# mixed text (tools/bench-tokenizer.mjs make). Prints one JSON line per implementation and the
# ratios. Usage: tools/bench-tokenizer.sh [SDZERO_BINARY] [MB] [REPEAT] [mixed|prose]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
sdzero="${1:-$repo/build/sdzero}"
mb="${2:-1}"
repeat="${3:-5}"
kind="${4:-mixed}"
cache="${SDZ_TOKENIZER_CACHE:-$repo/.cache/tokenizers}"
[[ -x "$sdzero" ]] || { echo "bench-tokenizer: no sdzero binary at $sdzero (build it, or pass its path)" >&2; exit 1; }
"$here/fetch-tokenizers.sh" >/dev/null
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
node "$here/bench-tokenizer.mjs" make "$work/mixed.txt" "$mb" "$kind"
{
  for t in qwen3 cl100k; do
    "$sdzero" tokenize --tokenizer "$cache/$t/tokenizer.json" --bench "$work/mixed.txt" --repeat "$repeat" |
      sed "s/\"impl\":\"sdzero\"/\"impl\":\"$t sdzero\"/"
  done
  node "$here/bench-tokenizer.mjs" run "$cache" "$work/mixed.txt" "$repeat"
} | tee "$work/results.jsonl"
node -e '
const rows = require("fs").readFileSync(process.argv[1], "utf8").trim().split("\n").map(JSON.parse);
const by = Object.fromEntries(rows.map((r) => [r.impl, r]));
const ratio = (a, b, k) => (by[a][k] / by[b][k]).toFixed(2);
for (const [ours, ref] of [["qwen3 sdzero", "qwen3 @lenml/tokenizers"], ["cl100k sdzero", "cl100k @lenml/tokenizers"],
                           ["cl100k sdzero", "cl100k js-tiktoken"]])
  console.log(`${ours} vs ${ref}: ${ratio(ours, ref, "best_mb_per_s")}x (best of runs), ` +
              `${ratio(ours, ref, "first_mb_per_s")}x (first run); tokens ${by[ours].tokens} vs ${by[ref].tokens}`);
' "$work/results.jsonl"
