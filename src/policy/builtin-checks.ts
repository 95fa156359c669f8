/**
 * loadBuiltinChecks: the registry the gateway and the CLI use — this module's filters (pii, secrets,
 * blocklist, regex, length, language) plus, when present in the build, the detectors of
 * src/safety/detectors (createBuiltinDetectors) and the output checks of src/safety/checks
 * (createBuiltinOutputChecks), loaded lazily. Well-known ids that could not be loaded are reserved:
 * policies naming them validate, and running them errors into the entry's fail_mode.
 */
import path from 'node:path';
import type { Detector, OutputCheck } from '../safety/detector';
import { createBuiltinFilters } from '../safety/filters';
import { createCheckRegistry, WELL_KNOWN_CHECK_IDS, type CheckRegistry } from './check-registry';

export interface BuiltinCheckOptions {
  /** Key for keyed-hash redaction tokens. */
  redactionKey?: string | Buffer;
  /** Passed to createBuiltinDetectors. */
  detectorOptions?: Record<string, unknown>;
  /** Passed to createBuiltinOutputChecks. */
  outputCheckOptions?: Record<string, unknown>;
  /** Where load problems are reported (default: stderr). */
  log?: (message: string) => void;
}

function tryRequire(modulePath: string, log: (message: string) => void): Record<string, unknown> | undefined {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require(modulePath) as Record<string, unknown>;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const missingItself = code === 'MODULE_NOT_FOUND' && String((error as Error).message).split('\n')[0].includes(modulePath);
    if (!missingItself) log(`rein: could not load ${modulePath}: ${(error as Error).message}`);
    return undefined;
  }
}

export function loadBuiltinChecks(options: BuiltinCheckOptions = {}): CheckRegistry {
  const log = options.log ?? ((message: string) => process.stderr.write(`${message}\n`));
  const filters = createBuiltinFilters({ redactionKey: options.redactionKey });
  const filterIds = new Set(filters.map((filter) => filter.id));
  const detectors: Detector[] = [...filters];
  const outputChecks: OutputCheck[] = [...filters];

  const detectorModule = tryRequire(path.join(__dirname, '../safety/detectors/index'), log);
  if (typeof detectorModule?.createBuiltinDetectors === 'function') {
    try {
      const loaded = (detectorModule.createBuiltinDetectors as (options: unknown) => Detector[])(options.detectorOptions ?? {});
      detectors.push(...loaded.filter((detector) => !filterIds.has(detector.id)));
    } catch (error) {
      log(`rein: createBuiltinDetectors failed: ${(error as Error).message}`);
    }
  }
  const checkModule = tryRequire(path.join(__dirname, '../safety/checks/index'), log);
  if (typeof checkModule?.createBuiltinOutputChecks === 'function') {
    try {
      const loaded = (checkModule.createBuiltinOutputChecks as (options: unknown) => OutputCheck[])(options.outputCheckOptions ?? {});
      outputChecks.push(...loaded.filter((check) => !filterIds.has(check.id)));
    } catch (error) {
      log(`rein: createBuiltinOutputChecks failed: ${(error as Error).message}`);
    }
  }
  return createCheckRegistry({ detectors, outputChecks, reservedIds: WELL_KNOWN_CHECK_IDS });
}
