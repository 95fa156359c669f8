/**
 * The `pii` filter: finds personal data (see pii-entities.ts) and offers a redaction for each value,
 * `[EMAIL]` or a keyed-hash token. Policy parameters:
 *   entities: [email, phone, payment_card, iban, ssn, ip_address]   (default: all)
 *   redaction: token | hash                                          (default: token)
 * Sub-check ids are `pii.email`, `pii.phone`, …
 */
import { findPii, PII_ENTITIES, PII_STREAM_WINDOW, type PiiEntity } from './pii-entities';
import { redactionToken, type RedactionStyle } from './redaction-token';
import { createTextFilter, dropOverlaps, trailingRunStart, type FilterMatch, type TextFilter } from './text-filter';

export const PII_PARAMS_SCHEMA = {
  type: 'object',
  properties: {
    entities: { type: 'array', items: { enum: [...PII_ENTITIES] }, minItems: 1, uniqueItems: true },
    redaction: { enum: ['token', 'hash'] },
  },
  additionalProperties: false,
} as const;

const LABELS: Record<PiiEntity, string> = {
  email: 'EMAIL', phone: 'PHONE', payment_card: 'CARD', iban: 'IBAN', ssn: 'SSN', ip_address: 'IP',
};

const DESCRIPTIONS: Record<PiiEntity, [string, string]> = {
  email: ['email address', 'email addresses'],
  phone: ['phone number', 'phone numbers'],
  payment_card: ['payment card number (Luhn-valid)', 'payment card numbers (Luhn-valid)'],
  iban: ['IBAN (mod-97 valid)', 'IBANs (mod-97 valid)'],
  ssn: ['US social security number', 'US social security numbers'],
  ip_address: ['IP address', 'IP addresses'],
};

export interface PiiFilterOptions {
  /** Key for `redaction: hash` tokens (HMAC-SHA256). Default: REIN_REDACTION_KEY or a per-process key. */
  hashKey?: string | Buffer;
}

function entitiesOf(params: Record<string, unknown>): PiiEntity[] {
  return Array.isArray(params.entities) ? (params.entities as PiiEntity[]) : [...PII_ENTITIES];
}

export function createPiiFilter(options: PiiFilterOptions = {}): TextFilter {
  return createTextFilter({
    id: 'pii',
    version: '1.0.0',
    paramsSchema: PII_PARAMS_SCHEMA,
    scan(text, params): FilterMatch[] {
      const style = (params.redaction as RedactionStyle | undefined) ?? 'token';
      const spans = findPii(text, entitiesOf(params));
      return dropOverlaps(spans.map((span) => ({
        entity: span.entity,
        start: span.start,
        end: span.end,
        replacement: redactionToken(LABELS[span.entity], span.value, style, options.hashKey),
      })));
    },
    maxMatchLength(params) {
      return Math.max(...entitiesOf(params).map((entity) => PII_STREAM_WINDOW[entity]));
    },
    holdBackFrom(text) {
      // Emails and unspaced numbers are runs of non-space characters; spaced numbers fit in the window.
      return trailingRunStart(text);
    },
    describe(entity, count) {
      const [one, many] = DESCRIPTIONS[entity as PiiEntity] ?? [entity, entity];
      return `${count} ${count === 1 ? one : many}`;
    },
  });
}
