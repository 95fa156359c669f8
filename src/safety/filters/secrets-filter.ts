/**
 * The `secrets` filter: credentials that must never pass through the gateway — AWS access keys and
 * secret keys, GitHub/GitLab/Slack/Stripe tokens, private key blocks, JWTs, and high-entropy values
 * assigned to secret-sounding names (`password = "…"`, `api_key: …`). Policy parameters:
 *   kinds: [aws_access_key, aws_secret_key, github_token, gitlab_token, slack_token, stripe_key,
 *           private_key, jwt, secret_assignment]                 (default: all)
 *   redaction: token | hash                                       (default: token)
 *   min_entropy: bits per character for secret_assignment          (default: 3.0)
 *
 * Regexes are linear (bounded repetitions over disjoint classes). A private key block runs from its
 * BEGIN line to the matching END line, or to the end of the text when the END has not arrived yet —
 * so a stream holds back an unfinished block instead of leaking its first lines.
 */
import { redactionToken, type RedactionStyle } from './redaction-token';
import { createTextFilter, dropOverlaps, trailingRunStart, type FilterMatch, type TextFilter } from './text-filter';

export const SECRET_KINDS = [
  'aws_access_key', 'aws_secret_key', 'github_token', 'gitlab_token', 'slack_token', 'stripe_key',
  'private_key', 'jwt', 'secret_assignment',
] as const;
export type SecretKind = (typeof SECRET_KINDS)[number];

export const SECRETS_PARAMS_SCHEMA = {
  type: 'object',
  properties: {
    kinds: { type: 'array', items: { enum: [...SECRET_KINDS] }, minItems: 1, uniqueItems: true },
    redaction: { enum: ['token', 'hash'] },
    min_entropy: { type: 'number', minimum: 0, maximum: 8 },
  },
  additionalProperties: false,
} as const;

interface TokenPattern {
  kind: SecretKind;
  pattern: RegExp;
  /** Capture group holding the secret itself (default: the whole match). */
  group?: number;
}

