/**
 * createOnnxScorer: per-token log-probabilities of texts under an OnnxModel (the LanguageModelScorer
 * the perplexity detectors use).
 *
 * Each text is tokenized without special tokens and scored after BOS (the tokenizer's BOS, else the
 * first EOS id, as GPT-2 does), so the first token is "given BOS". Texts longer than the context are
 * scored in consecutive windows, each starting again after BOS. Several texts go through one forward
 * pass (left padding + attention mask), in groups whose logits stay under a memory bound.
 * Offsets are UTF-16 positions in the scored string, from the tokens' bytes (a SentencePiece tokenizer's
 * prepended space is accounted for).
 */
import { GatewayError } from '../../errors/gateway-error';
import type { LanguageModelScorer, TokenScore } from '../language-model-scorer';
import type { OnnxModel } from './onnx-model';

export interface OnnxScorerOptions {
  /** Largest logits tensor of one forward pass, in floats (default 16M = 64 MB). */
  maxLogitFloats?: number;
  /** Longest text accepted, in characters (default 100,000). */
  maxTextLength?: number;
}

interface Window {
  text: number;
  /** Token ids of this window (without BOS) and the index of its first token in the text's tokens. */
  ids: number[];
  start: number;
}

export function createOnnxScorer(model: OnnxModel, options: OnnxScorerOptions = {}): LanguageModelScorer {
  const maxLogitFloats = options.maxLogitFloats ?? 16 * 1024 * 1024;
  const maxTextLength = options.maxTextLength ?? 100_000;
  const vocabulary = model.vocabulary;
  const configBos = model.folder.config.bos_token_id;
  const bosFromTokenizer = model.folder.bosToken !== undefined ? model.encodePrompt({ prompt: '' }) : [];
  const bos = bosFromTokenizer.length === 1 ? bosFromTokenizer[0] : typeof configBos === 'number' ? configBos : model.eosTokenIds[0];
  const windowLength = Math.max(1, model.contextLength - 1);

  function offsetsFor(text: string, ids: number[]): TokenScore[] {
    // A streaming decoder holds back an incomplete character, so each token's end is exact.
    const stream = new TextDecoder();
    const raw: Array<{ text: string; start: number; end: number }> = [];
    let decoded = 0;
    for (const id of ids) {
      const piece = stream.decode(vocabulary.tokenBytes(id) ?? new Uint8Array(0), { stream: true });
      raw.push({ text: piece, start: decoded, end: decoded + piece.length });
      decoded += piece.length;
    }
    // The decoded text may begin with a space the tokenizer prepended (Metaspace): shift it away.
    const shift = decoded === text.length + 1 && raw.length > 0 && raw[0].text.startsWith(' ') && !text.startsWith(' ') ? 1 : 0;
    const clamp = (value: number): number => Math.max(0, Math.min(text.length, value - shift));
    return ids.map((id, index) => ({ token: id, text: raw[index].text, start: clamp(raw[index].start), end: clamp(raw[index].end), logprob: 0 }));
  }

  async function scoreWindows(windows: Window[], results: TokenScore[][], signal?: AbortSignal): Promise<void> {
    const width = Math.max(1, vocabulary.size);
    let index = 0;
    while (index < windows.length) {
      if (signal?.aborted) throw new GatewayError('backend_timeout', 'scoring aborted');
      // Group windows while the logits stay under the bound.
      let group = 1;
      let longest = windows[index].ids.length + 1;
      while (index + group < windows.length) {
        const next = Math.max(longest, windows[index + group].ids.length + 1);
        if ((group + 1) * next * width > maxLogitFloats) break;
        longest = next;
        group++;
      }
      const batch = windows.slice(index, index + group);
      const length = longest;
      const inputIds = new BigInt64Array(group * length);
      const mask = new BigInt64Array(group * length);
      const positions = new BigInt64Array(group * length);
      batch.forEach((window, row) => {
        const sequence = [bos, ...window.ids];
        const pad = length - sequence.length;
        sequence.forEach((token, column) => {
          inputIds[row * length + pad + column] = BigInt(token);
          mask[row * length + pad + column] = 1n;
          positions[row * length + pad + column] = BigInt(column);
        });
      });
      const output = await model.forward({ batch: group, length, inputIds, attentionMask: mask, positionIds: positions, past: null });
      const vocabWidth = output.vocabWidth;
      batch.forEach((window, row) => {
        const pad = length - (window.ids.length + 1);
        const target = results[window.text];
        window.ids.forEach((token, position) => {
          // Logits at column (pad + position) predict the token after it: window.ids[position].
          const offset = (row * length + pad + position) * vocabWidth;
          let max = -Infinity;
          for (let column = 0; column < vocabulary.size; column++) max = Math.max(max, output.logits[offset + column]);
          let sum = 0;
          for (let column = 0; column < vocabulary.size; column++) sum += Math.exp(output.logits[offset + column] - max);
          target[window.start + position].logprob = output.logits[offset + token] - max - Math.log(sum);
        });
      });
      index += group;
    }
  }

  async function scoreBatch(texts: string[], signal?: AbortSignal): Promise<TokenScore[][]> {
    const results: TokenScore[][] = [];
    const windows: Window[] = [];
    texts.forEach((text, textIndex) => {
      if (text.length > maxTextLength) throw new GatewayError('payload_too_large', `text to score is longer than ${maxTextLength} characters`);
      const ids = model.encodeText(text);
      results.push(offsetsFor(text, ids));
      for (let start = 0; start < ids.length; start += windowLength) windows.push({ text: textIndex, ids: ids.slice(start, start + windowLength), start });
    });
    // Similar lengths together waste less padding.
    windows.sort((left, right) => left.ids.length - right.ids.length);
    await scoreWindows(windows, results, signal);
    return results;
  }

  return {
    id: `onnx:${model.id}`,
    async score(text: string, signal?: AbortSignal): Promise<TokenScore[]> {
      return (await scoreBatch([text], signal))[0];
    },
    scoreBatch,
  };
}
