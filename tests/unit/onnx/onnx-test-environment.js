/**
 * Jest environment for suites that run onnxruntime-node: Jest gives each test file its own realm, so
 * `Float32Array` inside a test is not the native addon's `Float32Array` and onnxruntime rejects its own
 * output tensors ("A float32 tensor's data must be type of Float32Array"). This environment shares the
 * host realm's typed-array constructors with the test realm. Use with the docblock
 *   @jest-environment ./tests/unit/onnx/onnx-test-environment.js
 */
const { TestEnvironment } = require('jest-environment-node');

const SHARED = [
  'ArrayBuffer', 'SharedArrayBuffer', 'DataView',
  'Int8Array', 'Uint8Array', 'Uint8ClampedArray', 'Int16Array', 'Uint16Array', 'Int32Array', 'Uint32Array',
  'Float32Array', 'Float64Array', 'BigInt64Array', 'BigUint64Array',
];

class OnnxTestEnvironment extends TestEnvironment {
  constructor(config, context) {
    super(config, context);
    for (const name of SHARED) this.global[name] = globalThis[name];
  }
}

module.exports = OnnxTestEnvironment;
