/**
 * `rein serve`: loads the configuration, builds the gateway, listens, and shuts down gracefully —
 * on SIGTERM/SIGINT it stops accepting requests (readyz turns 503), lets in-flight requests finish
 * (up to server.shutdown_grace_ms), closes stores, then exits.
 */
import { createServer, type Server } from 'node:http';
import { parseArgs, ArgError } from './args';
import { ConfigError, isLoopbackHost, loadConfig, type ReinConfig } from '../config/config';
import { createLogger } from '../logging/logger';
import { createGateway } from '../server/create-gateway';

const USAGE =
  'usage: rein serve [--config FILE] [--host H] [--port N] [--model DIR] [--backend URL] [--audit-db URL] [--policies DIR] [--allow-unauthenticated]\n';

/** SPEC "Access": without keys, refuse to listen beyond loopback unless explicitly allowed. */
export function checkExposure(config: ReinConfig): string | undefined {
  if (config.keys.length > 0 || isLoopbackHost(config.server.host)) return undefined;
  if (config.server.allow_unauthenticated) return undefined;
  return `refusing to listen on ${config.server.host} without API keys: configure keys (rein keys hash) or start with --allow-unauthenticated behind an authenticating proxy`;
}

export async function run(argv: string[]): Promise<number> {
  let config: ReinConfig;
  try {
    const args = parseArgs(argv, {
      strings: ['config', 'host', 'port', 'model', 'backend', 'audit-db', 'policies', 'log-level'],
      booleans: ['allow-unauthenticated', 'help'],
    });
    if (args.flags.help) {
      process.stdout.write(USAGE);
      return 0;
    }
    const port = args.values.port !== undefined ? Number(args.values.port) : undefined;
    if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65535)) throw new ArgError(`--port: '${args.values.port}' is not a port number`);
    config = loadConfig({
      file: args.values.config,
      overrides: {
        host: args.values.host,
        port,
        model: args.values.model,
        backend: args.values.backend,
        auditDb: args.values['audit-db'],
        policiesDir: args.values.policies,
        allowUnauthenticated: args.flags['allow-unauthenticated'],
        logLevel: args.values['log-level'] as ReinConfig['logging']['level'] | undefined,
      },
    });
  } catch (error) {
    if (error instanceof ArgError || error instanceof ConfigError) {
      process.stderr.write(`rein serve: ${error.message}\n${error instanceof ArgError ? USAGE : ''}`);
      return 2;
    }
    throw error;
  }
  const logger = createLogger({ level: config.logging.level, bindings: { service: 'rein' } });
  const exposure = checkExposure(config);
  if (exposure) {
    logger.error(exposure);
    return 2;
  }
  if (config.keys.length === 0 && !isLoopbackHost(config.server.host)) {
    logger.warn('!!! serving WITHOUT authentication on a non-loopback address (--allow-unauthenticated): every caller has every role', {
      host: config.server.host,
    });
  }
  let gateway;
  try {
    gateway = await createGateway(config, { logger });
  } catch (error) {
    logger.error('start-up failed', { error: (error as Error).message });
    return 1;
  }
  const server: Server = createServer(gateway.app.listener).listen(config.server.port, config.server.host);
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  }).catch(async (error: Error) => {
    logger.error('cannot listen', { error: error.message, host: config.server.host, port: config.server.port });
    await gateway.close();
    process.exit(1);
  });
  server.requestTimeout = config.server.request_timeout_ms;
  server.keepAliveTimeout = 65000;
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.server.port;
  logger.info('rein is listening', { url: `http://${config.server.host.includes(':') ? `[${config.server.host}]` : config.server.host}:${port}`, models: gateway.modelIds });
  // A line on stdout for scripts and tests that start the server on port 0.
  if (process.env.REIN_PRINT_PORT === '1') process.stdout.write(`REIN_LISTENING ${port}\n`);

  return new Promise<number>((resolve) => {
    let stopping = false;
    const shutdown = async (signal: string) => {
      if (stopping) return;
      stopping = true;
      logger.info('shutting down: draining in-flight requests', { signal, inflight: gateway.app.inflight() });
      gateway.app.startDraining();
      server.close();
      const deadline = Date.now() + config.server.shutdown_grace_ms;
      while (gateway.app.inflight() > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      if (gateway.app.inflight() > 0) logger.warn('grace period over; closing with requests in flight', { inflight: gateway.app.inflight() });
      server.closeAllConnections();
      await gateway.close().catch((error: unknown) => logger.error('error while closing', { error }));
      logger.info('stopped');
      resolve(0);
    };
    process.once('SIGTERM', () => void shutdown('SIGTERM'));
    process.once('SIGINT', () => void shutdown('SIGINT'));
  });
}
