#!/usr/bin/env bash
# sdz-labels: e2e
# `sdzero tokenize`: encode lines, --json-lines, --decode, errors naming stdin:LINE, on the char
# tokenizer of the tiny models and on Qwen3's tokenizer.json (from tools/fetch-tokenizers.sh).
source "$(dirname "$0")/_lib.sh"

cat > "$scratch/char.json" <<'JSON'
{"type": "sdzero-char", "version": 1, "tokens": ["<pad>", "<q>", "<a>", "<e>", "<w>", "<r>", "0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "+", "-", "*", "/", "=", "|", "#", ";", ",", ">"]}
JSON
out=$(printf '<q>1+2<a>3<e>\n12\n' | "$SDZERO" tokenize --tokenizer "$scratch/char.json")
[[ "$out" == $'[1,7,16,8,2,9,3]\n[7,8]' ]] || fail "char encode: $out"
out=$(printf '[1,7,16,8,2,9,3]\n[]\n' | "$SDZERO" tokenize --tokenizer "$scratch/char.json" --decode)
[[ "$out" == $'"<q>1+2<a>3<e>"\n""' ]] || fail "char decode: $out"
if err=$(printf '12\n1x\n' | "$SDZERO" tokenize --tokenizer "$scratch/char.json" 2>&1); then fail "unknown char accepted"; fi
expect_contains "$err" "stdin:2" "error names the line"
expect_contains "$err" "U+0078" "error names the character"
if err=$(printf '[1, 99]\n' | "$SDZERO" tokenize --tokenizer "$scratch/char.json" --decode 2>&1); then fail "bad id accepted"; fi
expect_contains "$err" "token id 99" "unknown id"
if err=$("$SDZERO" tokenize < /dev/null 2>&1); then fail "missing --tokenizer accepted"; fi
expect_contains "$err" "--tokenizer FILE is required" "missing flag"

cache="${SDZ_TOKENIZER_CACHE:-$SDZ_SOURCE_DIR/.cache/tokenizers}"
qwen="$cache/qwen3/tokenizer.json"
[[ -f "$qwen" ]] || fail "missing $qwen: run tools/fetch-tokenizers.sh"
out=$(printf 'Hello world! 12345 \\boxed{42}\n' | "$SDZERO" tokenize --tokenizer "$qwen")
[[ "$out" == "[9707,1879,0,220,16,17,18,19,20,1124,79075,90,19,17,92]" ]] || fail "qwen3 encode: $out"
out=$(printf '"<|im_start|>user\\nhi<|im_end|>\\n"\n' | "$SDZERO" tokenize --tokenizer "$qwen" --json-lines)
[[ "$out" == "[151644,872,198,6023,151645,198]" ]] || fail "qwen3 json-lines: $out"
out=$(echo "$out" | "$SDZERO" tokenize --tokenizer "$qwen" --decode)
[[ "$out" == '"<|im_start|>user\nhi<|im_end|>\n"' ]] || fail "qwen3 decode: $out"
if err=$(printf 'not json\n' | "$SDZERO" tokenize --tokenizer "$qwen" --json-lines 2>&1); then fail "bad json line accepted"; fi
expect_contains "$err" "stdin:1" "json-lines error"
echo "tokenize e2e: ok"