const TOKEN_PATTERNS: TokenPattern[] = [
  { kind: 'aws_access_key', pattern: /(?<![A-Za-z0-9])(?:AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16}(?![A-Za-z0-9])/g },
  {
    kind: 'aws_secret_key',
    pattern: /aws_?secret_?(?:access_?)?key["']?\s{0,4}[:=]\s{0,4}["']?([A-Za-z0-9/+=]{40})(?![A-Za-z0-9/+=])/gi,
    group: 1,
  },
  { kind: 'github_token', pattern: /(?<![A-Za-z0-9_])(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36,255}(?![A-Za-z0-9_])/g },
  { kind: 'github_token', pattern: /(?<![A-Za-z0-9_])github_pat_[A-Za-z0-9_]{22,255}(?![A-Za-z0-9_])/g },
  { kind: 'gitlab_token', pattern: /(?<![A-Za-z0-9_-])glpat-[A-Za-z0-9_-]{20,64}(?![A-Za-z0-9_-])/g },
  { kind: 'slack_token', pattern: /(?<![A-Za-z0-9-])xox[abposr]-[A-Za-z0-9-]{10,250}(?![A-Za-z0-9-])/g },
  { kind: 'slack_token', pattern: /https:\/\/hooks\.slack\.com\/services\/T[A-Z0-9]{6,12}\/B[A-Z0-9]{6,12}\/[A-Za-z0-9]{20,32}/g },
  { kind: 'stripe_key', pattern: /(?<![A-Za-z0-9_])(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,247}(?![A-Za-z0-9_])/g },
  { kind: 'stripe_key', pattern: /(?<![A-Za-z0-9_])whsec_[A-Za-z0-9]{24,64}(?![A-Za-z0-9_])/g },
  { kind: 'jwt', pattern: /(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{5,4096}\.eyJ[A-Za-z0-9_-]{5,8192}\.[A-Za-z0-9_-]{10,1024}(?![A-Za-z0-9_-])/g },
];

const PRIVATE_KEY_BEGIN = /-----BEGIN (?:[A-Z0-9]{1,16} ){0,4}PRIVATE KEY(?: BLOCK)?-----/g;
const PRIVATE_KEY_END = /-----END (?:[A-Z0-9]{1,16} ){0,4}PRIVATE KEY(?: BLOCK)?-----/g;

/** `password = "…"`, `api_key: …`, `"client_secret": "…"`; the value is group 1. */
const SECRET_ASSIGNMENT = /(?<![A-Za-z0-9])(?:[A-Za-z0-9]{1,20}[_-]){0,3}(?:password|passwd|pwd|secret|api[_-]?key|apikey|access[_-]?token|auth[_-]?token|token|private[_-]?key|client[_-]?secret)["']?\s{0,4}(?::|=|:=|=>)\s{0,4}["']?([^\s"'`,;]{8,200})/gi;

const LABELS: Record<SecretKind, string> = {
  aws_access_key: 'AWS_KEY', aws_secret_key: 'AWS_SECRET', github_token: 'GITHUB_TOKEN', gitlab_token: 'GITLAB_TOKEN',
  slack_token: 'SLACK_TOKEN', stripe_key: 'STRIPE_KEY', private_key: 'PRIVATE_KEY', jwt: 'JWT', secret_assignment: 'SECRET',
};

/** Shannon entropy in bits per character. */
export function shannonEntropy(value: string): number {
  const counts = new Map<string, number>();
  for (const char of value) counts.set(char, (counts.get(char) ?? 0) + 1);
  let entropy = 0;
  const length = [...value].length;
  for (const count of counts.values()) {
    const probability = count / length;
    entropy -= probability * Math.log2(probability);
  }
  return entropy;
}

const PLACEHOLDER = /^(?:x+|\*+|\.+|<[^>]*>|\$\{[^}]*\}|\{\{[^}]*\}\}|%[A-Za-z_]+%|(?:your|my|the)[-_]?\w*|changeme|password|secret|example\w*|redacted|none|null|undefined|true|false|\[[A-Z_:0-9a-f]+\])$/i;

/** Code that reads a secret from elsewhere (`getToken()`, `process.env.DB_PASSWORD`, `os.environ["KEY"]`). */
const CODE_REFERENCE = /^(?:[A-Za-z_$][\w$]*\.)*[A-Za-z_$][\w$]*(?:\(.*\)|\[.*)?[;)]*$/;

function kindsOf(params: Record<string, unknown>): Set<SecretKind> {
  return new Set(Array.isArray(params.kinds) ? (params.kinds as SecretKind[]) : SECRET_KINDS);
}

export interface SecretsFilterOptions {
  hashKey?: string | Buffer;
}

export function scanSecrets(text: string, params: Record<string, unknown>, hashKey?: string | Buffer): FilterMatch[] {
  const kinds = kindsOf(params);
  const style = (params.redaction as RedactionStyle | undefined) ?? 'token';
  const minEntropy = typeof params.min_entropy === 'number' ? params.min_entropy : 3.0;
  const matches: FilterMatch[] = [];
  const add = (kind: SecretKind, start: number, end: number) => {
    matches.push({ entity: kind, start, end, replacement: redactionToken(LABELS[kind], text.slice(start, end), style, hashKey) });
  };

  for (const { kind, pattern, group } of TOKEN_PATTERNS) {
    if (!kinds.has(kind)) continue;
    pattern.lastIndex = 0;
    let match: RegExpExecArray | null;
    while ((match = pattern.exec(text)) !== null) {
      if (group === undefined) add(kind, match.index, match.index + match[0].length);
      else {
        const value = match[group];
        const start = match.index + match[0].lastIndexOf(value);
        add(kind, start, start + value.length);
      }
    }
  }

  if (kinds.has('private_key') && text.includes('-----BEGIN')) {
    PRIVATE_KEY_BEGIN.lastIndex = 0;
    let begin: RegExpExecArray | null;
    while ((begin = PRIVATE_KEY_BEGIN.exec(text)) !== null) {
      PRIVATE_KEY_END.lastIndex = begin.index + begin[0].length;
      const end = PRIVATE_KEY_END.exec(text);
      const stop = end === null ? text.length : end.index + end[0].length;
      add('private_key', begin.index, stop);
      PRIVATE_KEY_BEGIN.lastIndex = stop;
    }
  }

  if (kinds.has('secret_assignment')) {
    SECRET_ASSIGNMENT.lastIndex = 0;
    let match: RegExpExecArray | null;
    while ((match = SECRET_ASSIGNMENT.exec(text)) !== null) {
      const value = match[1];
      if (PLACEHOLDER.test(value) || shannonEntropy(value) < minEntropy) continue;
      if (CODE_REFERENCE.test(value) && (!/\d/.test(value) || /^(?:process\.env|os\.environ|System\.getenv|ENV\[)/.test(value))) continue;
      // A value needs at least two character classes (letters and digits or symbols) to look generated.
      const classes = [/[a-z]/, /[A-Z]/, /\d/, /[^A-Za-z0-9]/].filter((pattern) => pattern.test(value)).length;
      if (classes < 2) continue;
      const start = match.index + match[0].length - value.length;
      add('secret_assignment', start, start + value.length);
    }
  }
  return dropOverlaps(matches);
}

export function createSecretsFilter(options: SecretsFilterOptions = {}): TextFilter {
  return createTextFilter({
    id: 'secrets',
    version: '1.0.0',
    paramsSchema: SECRETS_PARAMS_SCHEMA,
    scan: (text, params) => scanSecrets(text, params, options.hashKey),
    // Tokens and assignment values are runs without spaces (held back by holdBackFrom, any length);
    // the window covers the "name = " part that must still be visible when the value completes.
    maxMatchLength: () => 96,
    holdBackFrom(text) {
      const run = trailingRunStart(text);
      const begin = text.lastIndexOf('-----BEGIN');
      if (begin >= 0 && text.indexOf('-----END', begin) < 0) return Math.min(run, begin);
      // A partial "-----BEGI" at the very end may still become a header.
      const dashes = text.lastIndexOf('-----');
      if (dashes >= 0 && dashes > text.length - 40 && text.indexOf('\n', dashes) < 0) return Math.min(run, dashes);
      return run;
    },
    describe(entity, count) {
      return `${count} ${entity.replace(/_/g, ' ')}${count === 1 ? '' : 's'}`;
    },
  });
}
