/**
 * The demo model's Hugging Face tokenizer (models/rein-demo/tokenizer.json, converted from
 * SentencePiece by tools/train-demo-model) must encode exactly as SentencePiece does: the golden
 * ids in tests/golden/demo-model/tokenizer.json were written by SentencePiece in Python. Also checks
 * the chat template (tokenizer_config.json) renders the text the model was trained on, and that
 * decoding round-trips.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { Template } from '@huggingface/jinja';

const MODEL_DIR = process.env.REIN_DEMO_MODEL_DIR ?? path.resolve(__dirname, '../../../models/rein-demo');
const GOLDEN_DIR = process.env.REIN_DEMO_GOLDEN_DIR ?? path.resolve(__dirname, '../../golden/demo-model');

interface TokenizerCase {
  text: string;
  ids: number[];
  ids_with_specials: number[];
}
interface TokenizerGolden {
  cases: TokenizerCase[];
  chat: { messages: Array<{ role: string; content: string }>; text: string; ids: number[] };
}

function readJson<T>(file: string): T {
  return JSON.parse(fs.readFileSync(file, 'utf8')) as T;
}

const tokenizerJson = readJson<Record<string, unknown>>(path.join(MODEL_DIR, 'tokenizer.json'));
const tokenizerConfig = readJson<Record<string, unknown>>(path.join(MODEL_DIR, 'tokenizer_config.json'));
const golden = readJson<TokenizerGolden>(path.join(GOLDEN_DIR, 'tokenizer.json'));
const tokenizer = new Tokenizer(tokenizerJson, tokenizerConfig);
const SPECIAL_MARKERS = ['<s>', '</s>', '<unk>', '<pad>', '<|system|>', '<|user|>', '<|assistant|>', '<|end|>'];

describe('demo model tokenizer', () => {
  it('has a golden set that covers code, whitespace runs, non-ASCII and emoji', () => {
    const texts = golden.cases.map((entry) => entry.text);
    expect(texts.some((text) => text.includes('def ') && text.includes('\n    '))).toBe(true);
    expect(texts.some((text) => /\p{Extended_Pictographic}/u.test(text))).toBe(true);
    expect(texts.some((text) => /[\u3040-\u30ff]/.test(text))).toBe(true);
    expect(texts.some((text) => text.includes('   '))).toBe(true);
    expect(golden.cases.length).toBeGreaterThanOrEqual(15);
  });

  it.each(golden.cases.map((entry) => [JSON.stringify(entry.text), entry] as const))(
    'encodes %s exactly as SentencePiece',
    (_label, entry) => {
      const encoded = tokenizer.encode(entry.text, { add_special_tokens: false }).ids;
      expect(encoded).toEqual(entry.ids_with_specials);
      if (!SPECIAL_MARKERS.some((marker) => entry.text.includes(marker))) {
        // Without special markers, the section split is a no-op: pure SentencePiece ids.
        expect(encoded).toEqual(entry.ids);
      }
    },
  );

  it('uses byte fallback for characters outside the vocabulary', () => {
    const emoji = golden.cases.find((entry) => entry.text.startsWith('emoji'));
    expect(emoji).toBeDefined();
    const tokens = emoji!.ids.map((id) => tokenizer.id_to_token(id));
    expect(tokens.some((token) => /^<0x[0-9A-F]{2}>$/.test(token ?? ''))).toBe(true);
  });

  it('prepends <s> when special tokens are requested', () => {
    const bos = tokenizer.token_to_id('<s>');
    expect(bos).toBe(1);
    const entry = golden.cases[0]!;
    expect(tokenizer.encode(entry.text).ids).toEqual([bos, ...entry.ids]);
  });

  // Not round-tripped: "▁" in the input (decodes as a space, as in SentencePiece) and text with special
  // markers (each section after a special token gets its own dummy-prefix space, as in Llama's legacy mode).
  const roundTrip = golden.cases.filter(
    (entry) => !entry.text.includes('\u2581') && !SPECIAL_MARKERS.some((marker) => entry.text.includes(marker)),
  );
  it.each(roundTrip.map((entry) => [JSON.stringify(entry.text), entry] as const))(
    'decodes %s back to the same text',
    (_label, entry) => {
      if (entry.ids.length === 0) {
        expect(entry.text).toBe('');
        return;
      }
      expect(tokenizer.decode(entry.ids_with_specials, { skip_special_tokens: false })).toBe(entry.text);
    },
  );

  it('renders the chat template as the model was trained and encodes it identically', () => {
    const template = new Template(String(tokenizerConfig['chat_template']));
    const text = template.render({
      messages: golden.chat.messages,
      add_generation_prompt: true,
      bos_token: tokenizerConfig['bos_token'],
      eos_token: tokenizerConfig['eos_token'],
    });
    expect(text).toBe(golden.chat.text);
    expect(text.endsWith('<|assistant|>')).toBe(true);
    expect(tokenizer.encode(text, { add_special_tokens: false }).ids).toEqual(golden.chat.ids);
  });
});
