/** @jest-environment ./tests/unit/onnx/onnx-test-environment.js */
/**
 * The shipped hashed-n-gram classifiers are evaluated by the JavaScript linear fast path, which must give
 * onnxruntime's probabilities: checked here on 400 generated texts of mixed kinds (the classifier itself
 * checks 10 probe texts at load time), and the ONNX graph reader refuses what it does not understand.
 */
import fs from 'node:fs';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { featurize, type FeatureNormalization } from '../../../src/safety/detectors/hashed-ngram-features';
import { loadTextClassifier } from '../../../src/safety/detectors/onnx-text-classifier';
import { readOnnxGraph } from '../../../src/util/onnx-graph-reader';
import { mulberry32 } from '../../../src/util/mulberry32';

const guards = path.resolve(__dirname, '../../../models/guards');

function texts(count: number): string[] {
  const random = mulberry32(7);
  const words = ['ignore', 'previous', 'instructions', 'hello', 'what', 'is', 'the', 'system', 'prompt', 'café', '東京', '😀', 'DAN', 'jailbreak', 'please', 'summarise', 'report', '12345', 'x=1;', 'reveal', 'rules'];
  return Array.from({ length: count }, () => Array.from({ length: 1 + Math.floor(random() * 60) }, () => words[Math.floor(random() * words.length)]).join(random() < 0.5 ? ' ' : '  '));
}

describe.each(['injection-classifier', 'window-classifier'])('%s: linear fast path', (name) => {
  test('is used, and matches onnxruntime on 400 texts within 1e-5', async () => {
    const sidecar = JSON.parse(fs.readFileSync(path.join(guards, `${name}.json`), 'utf8'));
    const classifier = await loadTextClassifier(path.join(guards, `${name}.json`));
    expect(classifier.engine).toBe('js-linear');
    const session = await ort.InferenceSession.create(path.join(guards, sidecar.model));
    const sample = texts(400);
    const fast = await classifier.classify(sample);
    let compared = 0;
    for (const [row, text] of sample.entries()) {
      const features = featurize(text, sidecar.features?.dimension, sidecar.features?.normalize as FeatureNormalization | undefined, sidecar.features?.prior_mass ?? 0);
      const width = Math.max(1, features.indices.length);
      const indices = new BigInt64Array(width);
      const values = new Float32Array(width);
      features.indices.forEach((index, k) => {
        indices[k] = BigInt(index);
        values[k] = features.values[k];
      });
      const output = await session.run({ indices: new ort.Tensor('int64', indices, [1, width]), values: new ort.Tensor('float32', values, [1, width]) });
      const expected = Array.from(output.probabilities.data as Float32Array);
      expect(fast[row]).toHaveLength(expected.length);
      expected.forEach((value, head) => expect(Math.abs(fast[row][head] - value)).toBeLessThanOrEqual(1e-5));
      compared++;
    }
    expect(compared).toBe(400);
    await session.release();
  });
});

describe('readOnnxGraph', () => {
  test('reads the classifier graph: ops and float32 initializers with their shapes', () => {
    const graph = readOnnxGraph(fs.readFileSync(path.join(guards, 'injection-classifier.onnx')));
    expect(graph).not.toBeNull();
    expect(graph!.nodes.filter((node) => node.opType !== 'Constant').map((node) => node.opType)).toEqual(['Gather', 'Unsqueeze', 'Mul', 'ReduceSum', 'Add', 'Sigmoid']);
    const weight = graph!.initializers.get('weight')!;
    expect(weight.dims).toEqual([131072, 4]);
    expect(weight.data).toHaveLength(131072 * 4);
    expect(graph!.initializers.get('bias')!.dims).toEqual([4]);
  });

  test('returns null for bytes that are not a model, and for a truncated file', () => {
    expect(readOnnxGraph(Buffer.from('not a protobuf at all, just text'))).toBeNull();
    const bytes = fs.readFileSync(path.join(guards, 'injection-classifier.onnx'));
    const truncated = readOnnxGraph(bytes.subarray(0, 1000));
    // A cut file either fails to parse or yields no complete weight matrix: never a wrong one.
    expect(truncated === null || !truncated.initializers.has('weight')).toBe(true);
  });
});
