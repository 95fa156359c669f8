/**
 * A LanguageModelScorer backed by Rein's fallback guard LM: a character 4-gram model (models/guards/char-lm.bin,
 * trained by tools/train-injection-classifier/train_char_lm.py on public-domain and CC BY-SA English). Tokens are
 * characters; log-probabilities come from a dense table of quantised values, so scoring is a lookup per character
 * (millions of characters per second). The perplexity detectors take any LanguageModelScorer — the ONNX guard model
 * via createOnnxScorer(model) when configured — and use this one when none is.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { LanguageModelScorer, TokenScore } from '../../backends/language-model-scorer';
import { GatewayError } from '../../errors/gateway-error';
import { parseJson } from '../../util/parse-json';

interface CharLmConfig {
  alphabet: string;
  order: number;
  scale: number;
  table: string;
  version?: string;
}

/** Characters scored at most per call (longer texts are scored in full by the caller's windows, never unbounded). */
export const CHAR_LM_MAX_CHARS = 100000;

const loaded = new Map<string, LanguageModelScorer>();

export function createCharNgramScorer(modelsDir: string): LanguageModelScorer {
  const configPath = path.join(modelsDir, 'guards', 'char-lm.json');
  const cached = loaded.get(configPath);
  if (cached) return cached;
  let configText: string;
  try {
    configText = fs.readFileSync(configPath, 'utf8');
  } catch (error) {
    throw new GatewayError('unavailable', `guard LM ${configPath} is missing`, { cause: error });
  }
  const parsed = parseJson<CharLmConfig>(configText);
  if (!parsed.ok) throw new GatewayError('internal_error', `guard LM config ${configPath} is not valid JSON`);
  const config = parsed.value;
  const table = fs.readFileSync(path.join(modelsDir, 'guards', config.table));
  const size = config.alphabet.length;
  if (table.length !== size ** config.order) throw new GatewayError('internal_error', `guard LM table has ${table.length} entries, expected ${size ** config.order}`);
  const codeOf = new Map<string, number>();
  for (let index = 0; index < size; index++) codeOf.set(config.alphabet[index], index);
  const other = codeOf.get('#') as number;
  const space = codeOf.get(' ') as number;
  const encode = (character: string): number => {
    const lower = character.toLowerCase();
    if (lower >= '0' && lower <= '9') return codeOf.get('0') as number;
    if (lower === '\t' || lower === '\r') return space;
    return codeOf.get(lower) ?? other;
  };
  const scorer: LanguageModelScorer = {
    id: `char-lm@${config.version ?? '1'}`,
    async score(text: string): Promise<TokenScore[]> {
      const limited = text.slice(0, CHAR_LM_MAX_CHARS);
      const scores: TokenScore[] = [];
      // Context starts as line breaks (the model saw texts separated by "\n").
      const newline = codeOf.get('\n') as number;
      const context: number[] = new Array(config.order - 1).fill(newline);
      for (let offset = 0; offset < limited.length; offset++) {
        const code = encode(limited[offset]);
        let index = 0;
        for (const previous of context) index = index * size + previous;
        index = index * size + code;
        scores.push({ token: code, text: limited[offset], start: offset, end: offset + 1, logprob: -table[index] / config.scale });
        context.shift();
        context.push(code);
      }
      return scores;
    },
    async scoreBatch(texts: string[]): Promise<TokenScore[][]> {
      return Promise.all(texts.map((item) => scorer.score(item)));
    },
  };
  loaded.set(configPath, scorer);
  return scorer;
}
