/**
 * vocabularyFromTokenizerJson: byte strings per token id for ByteLevel BPE (GPT-2, Llama 3) and for
 * SentencePiece-style Metaspace / byte-fallback BPE, and encode() round trips.
 */
import { loadBenchmarkVocabulary, vocabularyFromTokenizerJson } from '../../../src/decoding/vocabulary-from-tokenizer';

const decoder = new TextDecoder();

function textOf(vocabulary: ReturnType<typeof loadBenchmarkVocabulary>, ids: number[]): string {
  const parts: number[] = [];
  for (const id of ids) {
    const bytes = vocabulary.tokenBytes(id);
    if (!bytes) throw new Error(`token ${id} has no bytes`);
    parts.push(...bytes);
  }
  return decoder.decode(Uint8Array.from(parts));
}

describe('benchmark vocabularies', () => {
  test('gpt2: 50,257 tokens, byte-level bytes, EOS special', () => {
    const vocabulary = loadBenchmarkVocabulary('gpt2');
    expect(vocabulary.size).toBe(50257);
    expect(vocabulary.eosTokenIds).toEqual([50256]);
    expect(vocabulary.tokenBytes(50256)).toBeNull();
    // Token 220 is "Ġ" = a single space; 198 is "Ċ" = newline.
    expect(Array.from(vocabulary.tokenBytes(220)!)).toEqual([0x20]);
    expect(Array.from(vocabulary.tokenBytes(198)!)).toEqual([0x0a]);
    const text = 'Hello, world! {"a": [1, 2.5e3]} — naïve 日本語\n\ttab';
    const ids = vocabulary.encode(text);
    expect(ids.length).toBeGreaterThan(5);
    expect(textOf(vocabulary, ids)).toBe(text);
  });

  test('llama3: 128,256 tokens, special tokens without bytes', () => {
    const vocabulary = loadBenchmarkVocabulary('llama3');
    expect(vocabulary.size).toBe(128256);
    expect(vocabulary.eosTokenIds).toEqual([128001, 128009]);
    expect(vocabulary.tokenBytes(128000)).toBeNull();
    expect(vocabulary.tokenBytes(128255)).toBeNull();
    const text = 'int main(void) {\n  return 0; /* ünïcödé 🙂 */\n}\n';
    const ids = vocabulary.encode(text);
    expect(ids).not.toContain(128000);
    expect(textOf(vocabulary, ids)).toBe(text);
    // Every one of the 256 single bytes is some token (needed so any text stays reachable).
    const single = new Set<number>();
    for (let id = 0; id < 128000; id++) {
      const bytes = vocabulary.tokenBytes(id);
      if (bytes && bytes.length === 1) single.add(bytes[0]);
    }
    expect(single.size).toBe(256);
  });
});

describe('SentencePiece-style tokenizer', () => {
  const vocab: Record<string, number> = { '<unk>': 0, '<s>': 1, '</s>': 2 };
  for (let byte = 0; byte < 256; byte++) vocab[`<0x${byte.toString(16).toUpperCase().padStart(2, '0')}>`] = 3 + byte;
  const pieces = ['▁', 'h', 'e', 'l', 'o', 'w', 'r', 'd', 'he', 'll', 'hell', 'hello', '▁w', '▁world', 'or', 'orld', 'ld'];
  pieces.forEach((piece, index) => (vocab[piece] = 259 + index));
  const tokenizerJson = {
    version: '1.0',
    added_tokens: [
      { id: 0, content: '<unk>', special: true, single_word: false, lstrip: false, rstrip: false, normalized: false },
      { id: 1, content: '<s>', special: true, single_word: false, lstrip: false, rstrip: false, normalized: false },
      { id: 2, content: '</s>', special: true, single_word: false, lstrip: false, rstrip: false, normalized: false },
    ],
    normalizer: { type: 'Sequence', normalizers: [{ type: 'Prepend', prepend: '▁' }, { type: 'Replace', pattern: { String: ' ' }, content: '▁' }] },
    pre_tokenizer: null,
    post_processor: null,
    decoder: {
      type: 'Sequence',
      decoders: [
        { type: 'Replace', pattern: { String: '▁' }, content: ' ' },
        { type: 'ByteFallback' },
        { type: 'Fuse' },
        { type: 'Strip', content: ' ', start: 1, stop: 0 },
      ],
    },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: '<unk>',
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: true,
      byte_fallback: true,
      vocab,
      merges: ['h e', 'l l', 'he ll', 'hell o', '▁ w', 'o r', 'l d', 'or ld', '▁w orld'],
    },
  };

  test('▁ is a space, <0xAB> one byte, specials null, default EOS </s>', () => {
    const vocabulary = vocabularyFromTokenizerJson(tokenizerJson, { id: 'tiny-sp' });
    expect(vocabulary.id).toBe('tiny-sp');
    expect(vocabulary.size).toBe(259 + pieces.length);
    expect(vocabulary.eosTokenIds).toEqual([2]);
    expect(vocabulary.tokenBytes(1)).toBeNull();
    expect(Array.from(vocabulary.tokenBytes(3 + 0xab)!)).toEqual([0xab]);
    expect(decoder.decode(vocabulary.tokenBytes(vocab['▁world'])!)).toBe(' world');
    const ids = vocabulary.encode('hello world');
    expect(ids).toContain(vocab['▁world']);
    // The Prepend normalizer adds the dummy-prefix space; bytes are what the tokens add.
    expect(textOf(vocabulary as never, ids)).toBe(' hello world');
    // A character outside the pieces falls back to bytes.
    const fallback = vocabulary.encode('é');
    expect(fallback.slice(-2)).toEqual([3 + 0xc3, 3 + 0xa9]);
  });

  test('the id defaults to a content hash and differs between tokenizers', () => {
    const a = vocabularyFromTokenizerJson(tokenizerJson);
    const b = vocabularyFromTokenizerJson({ ...tokenizerJson, model: { ...tokenizerJson.model, vocab: { ...vocab, extra: 999 } } });
    expect(a.id).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(a.id).not.toBe(b.id);
    expect(b.size).toBe(1000);
  });
});

describe('tiny fixture tokenizers (tests/fixtures/models)', () => {
  const fs = require('node:fs') as typeof import('node:fs');
  const path = require('node:path') as typeof import('node:path');
  const { loadVocabularyFromFile } = require('../../../src/decoding/vocabulary-from-tokenizer') as typeof import('../../../src/decoding/vocabulary-from-tokenizer');
  const models = ['tiny-gpt2', 'tiny-llama'].filter((name) => fs.existsSync(path.resolve(__dirname, `../../fixtures/models/${name}/tokenizer.json`)));

  test.each(models)('%s: token bytes reproduce the encoded text', (name) => {
    const vocabulary = loadVocabularyFromFile(path.resolve(__dirname, `../../fixtures/models/${name}/tokenizer.json`));
    expect(vocabulary.eosTokenIds.length).toBeGreaterThan(0);
    for (const text of ['hello world', 'int x = 42;', '{"a": [1, 2]}', 'naïve 日本']) {
      const ids = vocabulary.encode(text);
      const decoded = textOf(vocabulary, ids);
      // SentencePiece-style tokenizers add the dummy-prefix space; the bytes are what the tokens add.
      expect(decoded === text || decoded === ' ' + text).toBe(true);
    }
  });
});
