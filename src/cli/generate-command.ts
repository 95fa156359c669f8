/**
 * `rein generate`: one generation in-process, through the same pipeline as the HTTP API (policy,
 * detectors, constraint, output checks, audit). Prints the `/v1/generate` response JSON on stdout and
 * nothing else; logs go to stderr. Exit 0 on success, 1 on a refused or failed request (the error
 * envelope is printed on stdout), 2 on bad arguments.
 */
import fs from 'node:fs';
import { ArgError, parseArgs } from './args';
import { anonymousPrincipal } from '../access/api-keys';
import { ConfigError, loadConfig } from '../config/config';
import type { ConstraintSpec } from '../decoding/constraint';
import { toGatewayError } from '../errors/gateway-error';
import { createLogger } from '../logging/logger';
import { fromNativeBody } from '../pipeline/generation-request';
import { createRequestContext, runGeneration } from '../pipeline/pipeline';
import { createGateway } from '../server/create-gateway';
import { errorBody } from '../server/error-envelope';
import { nativeResponse } from '../server/generation-handlers';
import { validateGenerateBody } from '../server/request-schemas';
import { parseJson } from '../util/parse-json';

const USAGE = `usage: rein generate --prompt TEXT [--json-schema FILE | --regex RE | --grammar FILE | --choice A --choice B]
                     [--include PHRASE]… [--exclude PHRASE]… [--max-tokens N] [--temperature T] [--seed N]
                     [--n N] [--policy NAME] [--model DIR] [--config FILE] [--audit-db URL]\n`;

function numberArg(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const parsed = Number(value);
  if (!Number.isFinite(parsed)) throw new ArgError(`--${name}: '${value}' is not a number`);
  return parsed;
}

function constraintFrom(values: Record<string, string | undefined>, choices: string[]): ConstraintSpec | undefined {
  const given = [values['json-schema'], values.regex, values.grammar, choices.length ? 'choice' : undefined].filter((value) => value !== undefined);
  if (given.length > 1) throw new ArgError('give at most one of --json-schema, --regex, --grammar, --choice');
  if (values['json-schema'] !== undefined) {
    const parsed = parseJson(fs.readFileSync(values['json-schema'], 'utf8'));
    if (!parsed.ok) throw new ArgError(`--json-schema ${values['json-schema']}: not JSON (${parsed.error})`);
    return { type: 'json_schema', schema: parsed.value };
  }
  if (values.regex !== undefined) return { type: 'regex', pattern: values.regex };
  if (values.grammar !== undefined) return { type: 'grammar', grammar: fs.readFileSync(values.grammar, 'utf8') };
  if (choices.length) return { type: 'choice', choices };
  return undefined;
}

export async function run(argv: string[]): Promise<number> {
  let body: Record<string, unknown>;
  let config;
  try {
    const args = parseArgs(argv, {
      strings: ['prompt', 'json-schema', 'regex', 'grammar', 'max-tokens', 'temperature', 'seed', 'n', 'policy', 'model', 'config', 'audit-db', 'top-p', 'top-k'],
      repeated: ['choice', 'include', 'exclude', 'stop'],
      booleans: ['help'],
    });
    if (args.flags.help) {
      process.stdout.write(USAGE);
      return 0;
    }
    if (args.values.prompt === undefined) throw new ArgError('--prompt is required');
    const constraint = constraintFrom(args.values, args.lists.choice);
    body = {
      prompt: args.values.prompt,
      ...(args.values['max-tokens'] !== undefined ? { max_tokens: numberArg(args.values['max-tokens'], 'max-tokens') } : {}),
      ...(args.values.temperature !== undefined ? { temperature: numberArg(args.values.temperature, 'temperature') } : {}),
      ...(args.values['top-p'] !== undefined ? { top_p: numberArg(args.values['top-p'], 'top-p') } : {}),
      ...(args.values['top-k'] !== undefined ? { top_k: numberArg(args.values['top-k'], 'top-k') } : {}),
      ...(args.values.seed !== undefined ? { seed: numberArg(args.values.seed, 'seed') } : {}),
      ...(args.values.n !== undefined ? { n: numberArg(args.values.n, 'n') } : {}),
      ...(args.values.policy !== undefined ? { policy: args.values.policy } : {}),
      ...(args.lists.stop.length ? { stop: args.lists.stop } : {}),
      ...(constraint ? { constraint } : {}),
      ...(args.lists.include.length || args.lists.exclude.length
        ? { lexical: { ...(args.lists.include.length ? { include: args.lists.include } : {}), ...(args.lists.exclude.length ? { exclude: args.lists.exclude } : {}) } }
        : {}),
    };
    config = loadConfig({ file: args.values.config, overrides: { model: args.values.model, auditDb: args.values['audit-db'], logLevel: 'warn' } });
  } catch (error) {
    if (error instanceof ArgError || error instanceof ConfigError || (error as NodeJS.ErrnoException).code === 'ENOENT') {
      process.stderr.write(`rein generate: ${(error as Error).message}\n${error instanceof ArgError ? USAGE : ''}`);
      return 2;
    }
    throw error;
  }
  const logger = createLogger({ level: config.logging.level });
  let gateway;
  try {
    gateway = await createGateway(config, { logger });
  } catch (error) {
    process.stderr.write(`rein generate: ${(error as Error).message}\n`);
    return 1;
  }
  try {
    validateGenerateBody(body);
    const request = fromNativeBody(body, config);
    const context = createRequestContext({ requestId: `cli-${Date.now().toString(36)}`, principal: { ...anonymousPrincipal(), keyId: 'cli' }, route: 'cli:generate', request, signal: new AbortController().signal });
    const result = await runGeneration(gateway.deps, context);
    process.stdout.write(`${JSON.stringify(nativeResponse(result), null, 2)}\n`);
    return 0;
  } catch (error) {
    const gatewayError = toGatewayError(error);
    process.stdout.write(`${JSON.stringify(errorBody(gatewayError, 'cli'), null, 2)}\n`);
    return gatewayError.status < 500 && gatewayError.code === 'invalid_request' ? 2 : 1;
  } finally {
    await gateway.close();
  }
}
