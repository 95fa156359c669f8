/**
 * MaskBench (SPEC.md §6, after guidance-ai/jsonschemabench): for each file `{schema, tests:[{data,
 * valid}]}`, compile the schema for Python's `json.dumps` layout, tokenize each instance canonically,
 * feed it token by token (mask → the token must be allowed → advance), then require EOS. A valid
 * instance must be accepted, an invalid one rejected somewhere; a schema passes when it compiles and
 * every test behaves. Times: TBM = one mask() call; TTFM = compile + the first mask.
 *
 * Each schema has a time limit. Schemas run in a worker thread (compiled build) that is terminated
 * and replaced when the limit passes, so a hang inside one mask() call is still a timeout, never a
 * hung benchmark; the token loop also checks the deadline itself (the only guard when running from
 * TypeScript sources, e.g. under jest).
 *
 * Instances are serialized from the file text with numbers kept exactly as written there (a small
 * JSON reader that keeps number lexemes), strings as JSON.stringify writes them (the same escapes as
 * Python with ensure_ascii=False), separators `", "` and `": "`.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { GatewayError, isGatewayError } from '../errors/gateway-error';
import type { CompiledConstraint } from '../decoding/constraint';
import { jsonSchemaToGrammar, GrammarMatcher } from '../decoding/json-schema';
import { TokenMask } from '../decoding/token-mask';
import type { Vocabulary } from '../decoding/vocabulary';
import { parseJson } from '../util/parse-json';

export type MaskBenchTokenizer = 'llama3' | 'gpt2' | 'demo';

export interface MaskBenchOptions {
  dataDir: string;
  tokenizer: MaskBenchTokenizer;
  limit?: number;
  timeoutMs?: number;
  /** `tokens` (default) = the engine, token by token; `text` = the character-level reference matcher (no masks, for development). */
  mode?: 'tokens' | 'text';
  /** Run in-process instead of in a worker thread. */
  inProcess?: boolean;
  progress?: (done: number, total: number, summary: MaskBenchSummary) => void;
  /** Called every `checkpointEvery` schemas with the figures so far (partial results survive a stopped run). */
  checkpoint?: (partial: MaskBenchRun) => void;
  checkpointEvery?: number;
}

export interface MaskBenchResult {
  engine: string;
  tokenizer: string;
  vocab_size: number;
  schemas: number;
  passing: number;
  compile_errors: number;
  unsupported: Record<string, number>;
  validation_errors: number;
  invalidation_errors: number;
  timeouts: number;
  tbm_us: { avg: number; p50: number; p90: number; p99: number; p999: number; max: number };
  tbm_over_1ms_share: number;
  ttfm_us: { avg: number; p50: number; p99: number; max: number };
}

export interface MaskBenchSummary {
  passing: number;
  failing: number;
  unsupported: number;
  timeouts: number;
}

export type SchemaOutcome =
  | { type: 'pass' }
  | { type: 'unsupported'; keyword: string; message: string }
  | { type: 'compile-error'; message: string }
  | { type: 'timeout' }
  | { type: 'tests-failed'; validationErrors: number; invalidationErrors: number; details: string[] };

export interface SchemaReport {
  file: string;
  outcome: SchemaOutcome;
  validationErrors: number;
  invalidationErrors: number;
  ttfmMicros: number | null;
  tbmMicros: Float64Array;
}

// ------------------------------------------------------------------------------------ instance text

type RawJson = null | boolean | string | { number: string } | RawJson[] | { object: Array<[string, RawJson]> };

