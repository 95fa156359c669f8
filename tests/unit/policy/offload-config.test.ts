/** The `checks.offload` configuration block: defaults, values, and errors that name the key. */
import path from 'node:path';
import { ConfigError, loadConfig, validateRawConfig } from '../../../src/config/config';

describe('checks.offload', () => {
  test('defaults: enabled, 8192 characters, workers left to the pool', () => {
    const config = validateRawConfig({});
    expect(config.checks.offload).toEqual({ enabled: true, min_chars: 8192 });
    expect(Object.isFrozen(config.checks.offload)).toBe(true);
  });

  test('values are kept', () => {
    const config = validateRawConfig({ checks: { offload: { enabled: false, workers: 3, min_chars: 0 } } });
    expect(config.checks.offload).toEqual({ enabled: false, workers: 3, min_chars: 0 });
  });

  test('unknown keys and bad values are errors naming the key', () => {
    expect(() => validateRawConfig({ checks: { offload: { thread: 2 } } })).toThrow(/\/checks\/offload: unknown key 'thread'/);
    expect(() => validateRawConfig({ checks: { offlaod: {} } })).toThrow(/\/checks: unknown key 'offlaod'/);
    expect(() => validateRawConfig({ checks: { offload: { workers: 0 } } })).toThrow(ConfigError);
    expect(() => validateRawConfig({ checks: { offload: { min_chars: -1 } } })).toThrow(/\/checks\/offload\/min_chars/);
    expect(() => validateRawConfig({ checks: { offload: { enabled: 'yes' } } })).toThrow(/\/checks\/offload\/enabled/);
  });

  test('the example configuration sets it and validates', () => {
    const config = loadConfig({ file: path.resolve(__dirname, '../../../docs/rein.example.yaml'), env: {} });
    expect(config.checks.offload).toEqual({ enabled: true, workers: 2, min_chars: 8192 });
  });
});
