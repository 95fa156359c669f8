/**
 * String formats as regexes over decoded characters, each a subset of what ajv-formats' "full" rules
 * accept (the post-check validates with those rules, so the grammar must never accept more):
 * date-time, date, time, email, uuid, ipv4, ipv6, uri, hostname, duration.
 *
 * Where ajv-formats checks with code rather than a regex, the regex here encodes the same rule
 * exactly (month lengths and leap years for dates) or a documented subset of it: no leap seconds in
 * times, `T`/`t`/space as the date-time separator, hostnames of at most four labels of ≤ 62 characters
 * (so that the 253-character limit ajv checks with a lookahead always holds). Tests compare every
 * format against ajv-formats on generated strings.
 */
import { formatNames } from 'ajv-formats/dist/formats';

const YEAR = '[0-9]{4}';
const LEAP_YEAR = '(?:[0-9]{2}(?:0[48]|[2468][048]|[13579][26])|(?:[02468][048]|[13579][26])00)';
const DATE_BODY =
  `(?:${YEAR}-(?:(?:0[13578]|1[02])-(?:0[1-9]|[12][0-9]|3[01])|(?:0[469]|11)-(?:0[1-9]|[12][0-9]|30)|02-(?:0[1-9]|1[0-9]|2[0-8]))|${LEAP_YEAR}-02-29)`;
const TIME_BODY = '(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:\\.[0-9]+)?(?:[zZ]|[+-](?:[01][0-9]|2[0-3])(?::?[0-5][0-9])?)';
const HEX = '[0-9a-fA-F]';
const DEC_OCTET = '(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])';
const IPV4 = `${DEC_OCTET}(?:\\.${DEC_OCTET}){3}`;
const LABEL = '[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,60}[a-zA-Z0-9])?';