/** A JSON reader that keeps number lexemes; enough for MaskBench files (trusted shape, checked). */
function readRawJson(text: string): RawJson {
  let position = 0;
  const fail = (): never => {
    throw new GatewayError('invalid_request', `bad JSON at offset ${position}`);
  };
  const skip = (): void => {
    while (position < text.length && ' \t\n\r'.includes(text[position])) position++;
  };
  const value = (depth: number): RawJson => {
    if (depth > 1000) fail();
    skip();
    const char = text[position];
    if (char === '{') {
      position++;
      const entries: Array<[string, RawJson]> = [];
      skip();
      if (text[position] === '}') {
        position++;
        return { object: entries };
      }
      for (;;) {
        skip();
        const key = value(depth + 1);
        if (typeof key !== 'string') fail();
        skip();
        if (text[position++] !== ':') fail();
        entries.push([key as string, value(depth + 1)]);
        skip();
        const next = text[position++];
        if (next === '}') return { object: entries };
        if (next !== ',') fail();
      }
    }
    if (char === '[') {
      position++;
      const items: RawJson[] = [];
      skip();
      if (text[position] === ']') {
        position++;
        return items;
      }
      for (;;) {
        items.push(value(depth + 1));
        skip();
        const next = text[position++];
        if (next === ']') return items;
        if (next !== ',') fail();
      }
    }
    if (char === '"') {
      const start = position;
      position++;
      while (position < text.length && text[position] !== '"') position += text[position] === '\\' ? 2 : 1;
      position++;
      const parsed = parseJson<string>(text.slice(start, position));
      if (!parsed.ok) fail();
      return (parsed as { ok: true; value: string }).value;
    }
    const match = /^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/.exec(text.slice(position, position + 400));
    if (match) {
      position += match[0].length;
      return { number: match[0] };
    }
    for (const [word, result] of [['true', true], ['false', false], ['null', null]] as const) {
      if (text.startsWith(word, position)) {
        position += word.length;
        return result;
      }
    }
    return fail();
  };
  const result = value(0);
  skip();
  if (position !== text.length) fail();
  return result;
}

