#!/usr/bin/env node
// Builds a Hugging Face tokenizer.json for cl100k_base from the tiktoken ranks in js-tiktoken:
// vocab (byte-level strings, id = rank), merges recovered from the ranks, the cl100k Split regex
// (the form Olmo-2/Olmo-3's tokenizer.json uses) and ignore_merges (tiktoken takes a piece that is
// itself a token without merging). Merges are written in the "a b" string form on purpose: Qwen3's
// file uses the ["a","b"] pair form, so the two fixtures cover both.
// Usage: node make-cl100k.mjs NODE_MODULES_DIR OUT_JSON
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const [modulesDir, outPath] = process.argv.slice(2);
if (!modulesDir || !outPath) { console.error('usage: make-cl100k.mjs NODE_MODULES_DIR OUT_JSON'); process.exit(2); }
const ranksUrl = pathToFileURL(path.join(modulesDir, 'js-tiktoken/dist/ranks/cl100k_base.js'));
const ranks = (await import(ranksUrl.href)).default;

// tiktoken's compressed rank list: "! OFFSET base64 base64 ..." lines.
const tokens = [];  // rank -> Buffer
for (const line of ranks.bpe_ranks.split('\n')) {
  if (!line) continue;
  const [, offsetStr, ...b64] = line.split(' ');
  const offset = Number.parseInt(offsetStr, 10);
  b64.forEach((t, i) => { tokens[offset + i] = Buffer.from(t, 'base64'); });
}
const rankOf = new Map();
tokens.forEach((b, r) => { if (b) rankOf.set(b.toString('latin1'), r); });

// GPT-2's byte -> printable char table (the ByteLevel alphabet).
const byteChar = [];
{
  const keep = [];
  for (let b = 33; b <= 126; b++) keep.push(b);
  for (let b = 161; b <= 172; b++) keep.push(b);
  for (let b = 174; b <= 255; b++) keep.push(b);
  let extra = 0;
  for (let b = 0; b < 256; b++) byteChar[b] = String.fromCodePoint(keep.includes(b) ? b : 256 + extra++);
}
const toLevel = (buf) => Array.from(buf, (b) => byteChar[b]).join('');

// The merge that creates token t: run BPE on t's bytes using only tokens of lower rank; the two
// parts left are the merge. Merges are listed in the rank order of the token they create.
function lastMerge(buf, maxRank) {
  let parts = Array.from(buf, (b) => Buffer.from([b]));
  while (parts.length > 2) {
    let best = -1, bestRank = Infinity;
    for (let i = 0; i + 1 < parts.length; i++) {
      const r = rankOf.get(Buffer.concat([parts[i], parts[i + 1]]).toString('latin1'));
      if (r !== undefined && r < maxRank && r < bestRank) { bestRank = r; best = i; }
    }
    if (best < 0) return null;
    parts.splice(best, 2, Buffer.concat([parts[best], parts[best + 1]]));
  }
  return parts;
}
const vocab = {};
const merges = [];
tokens.forEach((buf, r) => {
  if (!buf) return;
  vocab[toLevel(buf)] = r;
  if (buf.length < 2) return;
  const parts = lastMerge(buf, r);
  if (!parts || parts.length !== 2) throw new Error(`no merge for rank ${r}`);
  merges.push(toLevel(parts[0]) + ' ' + toLevel(parts[1]));
});
const added = Object.entries(ranks.special_tokens).map(([content, id]) => ({
  id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true,
}));
const pattern = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
const tok = {
  version: '1.0', truncation: null, padding: null, added_tokens: added, normalizer: null,
  pre_tokenizer: { type: 'Sequence', pretokenizers: [
    { type: 'Split', pattern: { Regex: pattern }, behavior: 'Isolated', invert: false },
    { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false } ] },
  post_processor: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: false, use_regex: true },
  decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
  model: { type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: '', end_of_word_suffix: '',
           fuse_unk: false, byte_fallback: false, ignore_merges: true, vocab, merges },
};
fs.mkdirSync(path.dirname(outPath), { recursive: true });
fs.writeFileSync(outPath + '.tmp', JSON.stringify(tok));
fs.renameSync(outPath + '.tmp', outPath);
console.log(`cl100k: ${Object.keys(vocab).length} tokens, ${merges.length} merges -> ${outPath}`);
