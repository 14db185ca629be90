#!/usr/bin/env node
// The JavaScript side of tools/bench-tokenizer.sh.
//   node bench-tokenizer.mjs make OUT_FILE [MB] [KIND]  writes the benchmark text (seeded); KIND
//                                                       mixed (default) or prose (pseudo-English only)
//   node bench-tokenizer.mjs run CACHE TEXT_FILE [N]    encodes it N times with each reference
// The text mixes the fixture corpus (CJK, emoji, code, LaTeX, digits, whitespace runs, special
// tokens) with seeded pseudo-English, so piece caches do not see only repeats.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const [mode, a, b, c] = process.argv.slice(2);

if (mode === 'make') {
  const target = Math.round((Number(b) || 1) * 1e6);
  const kind = c || 'mixed';
  const corpus = fs.readFileSync(path.join(repo, 'tests/text/fixtures/qwen3.jsonl'), 'utf8')
    .split('\n').filter(Boolean).map((l) => JSON.parse(l)).filter((r) => r.text !== undefined).map((r) => r.text);
  let seed = 2026;
  const rnd = () => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed / 2147483648; };
  const syl = ['ka', 'to', 'ri', 'en', 'the', 'ing', 'con', 'ver', 'sa', 'tion', 'pro', 'gram', 'al', 'go', 'rithm',
    'mo', 'del', 'da', 'ta', 'train', 'er', 'or', 'an', 'is', 'of', 'in', 'un', 'der', 'stand', 'cal', 'cu', 'lus'];
  const word = () => { let w = ''; for (let n = 1 + Math.floor(rnd() * 3); n > 0; n--) w += syl[Math.floor(rnd() * syl.length)]; return w; };
  const parts = [];
  let size = 0;
  while (size < target) {
    let p;
    if (kind === 'mixed' && rnd() < 0.5) p = corpus[Math.floor(rnd() * corpus.length)];
    else {
      const words = [];
      for (let n = 5 + Math.floor(rnd() * 20); n > 0; n--) words.push(rnd() < 0.1 ? String(Math.floor(rnd() * 1e6)) : word());
      p = words.join(' ').replace(/^./, (x) => x.toUpperCase()) + '.';
    }
    p += rnd() < 0.3 ? '\n\n' : '\n';
    parts.push(p);
    size += Buffer.byteLength(p);
  }
  fs.writeFileSync(a, Buffer.from(parts.join('')).subarray(0, target).toString('utf8').replace(/\uFFFD$/, ''));
  process.exit(0);
}

if (mode !== 'run') { console.error('usage: bench-tokenizer.mjs make OUT [MB] | run CACHE TEXT [N]'); process.exit(2); }
const cache = a, text = fs.readFileSync(b, 'utf8'), repeat = Number(c) || 5;
const bytes = Buffer.byteLength(text);
const mod = (p) => import(pathToFileURL(path.join(cache, 'node_modules', p)).href);
const { TokenizerLoader } = await mod('@lenml/tokenizers/dist/main.mjs');
const { Tiktoken } = await mod('js-tiktoken/dist/lite.js');
const ranks = (await mod('js-tiktoken/dist/ranks/cl100k_base.js')).default;
const load = (name) => TokenizerLoader.fromPreTrained({
  tokenizerJSON: JSON.parse(fs.readFileSync(path.join(cache, name, 'tokenizer.json'), 'utf8')), tokenizerConfig: {} });
const impls = {
  'qwen3 @lenml/tokenizers': ((t) => (s) => t.encode(s, { add_special_tokens: false }))(load('qwen3')),
  'cl100k @lenml/tokenizers': ((t) => (s) => t.encode(s, { add_special_tokens: false }))(load('cl100k')),
  'cl100k js-tiktoken': ((t) => (s) => t.encode(s, 'all'))(new Tiktoken(ranks)),
};
for (const [name, f] of Object.entries(impls)) {
  let first = 0, best = Infinity, tokens = 0;
  for (let r = 0; r < repeat; r++) {
    const t0 = process.hrtime.bigint();
    tokens = f(text).length;
    const s = Number(process.hrtime.bigint() - t0) / 1e9;
    if (r === 0) first = s;
    best = Math.min(best, s);
  }
  console.log(JSON.stringify({ impl: name, bytes, tokens, first_s: first, best_s: best,
    first_mb_per_s: bytes / first / 1e6, best_mb_per_s: bytes / best / 1e6 }));
}
