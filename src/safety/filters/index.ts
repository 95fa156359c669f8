/**
 * The builtin filters, ready to register: pii, secrets, blocklist, regex, length, language.
 */
import { createBlocklistFilter } from './blocklist-filter';
import { createLanguageFilter } from './language-filter';
import { createLengthFilter } from './length-filter';
import { createPiiFilter } from './pii-filter';
import { createRegexFilter } from './regex-filter';
import { createSecretsFilter } from './secrets-filter';
import type { TextFilter } from './text-filter';

export interface BuiltinFilterOptions {
  /** Key for keyed-hash redaction tokens (`redaction: hash`). */
  redactionKey?: string | Buffer;
}

export function createBuiltinFilters(options: BuiltinFilterOptions = {}): TextFilter[] {
  return [
    createPiiFilter({ hashKey: options.redactionKey }),
    createSecretsFilter({ hashKey: options.redactionKey }),
    createBlocklistFilter(),
    createRegexFilter(),
    createLengthFilter(),
    createLanguageFilter(),
  ];
}

export type { TextFilter } from './text-filter';