/** Python json.dumps(data, ensure_ascii=False) layout, numbers as written. */
export function pythonDumpsRaw(value: RawJson): string {
  if (value === null) return 'null';
  if (value === true) return 'true';
  if (value === false) return 'false';
  if (typeof value === 'string') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(pythonDumpsRaw).join(', ')}]`;
  if ('number' in value) return value.number;
  return `{${value.object.map(([key, item]) => `${JSON.stringify(key)}: ${pythonDumpsRaw(item)}`).join(', ')}}`;
}

export interface MaskBenchFile {
  schema: unknown;
  tests: Array<{ text: string; valid: boolean }>;
}

export function readMaskBenchFile(text: string): MaskBenchFile {
  const raw = readRawJson(text);
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw) || !('object' in raw)) throw new GatewayError('invalid_request', 'not a MaskBench file');
  const entries = new Map(raw.object);
  const parsed = parseJson<{ schema: unknown }>(text);
  if (!parsed.ok) throw new GatewayError('invalid_request', parsed.error);
  const tests = entries.get('tests');
  if (!Array.isArray(tests)) throw new GatewayError('invalid_request', 'MaskBench file without tests');
  return {
    schema: parsed.value.schema,
    tests: tests.map((test) => {
      if (test === null || typeof test !== 'object' || Array.isArray(test) || !('object' in test)) throw new GatewayError('invalid_request', 'bad test');
      const fields = new Map(test.object);
      return { text: pythonDumpsRaw(fields.get('data') ?? null), valid: fields.get('valid') === true };
    }),
  };
}

// ------------------------------------------------------------------------------------ one schema

export interface SchemaRunContext {
  vocabulary: Vocabulary | null;
  mode: 'tokens' | 'text';
  compile: ((schema: unknown, vocabulary: Vocabulary) => CompiledConstraint) | null;
}

class DeadlineExceeded extends Error {}

function loadEngineCompiler(): (schema: unknown, vocabulary: Vocabulary) => CompiledConstraint {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { compileGrammar } = require('../decoding/compile-grammar') as {
    compileGrammar(grammar: unknown, vocabulary: Vocabulary, options?: { limits?: Record<string, unknown> }): CompiledConstraint;
  };
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { DEFAULT_CONSTRAINT_LIMITS } = require('../decoding/constraint-limits') as { DEFAULT_CONSTRAINT_LIMITS: { maxRepeat: number } };
  return (schema, vocabulary) => {
    const grammar = jsonSchemaToGrammar(schema, { whitespace: 'python', limits: { maxRepeat: DEFAULT_CONSTRAINT_LIMITS.maxRepeat } });
    return compileGrammar(grammar, vocabulary, { limits: { maxRules: Math.max(2_000, grammar.rules.size + 16) } });
  };
}

export function createSchemaRunContext(tokenizer: MaskBenchTokenizer, mode: 'tokens' | 'text'): SchemaRunContext {
  if (mode === 'text') return { vocabulary: null, mode, compile: null };
  return { vocabulary: loadVocabulary(tokenizer), mode, compile: loadEngineCompiler() };
}

export function loadVocabulary(tokenizer: MaskBenchTokenizer): Vocabulary {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const loader = require('../decoding/vocabulary-from-tokenizer') as {
    loadBenchmarkVocabulary(name: 'llama3' | 'gpt2'): Vocabulary;
    loadVocabularyFromFile(file: string, options?: { id?: string }): Vocabulary;
  };
  if (tokenizer === 'demo') {
    const file = path.resolve(__dirname, '../../models/rein-demo/tokenizer.json');
    const fallback = path.resolve(__dirname, '../../../models/rein-demo/tokenizer.json');
    const chosen = fs.existsSync(file) ? file : fallback;
    if (!fs.existsSync(chosen)) throw new GatewayError('unavailable', 'the demo model tokenizer (models/rein-demo/tokenizer.json) is not present');
    return loader.loadVocabularyFromFile(chosen, { id: 'rein-demo' });
  }
  return loader.loadBenchmarkVocabulary(tokenizer);
}

/** Runs one MaskBench file; the deadline is checked between tokens. */
export function runSchemaFile(file: string, text: string, context: SchemaRunContext, deadline: number): SchemaReport {
  const samples: number[] = [];
  const report = (outcome: SchemaOutcome, validationErrors = 0, invalidationErrors = 0, ttfm: number | null = null): SchemaReport => ({
    file,
    outcome,
    validationErrors,
    invalidationErrors,
    ttfmMicros: ttfm,
    tbmMicros: Float64Array.from(samples),
  });
  let parsed: MaskBenchFile;
  try {
    parsed = readMaskBenchFile(text);
  } catch (error) {
    return report({ type: 'compile-error', message: `unreadable file: ${(error as Error).message}` });
  }
  const started = process.hrtime.bigint();
  let constraint: CompiledConstraint | null = null;
  let matcher: { matches(text: string): boolean } | null = null;
  let ttfm: number | null = null;
  let mask: TokenMask | null = null;
  try {
    if (context.mode === 'tokens') {
      constraint = context.compile!(parsed.schema, context.vocabulary!);
      mask = new TokenMask(context.vocabulary!.size);
      constraint.start().mask(mask);
      ttfm = Number(process.hrtime.bigint() - started) / 1000;
    } else {
      matcher = GrammarMatcher.forGrammar(jsonSchemaToGrammar(parsed.schema, { whitespace: 'python' }), { maxSteps: 20_000_000 });
      ttfm = Number(process.hrtime.bigint() - started) / 1000;
    }
  } catch (error) {
    if (isGatewayError(error) && error.code === 'constraint_unsupported') {
      return report({ type: 'unsupported', keyword: String(error.details?.keyword ?? error.details?.limit ?? 'unknown'), message: error.message });
    }
    return report({ type: 'compile-error', message: (error as Error).message });
  }
  let validationErrors = 0;
  let invalidationErrors = 0;
  const details: string[] = [];
  try {
    for (const [index, test] of parsed.tests.entries()) {
      if (Date.now() > deadline) throw new DeadlineExceeded();
      let accepted: boolean;
      let where = '';
      if (matcher) {
        accepted = matcher.matches(test.text);
      } else {
        const vocabulary = context.vocabulary!;
        const session = constraint!.start();
        const tokens = vocabulary.encode(test.text);
        accepted = true;
        let offset = 0;
        for (const token of tokens) {
          const before = process.hrtime.bigint();
          session.mask(mask!);
          samples.push(Number(process.hrtime.bigint() - before) / 1000);
          if (!mask!.has(token) || !session.advance(token)) {
            accepted = false;
            where = ` at char ${offset}: ${JSON.stringify(test.text.slice(Math.max(0, offset - 30), offset))}⟨${JSON.stringify(new TextDecoder().decode(vocabulary.tokenBytes(token) ?? new Uint8Array()))}⟩`;
            break;
          }
          offset += new TextDecoder().decode(vocabulary.tokenBytes(token) ?? new Uint8Array()).length;
          if (Date.now() > deadline) throw new DeadlineExceeded();
        }
        if (accepted) {
          const before = process.hrtime.bigint();
          session.mask(mask!);
          samples.push(Number(process.hrtime.bigint() - before) / 1000);
          accepted = vocabulary.eosTokenIds.some((id) => mask!.has(id));
          if (!accepted) where = ' at the end (EOS not allowed)';
        }
      }
      if (test.valid && !accepted) {
        validationErrors++;
        details.push(`test ${index} valid but rejected${where}`);
      } else if (!test.valid && accepted) {
        invalidationErrors++;
        details.push(`test ${index} invalid but accepted: ${test.text.slice(0, 300)}`);
      }
    }
  } catch (error) {
    if (error instanceof DeadlineExceeded) return report({ type: 'timeout' }, validationErrors, invalidationErrors, ttfm);
    return report({ type: 'compile-error', message: `while matching: ${(error as Error).message}` }, validationErrors, invalidationErrors, ttfm);
  }
  if (validationErrors + invalidationErrors > 0) {
    return report({ type: 'tests-failed', validationErrors, invalidationErrors, details }, validationErrors, invalidationErrors, ttfm);
  }
  return report({ type: 'pass' }, 0, 0, ttfm);
}

// ------------------------------------------------------------------------------------ aggregation

function percentile(sorted: Float64Array, fraction: number): number {
  if (sorted.length === 0) return 0;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil(fraction * sorted.length) - 1));
  return sorted[index];
}

const round = (value: number): number => Math.round(value * 10) / 10;

export function aggregate(reports: SchemaReport[], tokenizer: string, vocabularySize: number): MaskBenchResult {
  let total = 0;
  for (const report of reports) total += report.tbmMicros.length;
  const tbm = new Float64Array(total);
  let offset = 0;
  for (const report of reports) {
    tbm.set(report.tbmMicros, offset);
    offset += report.tbmMicros.length;
  }
  tbm.sort();
  const ttfm = Float64Array.from(reports.map((report) => report.ttfmMicros).filter((value): value is number => value !== null)).sort();
  const sum = (values: Float64Array): number => values.reduce((a, b) => a + b, 0);
  const unsupported: Record<string, number> = {};
  let over = 0;
  for (const value of tbm) if (value > 1000) over++;
  for (const report of reports) {
    if (report.outcome.type === 'unsupported') unsupported[report.outcome.keyword] = (unsupported[report.outcome.keyword] ?? 0) + 1;
  }
  return {
    engine: 'rein',
    tokenizer,
    vocab_size: vocabularySize,
    schemas: reports.length,
    passing: reports.filter((report) => report.outcome.type === 'pass').length,
    compile_errors: reports.filter((report) => report.outcome.type === 'compile-error').length,
    unsupported,
    validation_errors: reports.reduce((a, report) => a + report.validationErrors, 0),
    invalidation_errors: reports.reduce((a, report) => a + report.invalidationErrors, 0),
    timeouts: reports.filter((report) => report.outcome.type === 'timeout').length,
    tbm_us: {
      avg: round(tbm.length ? sum(tbm) / tbm.length : 0),
      p50: round(percentile(tbm, 0.5)),
      p90: round(percentile(tbm, 0.9)),
      p99: round(percentile(tbm, 0.99)),
      p999: round(percentile(tbm, 0.999)),
      max: round(tbm.length ? tbm[tbm.length - 1] : 0),
    },
    tbm_over_1ms_share: tbm.length ? Math.round((over / tbm.length) * 1e6) / 1e6 : 0,
    ttfm_us: {
      avg: round(ttfm.length ? sum(ttfm) / ttfm.length : 0),
      p50: round(percentile(ttfm, 0.5)),
      p99: round(percentile(ttfm, 0.99)),
      max: round(ttfm.length ? ttfm[ttfm.length - 1] : 0),
    },
  };
}

// ------------------------------------------------------------------------------------ driver

/**
 * The files in a fixed pseudo-random order (by a hash of the name), so that `--limit N`, or a run
 * stopped early, is a sample across all categories rather than the alphabetically first ones.
 */
export function listMaskBenchFiles(dataDir: string, limit?: number): string[] {
  const files = fs.readdirSync(dataDir).filter((name) => name.endsWith('.json'));
  const keyed = files.map((name) => ({ name, key: createHash('sha256').update(name).digest('hex') }));
  keyed.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const ordered = keyed.map((item) => item.name);
  return limit !== undefined ? ordered.slice(0, limit) : ordered;
}

interface WorkerRequest {
  file: string;
  path: string;
  deadline: number;
}

/** A worker thread that runs schemas one at a time and can be terminated on a timeout. */
class SchemaWorker {
  private worker: Worker;
  private ready!: Promise<void>;
  private pending: { resolve: (report: SchemaReport) => void; reject: (error: Error) => void } | null = null;

  constructor(private readonly tokenizer: MaskBenchTokenizer, private readonly mode: 'tokens' | 'text') {
    this.worker = this.spawn();
  }

  private spawn(): Worker {
    const worker = new Worker(__filename, { workerData: { maskbenchWorker: true, tokenizer: this.tokenizer, mode: this.mode } });
    let markReady: () => void = () => undefined;
    this.ready = new Promise((resolve) => {
      markReady = resolve;
    });
    worker.on('message', (message: SchemaReport | { error: string } | { ready: true }) => {
      if ('ready' in message) {
        markReady();
        return;
      }
      const pending = this.pending;
      this.pending = null;
      if (!pending) return;
      if ('error' in message) pending.reject(new Error(message.error));
      else pending.resolve(message);
    });
    worker.on('error', (error) => {
      const pending = this.pending;
      this.pending = null;
      pending?.reject(error);
    });
    return worker;
  }

  async run(request: Omit<WorkerRequest, 'deadline'>, timeoutMs: number): Promise<SchemaReport | 'timeout'> {
    await this.ready;
    return new Promise((resolve, reject) => {
      // grace beyond the in-loop deadline, for the worker's own clean timeout report
      const timer = setTimeout(() => {
        this.pending = null;
        void this.worker.terminate();
        this.worker = this.spawn();
        resolve('timeout');
      }, timeoutMs + 1000);
      this.pending = {
        resolve: (report) => {
          clearTimeout(timer);
          resolve(report);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      };
      this.worker.postMessage({ ...request, deadline: Date.now() + timeoutMs });
    });
  }

  async close(): Promise<void> {
    await this.worker.terminate();
  }
}

export interface MaskBenchRun {
  result: MaskBenchResult;
  reports: SchemaReport[];
}

export async function runMaskBench(options: MaskBenchOptions): Promise<MaskBenchRun> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const mode = options.mode ?? 'tokens';
  const files = listMaskBenchFiles(options.dataDir, options.limit);
  const reports: SchemaReport[] = [];
  const useWorker = !options.inProcess && __filename.endsWith('.js');
  let vocabularySize = 0;
  let context: SchemaRunContext | null = null;
  let worker: SchemaWorker | null = null;
  if (useWorker) {
    worker = new SchemaWorker(options.tokenizer, mode);
    vocabularySize = mode === 'tokens' ? loadVocabulary(options.tokenizer).size : 0;
  } else {
    context = createSchemaRunContext(options.tokenizer, mode);
    vocabularySize = context.vocabulary?.size ?? 0;
  }
  const summary: MaskBenchSummary = { passing: 0, failing: 0, unsupported: 0, timeouts: 0 };
  try {
    for (const [index, name] of files.entries()) {
      const filePath = path.join(options.dataDir, name);
      let report: SchemaReport;
      if (worker) {
        const outcome = await worker.run({ file: name, path: filePath }, timeoutMs);
        report = outcome === 'timeout' ? { file: name, outcome: { type: 'timeout' }, validationErrors: 0, invalidationErrors: 0, ttfmMicros: null, tbmMicros: new Float64Array() } : outcome;
        if (outcome !== 'timeout') report.tbmMicros = Float64Array.from(report.tbmMicros);
      } else {
        report = runSchemaFile(name, fs.readFileSync(filePath, 'utf8'), context!, Date.now() + timeoutMs);
      }
      reports.push(report);
      if (report.outcome.type === 'pass') summary.passing++;
      else if (report.outcome.type === 'unsupported') summary.unsupported++;
      else if (report.outcome.type === 'timeout') summary.timeouts++;
      else summary.failing++;
      options.progress?.(index + 1, files.length, summary);
      if (options.checkpoint && (index + 1) % (options.checkpointEvery ?? 100) === 0 && index + 1 < files.length) {
        options.checkpoint({ result: aggregate(reports, options.tokenizer, vocabularySize), reports });
      }
    }
  } finally {
    await worker?.close();
  }
  return { result: aggregate(reports, options.tokenizer, vocabularySize), reports };
}

/** Failures grouped by cause, for the report next to the results file. */
export function groupFailures(reports: SchemaReport[]): Record<string, Array<{ file: string; detail: string }>> {
  const groups: Record<string, Array<{ file: string; detail: string }>> = {};
  const add = (group: string, file: string, detail: string): void => {
    (groups[group] ??= []).push({ file, detail });
  };
  for (const report of reports) {
    const outcome = report.outcome;
    switch (outcome.type) {
      case 'pass':
        break;
      case 'unsupported':
        add(`unsupported:${outcome.keyword}`, report.file, outcome.message);
        break;
      case 'compile-error':
        add('compile-error', report.file, outcome.message);
        break;
      case 'timeout':
        add('timeout', report.file, '');
        break;
      case 'tests-failed':
        if (outcome.invalidationErrors > 0) add('invalidation', report.file, outcome.details.join(' | '));
        else add('validation', report.file, outcome.details.join(' | '));
        break;
    }
  }
  return groups;
}

// ------------------------------------------------------------------------------------ worker side

if (!isMainThread && (workerData as { maskbenchWorker?: boolean } | null)?.maskbenchWorker && parentPort) {
  const { tokenizer, mode } = workerData as { tokenizer: MaskBenchTokenizer; mode: 'tokens' | 'text' };
  const port = parentPort;
  let context: SchemaRunContext | null = null;
  let startupError: string | null = null;
  try {
    context = createSchemaRunContext(tokenizer, mode);
  } catch (error) {
    startupError = (error as Error).message;
  }
  port.postMessage({ ready: true });
  port.on('message', (request: WorkerRequest) => {
    try {
      if (!context) throw new Error(startupError ?? 'worker not initialised');
      const report = runSchemaFile(request.file, fs.readFileSync(request.path, 'utf8'), context, request.deadline);
      port.postMessage(report);
    } catch (error) {
      port.postMessage({ error: (error as Error).message });
    }
  });
}
