/**
 * Greedy decoding through Rein's OnnxModel.forward with a KV cache, for the demo-model tests: the
 * whole prompt first (empty past), then one token per step, feeding `present.*` back as the past.
 * Returns the chosen tokens and the two largest logits at each step.
 */
import type { ForwardInput, OnnxModel } from '../../../src/backends/onnx/onnx-model';

function int64(values: number[]): BigInt64Array {
  return BigInt64Array.from(values.map((value) => BigInt(value)));
}

export async function onnxGreedy(model: OnnxModel, prompt: number[], count: number, stopIds: readonly number[] = []) {
  let past: ForwardInput['past'] = null;
  let input = prompt;
  let pastLength = 0;
  const tokens: number[] = [];
  const tops: Array<[number, number]> = [];
  for (let step = 0; step < count; step += 1) {
    const output = await model.forward({
      batch: 1,
      length: input.length,
      inputIds: int64(input),
      attentionMask: int64(new Array<number>(pastLength + input.length).fill(1)),
      positionIds: int64(input.map((_, index) => pastLength + index)),
      past,
    });
    const width = output.vocabWidth;
    const offset = (input.length - 1) * width;
    let best = 0;
    let second = 1;
    if (output.logits[offset + second]! > output.logits[offset + best]!) [best, second] = [second, best];
    for (let index = 2; index < width; index += 1) {
      const value = output.logits[offset + index]!;
      if (value > output.logits[offset + best]!) {
        second = best;
        best = index;
      } else if (value > output.logits[offset + second]!) {
        second = index;
      }
    }
    tokens.push(best);
    tops.push([output.logits[offset + best]!, output.logits[offset + second]!]);
    if (stopIds.includes(best)) break;
    past = output.presents;
    pastLength += input.length;
    input = [best];
  }
  return { tokens, tops };
}
