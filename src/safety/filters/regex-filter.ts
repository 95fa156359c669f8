/**
 * The `regex` filter: policy-authored regex rules, run on the linear-time matcher in regex-search.ts
 * (never on JavaScript's backtracking RegExp: a user pattern must not be able to hang the gateway).
 * Policy parameters:
 *   rules: [{name, pattern, ignore_case?, replacement?}]   at most 100 rules, patterns ≤ 2,000 characters
 *   max_match_length: 256                                   longest match reported (and stream hold-back)
 * Sub-check ids are `regex.<rule name>`. Patterns are compiled once per policy load and cached.
 */
import { isGatewayError } from '../../errors/gateway-error';
import { compileRegexSearch, type RegexSearch } from './regex-search';
import { createTextFilter, dropOverlaps, type FilterMatch, type TextFilter } from './text-filter';

export const REGEX_PARAMS_SCHEMA = {
  type: 'object',
  required: ['rules'],
  properties: {
    rules: {
      type: 'array',
      minItems: 1,
      maxItems: 100,
      items: {
        type: 'object',
        required: ['name', 'pattern'],
        properties: {
          name: { type: 'string', pattern: '^[a-z0-9_]{1,64}$' },
          pattern: { type: 'string', minLength: 1, maxLength: 2000 },
          ignore_case: { type: 'boolean' },
          replacement: { type: 'string', maxLength: 100 },
        },
        additionalProperties: false,
      },
    },
    max_match_length: { type: 'integer', minimum: 1, maximum: 4096 },
  },
  additionalProperties: false,
} as const;

interface RegexRule {
  name: string;
  pattern: string;
  ignore_case?: boolean;
  replacement?: string;
}

interface CompiledRule {
  name: string;
  replacement: string;
  search: RegexSearch;
}

const compiledCache = new WeakMap<object, CompiledRule[]>();

function compileRules(params: Record<string, unknown>): CompiledRule[] {
  const cached = compiledCache.get(params);
  if (cached) return cached;
  const maxMatchLength = typeof params.max_match_length === 'number' ? params.max_match_length : 256;
  const rules = (Array.isArray(params.rules) ? params.rules : []) as RegexRule[];
  const compiled = rules.map((rule) => ({
    name: rule.name,
    replacement: rule.replacement ?? `[${rule.name.toUpperCase()}]`,
    search: compileRegexSearch(rule.pattern, { ignoreCase: rule.ignore_case === true, maxMatchLength }),
  }));
  compiledCache.set(params, compiled);
  return compiled;
}

/** Errors in the rules' patterns, with JSON pointers relative to the check entry. */
export function validateRegexParams(params: Record<string, unknown>): Array<{ pointer: string; message: string }> {
  const errors: Array<{ pointer: string; message: string }> = [];
  const rules = (Array.isArray(params.rules) ? params.rules : []) as RegexRule[];
  rules.forEach((rule, index) => {
    try {
      compileRegexSearch(rule.pattern, { ignoreCase: rule.ignore_case === true });
    } catch (error) {
      if (!isGatewayError(error) && !(error instanceof Error)) throw error;
      errors.push({ pointer: `/rules/${index}/pattern`, message: (error as Error).message });
    }
  });
  return errors;
}

export function createRegexFilter(): TextFilter & { validateParams: typeof validateRegexParams } {
  const filter = createTextFilter({
    id: 'regex',
    version: '1.0.0',
    paramsSchema: REGEX_PARAMS_SCHEMA,
    scan(text, params): FilterMatch[] {
      const matches: FilterMatch[] = [];
      for (const rule of compileRules(params)) {
        for (const [start, end] of rule.search.search(text)) matches.push({ entity: rule.name, start, end, replacement: rule.replacement });
      }
      return dropOverlaps(matches);
    },
    maxMatchLength(params) {
      return typeof params.max_match_length === 'number' ? params.max_match_length : 256;
    },
    describe(entity, count) {
      return `${count} match${count === 1 ? '' : 'es'} of rule ${entity}`;
    },
  });
  return { ...filter, validateParams: validateRegexParams };
}
