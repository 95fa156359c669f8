/** @jest-environment ./tests/unit/onnx/onnx-test-environment.js */
/**
 * A missing or corrupt model file is a start-up error that names the file.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createOnnxBackend } from '../../../src/backends/onnx/onnx-backend';
import { loadModelFolder } from '../../../src/backends/onnx/load-model-folder';
import { TINY_GPT2, TINY_LLAMA } from './backend-helpers';

function copyFixture(source: string): string {
  const target = fs.mkdtempSync(path.join(os.tmpdir(), 'rein-model-'));
  fs.cpSync(source, target, { recursive: true });
  return target;
}

describe('model folder validation', () => {
  const made: string[] = [];
  const fresh = (): string => {
    const dir = copyFixture(TINY_LLAMA);
    made.push(dir);
    return dir;
  };
  afterAll(() => {
    for (const dir of made) fs.rmSync(dir, { recursive: true, force: true });
  });

  test('reads the geometry of both fixture layouts', () => {
    const llama = loadModelFolder(TINY_LLAMA);
    expect(llama).toMatchObject({ id: 'tiny-llama', numLayers: 2, numKeyValueHeads: 2, headDim: 8, contextLength: 256, eosTokenIds: [2], bosToken: '<s>' });
    const gpt2 = loadModelFolder(TINY_GPT2);
    expect(gpt2).toMatchObject({ id: 'tiny-gpt2', numLayers: 2, numKeyValueHeads: 4, headDim: 8, contextLength: 128 });
    expect(typeof gpt2.chatTemplate).toBe('string');
  });

  test.each(['config.json', 'tokenizer.json', 'tokenizer_config.json', path.join('onnx', 'model.onnx')])('a missing %s is named', async (file) => {
    const dir = fresh();
    fs.rmSync(path.join(dir, file));
    await expect(createOnnxBackend({ modelDir: dir })).rejects.toMatchObject({ code: 'unavailable', message: expect.stringContaining(file) });
  });

  test.each(['config.json', 'tokenizer.json', 'tokenizer_config.json'])('a corrupt %s is named', async (file) => {
    const dir = fresh();
    fs.writeFileSync(path.join(dir, file), '{"truncated": ');
    await expect(createOnnxBackend({ modelDir: dir })).rejects.toMatchObject({ code: 'unavailable', message: expect.stringContaining(file) });
  });

  test('a corrupt model.onnx is named', async () => {
    const dir = fresh();
    fs.writeFileSync(path.join(dir, 'onnx', 'model.onnx'), Buffer.from('this is not an onnx protobuf at all'));
    await expect(createOnnxBackend({ modelDir: dir })).rejects.toMatchObject({ code: 'unavailable', message: expect.stringContaining('model.onnx') });
  });

  test('a tokenizer.json without a model section is named', async () => {
    const dir = fresh();
    fs.writeFileSync(path.join(dir, 'tokenizer.json'), '{"version": "1.0"}');
    await expect(createOnnxBackend({ modelDir: dir })).rejects.toMatchObject({ message: expect.stringContaining('tokenizer.json') });
  });

  test('a broken chat template is named', async () => {
    const dir = fresh();
    const config = JSON.parse(fs.readFileSync(path.join(dir, 'tokenizer_config.json'), 'utf8'));
    config.chat_template = '{% for message in messages %}{{ message.content ';
    fs.writeFileSync(path.join(dir, 'tokenizer_config.json'), JSON.stringify(config));
    await expect(createOnnxBackend({ modelDir: dir })).rejects.toMatchObject({ message: expect.stringContaining('tokenizer_config.json') });
  });

  test('a missing folder is named', async () => {
    await expect(createOnnxBackend({ modelDir: '/nonexistent/rein-model' })).rejects.toMatchObject({ message: expect.stringContaining('/nonexistent/rein-model') });
  });
});

describe('CUDA execution provider', () => {
  const ortDir = path.dirname(require.resolve('onnxruntime-node/package.json'));
  const cudaInstalled = fs.existsSync(path.join(ortDir, 'bin', 'napi-v6', 'linux', 'x64', 'libonnxruntime_providers_cuda.so'));
  // Where the CUDA libraries are installed this start-up succeeds instead; the check only applies without them.
  (cudaInstalled ? test.skip : test)('without the CUDA libraries, executionProvider cuda is a start-up error that says so', async () => {
    await expect(createOnnxBackend({ modelDir: TINY_LLAMA, executionProvider: 'cuda' })).rejects.toMatchObject({
      code: 'unavailable',
      message: expect.stringContaining("executionProvider 'cuda'"),
    });
  });
});