/** Regexes (JS syntax, ignoreCase flag applies where marked) for the asserted formats. */
const FORMATS: Record<string, { source: string; ignoreCase?: boolean }> = {
  date: { source: DATE_BODY },
  time: { source: TIME_BODY },
  'date-time': { source: `${DATE_BODY}[tT ]${TIME_BODY}` },
  duration: {
    source: 'P(?:[0-9]+W|(?:[0-9]+Y(?:[0-9]+M)?(?:[0-9]+D)?|[0-9]+M(?:[0-9]+D)?|[0-9]+D)(?:T(?:[0-9]+H(?:[0-9]+M)?(?:[0-9]+S)?|[0-9]+M(?:[0-9]+S)?|[0-9]+S))?|T(?:[0-9]+H(?:[0-9]+M)?(?:[0-9]+S)?|[0-9]+M(?:[0-9]+S)?|[0-9]+S))',
  },
  email: {
    source: "[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*@(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\\.)+[a-z0-9](?:[a-z0-9-]*[a-z0-9])?",
    ignoreCase: true,
  },
  hostname: { source: `${LABEL}(?:\\.${LABEL}){0,3}\\.?` },
  ipv4: { source: IPV4 },
  ipv6: {
    source:
      `(?:(?:${HEX}{1,4}:){7}(?:${HEX}{1,4}|:)|(?:${HEX}{1,4}:){6}(?::${HEX}{1,4}|${IPV4}|:)|(?:${HEX}{1,4}:){5}(?:(?::${HEX}{1,4}){1,2}|:${IPV4}|:)|(?:${HEX}{1,4}:){4}(?:(?::${HEX}{1,4}){1,3}|(?::${HEX}{1,4})?:${IPV4}|:)|(?:${HEX}{1,4}:){3}(?:(?::${HEX}{1,4}){1,4}|(?::${HEX}{1,4}){0,2}:${IPV4}|:)|(?:${HEX}{1,4}:){2}(?:(?::${HEX}{1,4}){1,5}|(?::${HEX}{1,4}){0,3}:${IPV4}|:)|(?:${HEX}{1,4}:){1}(?:(?::${HEX}{1,4}){1,6}|(?::${HEX}{1,4}){0,4}:${IPV4}|:)|:(?:(?::${HEX}{1,4}){1,7}|(?::${HEX}{1,4}){0,5}:${IPV4}|:))`,
  },
  uuid: { source: '(?:urn:uuid:)?[0-9a-f]{8}-(?:[0-9a-f]{4}-){3}[0-9a-f]{12}', ignoreCase: true },
  // ajv-formats' URI regex; NOT_URI_FRAGMENT (/ or :) always holds because a scheme ends with `:`.
  uri: {
    source:
      "(?:[a-z][a-z0-9+\\-.]*:)(?:\\/?\\/(?:(?:[a-z0-9\\-._~!$&'()*+,;=:]|%[0-9a-f]{2})*@)?(?:\\[(?:(?:(?:(?:[0-9a-f]{1,4}:){6}|::(?:[0-9a-f]{1,4}:){5}|(?:[0-9a-f]{1,4})?::(?:[0-9a-f]{1,4}:){4}|(?:(?:[0-9a-f]{1,4}:){0,1}[0-9a-f]{1,4})?::(?:[0-9a-f]{1,4}:){3}|(?:(?:[0-9a-f]{1,4}:){0,2}[0-9a-f]{1,4})?::(?:[0-9a-f]{1,4}:){2}|(?:(?:[0-9a-f]{1,4}:){0,3}[0-9a-f]{1,4})?::[0-9a-f]{1,4}:|(?:(?:[0-9a-f]{1,4}:){0,4}[0-9a-f]{1,4})?::)(?:[0-9a-f]{1,4}:[0-9a-f]{1,4}|(?:(?:25[0-5]|2[0-4]\\d|[01]?\\d\\d?)\\.){3}(?:25[0-5]|2[0-4]\\d|[01]?\\d\\d?))|(?:(?:[0-9a-f]{1,4}:){0,5}[0-9a-f]{1,4})?::[0-9a-f]{1,4}|(?:(?:[0-9a-f]{1,4}:){0,6}[0-9a-f]{1,4})?::)|[Vv][0-9a-f]+\\.[a-z0-9\\-._~!$&'()*+,;=:]+)\\]|(?:(?:25[0-5]|2[0-4]\\d|[01]?\\d\\d?)\\.){3}(?:25[0-5]|2[0-4]\\d|[01]?\\d\\d?)|(?:[a-z0-9\\-._~!$&'()*+,;=]|%[0-9a-f]{2})*)(?::\\d*)?(?:\\/(?:[a-z0-9\\-._~!$&'()*+,;=:@]|%[0-9a-f]{2})*)*|\\/(?:(?:[a-z0-9\\-._~!$&'()*+,;=:@]|%[0-9a-f]{2})+(?:\\/(?:[a-z0-9\\-._~!$&'()*+,;=:@]|%[0-9a-f]{2})*)*)?|(?:[a-z0-9\\-._~!$&'()*+,;=:@]|%[0-9a-f]{2})+(?:\\/(?:[a-z0-9\\-._~!$&'()*+,;=:@]|%[0-9a-f]{2})*)*)(?:\\?(?:[a-z0-9\\-._~!$&'()*+,;=:@/?]|%[0-9a-f]{2})*)?(?:#(?:[a-z0-9\\-._~!$&'()*+,;=:@/?]|%[0-9a-f]{2})*)?",
    ignoreCase: true,
  },
};

/** Formats other validators (Python jsonschema's FormatChecker) assert, which ajv-formats lacks: not ignorable. */
const OTHER_ASSERTED = new Set(['iri', 'iri-reference', 'idn-email', 'idn-hostname', 'color', 'uri-reference', 'json-pointer', 'relative-json-pointer', 'regex', 'uri-template']);

/** Formats ajv-formats asserts that always pass (annotations in effect). */
const ALWAYS_VALID = new Set(['password', 'binary']);

export type FormatRule =
  | { type: 'regex'; source: string; ignoreCase: boolean }
  | { type: 'ignore' }
  | { type: 'unsupported' }
  /** Number formats: int32 bounds, int64 = integer, float/double = any number. */
  | { type: 'number'; integer: boolean; minimum?: bigint; maximum?: bigint };

/**
 * How a `format` value is enforced. Formats that ajv-formats knows but this module cannot express are
 * unsupported (fail closed); formats nobody asserts (vendor names) are annotations and ignored.
 */
export function formatRule(name: string): FormatRule {
  const known = FORMATS[name];
  if (known) return { type: 'regex', source: known.source, ignoreCase: known.ignoreCase ?? false };
  if (ALWAYS_VALID.has(name)) return { type: 'ignore' };
  if (name === 'int32') return { type: 'number', integer: true, minimum: -(2n ** 31n), maximum: 2n ** 31n - 1n };
  if (name === 'int64') return { type: 'number', integer: true };
  if (name === 'float' || name === 'double') return { type: 'number', integer: false };
  if ((formatNames as string[]).includes(name) || OTHER_ASSERTED.has(name)) return { type: 'unsupported' };
  return { type: 'ignore' };
}

export const ASSERTED_FORMATS = Object.keys(FORMATS);
