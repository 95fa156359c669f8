/**
 * Configuration loading: defaults, environment and flag overrides, and errors that name the key.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigError, isLoopbackHost, loadConfig } from '../../../src/config/config';
import { checkExposure } from '../../../src/cli/serve-command';

function writeConfig(text: string, extension = '.yaml'): string {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'rein-config-')), `rein${extension}`);
  fs.writeFileSync(file, text);
  return file;
}

describe('configuration', () => {
  test('defaults: loopback 8080, the demo model, SQLite audit, default policy', () => {
    const config = loadConfig({ env: {} });
    expect(config.server).toMatchObject({ host: '127.0.0.1', port: 8080, allow_unauthenticated: false });
    expect(config.models).toEqual([{ id: 'rein-demo', path: 'models/rein-demo', execution_provider: 'cpu', max_batch_size: 8, executor: 'worker' }]);
    expect(config.audit).toMatchObject({ store: 'sqlite:./data/audit.sqlite', mode: 'sync', fail_mode: 'closed', sqlite_synchronous: 'NORMAL' });
    expect(config.policies.default).toBe('default');
    expect(Object.isFrozen(config.server)).toBe(true);
  });

  test('YAML file, then REIN_* environment, then flags', () => {
    const file = writeConfig('server:\n  port: 9000\n  host: 127.0.0.2\nlogging:\n  level: debug\n');
    const config = loadConfig({ file, env: { REIN_PORT: '9100', REIN_AUDIT_DB: 'postgres://db/x' }, overrides: { host: '127.0.0.3' } });
    expect(config.server.port).toBe(9100);
    expect(config.server.host).toBe('127.0.0.3');
    expect(config.audit.store).toBe('postgres://db/x');
    expect(config.logging.level).toBe('debug');
  });

  test('--backend replaces the embedded models with one remote backend', () => {
    const config = loadConfig({ env: {}, overrides: { backend: 'http://gpu:8000/v1' } });
    expect(config.models).toEqual([]);
    expect(config.backends[0]).toMatchObject({ id: 'remote', url: 'http://gpu:8000/v1', kind: 'openai', max_retries: 1 });
  });

  test('an unknown key, a wrong type and a bad enum are errors naming the key', () => {
    expect(() => loadConfig({ file: writeConfig('server:\n  prot: 1\n'), env: {} })).toThrow(/\/server: unknown key 'prot'/);
    expect(() => loadConfig({ file: writeConfig('{"server": {"port": "x"}}', '.json'), env: {} })).toThrow(/\/server\/port: must be integer/);
    expect(() => loadConfig({ file: writeConfig('audit:\n  mode: sometimes\n'), env: {} })).toThrow(/\/audit\/mode: must be one of/);
    expect(() => loadConfig({ file: writeConfig('audit:\n  sqlite_synchronous: OFF\n'), env: {} })).toThrow(/\/audit\/sqlite_synchronous: must be one of/);
    expect(loadConfig({ file: writeConfig('audit:\n  sqlite_synchronous: FULL\n'), env: {} }).audit.sqlite_synchronous).toBe('FULL');
    expect(() => loadConfig({ env: { REIN_PORT: 'eighty' } })).toThrow(ConfigError);
    expect(() => loadConfig({ file: '/nonexistent/rein.yaml', env: {} })).toThrow(/cannot read config file \/nonexistent\/rein.yaml/);
  });

  test('duplicate key ids are refused', () => {
    const file = writeConfig('keys:\n  - {id: a, hash: "sha256:00"}\n  - {id: a, hash: "sha256:11"}\n');
    expect(() => loadConfig({ file, env: {} })).toThrow(/duplicate key id 'a'/);
  });

  test('without keys only loopback is allowed, unless --allow-unauthenticated', () => {
    expect(isLoopbackHost('127.0.0.1')).toBe(true);
    expect(isLoopbackHost('::1')).toBe(true);
    expect(isLoopbackHost('0.0.0.0')).toBe(false);
    expect(checkExposure(loadConfig({ env: {} }))).toBeUndefined();
    expect(checkExposure(loadConfig({ env: {}, overrides: { host: '0.0.0.0' } }))).toMatch(/refusing to listen/);
    expect(checkExposure(loadConfig({ env: {}, overrides: { host: '0.0.0.0', allowUnauthenticated: true } }))).toBeUndefined();
  });
});
