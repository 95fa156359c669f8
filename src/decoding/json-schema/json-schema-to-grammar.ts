/**
 * jsonSchemaToGrammar: compiles a JSON Schema (drafts 4, 6, 7, 2019-09, 2020-12) into the Grammar IR,
 * accepting only JSON texts that validate — and, within that, the layout chosen by `whitespace`:
 * compact (`{"a":1}`), python (`{"a": 1}`, what MaskBench feeds) or flexible (bounded whitespace).
 *
 * How: a schema position is a *conjunction* of raw subschemas (`$ref` and `allOf` are expanded into
 * it), analysed into per-type constraints and emitted per JSON type; `anyOf`/`oneOf` are distributed
 * over their siblings; every conjunction gets one grammar rule keyed by its parts, which is how
 * recursion (`$ref` cycles) becomes grammar recursion. Objects follow the schema's property order
 * with a linear chain of rules for optional properties (no 2^n blow-up).
 *
 * Soundness first: every text the grammar accepts must validate. Whatever cannot be enforced exactly
 * or by a documented stricter subset (formats, number forms) is a `constraint_unsupported` error naming
 * the keyword and its JSON pointer. Annotations and unknown keywords are ignored, as the spec says.
 */
import { GatewayError } from '../../errors/gateway-error';
import type { Grammar, GrammarExpr } from '../grammar-ir';
import { formatRule } from './format-regex';
import { GrammarMatcher } from './grammar-matcher';
import { DEFAULT_JSON_SCHEMA_LIMITS, type JsonSchemaLimits } from './json-schema-limits';
import { canonicalJson, jsonTypeOf, serializeJsonValue, stringNotInRegex, type WhitespaceMode } from './json-text';
import { boundedNumberRegex, integerRangeRegex, INTEGER_ZERO_FRACTION, JSON_INTEGER_REGEX, JSON_NUMBER_REGEX, type NumberBounds } from './number-range-regex';
import {
  boundedQuantifier,
  constrainRegexLength,
  emitEncodedRegex,
  JSON_STRING_CHAR,
  parseSchemaRegex,
  patternToWholeMatch,
  regexLengthRange,
  type RegexNode,
} from './schema-regex';
import { escapePointerToken, SchemaIndex } from './schema-index';

export interface JsonSchemaGrammarOptions {
  whitespace?: WhitespaceMode;
  limits?: Partial<JsonSchemaLimits>;
}

type Kind = 'null' | 'boolean' | 'object' | 'array' | 'string' | 'integer' | 'number';
const ALL_KINDS: readonly Kind[] = ['null', 'boolean', 'object', 'array', 'string', 'integer', 'number'];

/** A schema position: the raw subschema objects that must all hold (empty = `true`). */
interface Conjunction {
  parts: object[];
  key: string;
}

interface ObjectPart {
  node: object;
  pointer: string;
  properties?: Record<string, unknown>;
  patternProperties?: Record<string, unknown>;
  additionalProperties?: unknown;
  propertyNames?: unknown;
}

interface ArrayPart {
  pointer: string;
  prefix: unknown[];
  /** undefined = any item allowed after the prefix. */
  rest: unknown;
}

interface PresenceCheck {
  names: string[];
  keyword: string;
  pointer: string;
  holds(present: (name: string) => boolean): boolean;
}

interface Bound {
  value: number;
  exclusive: boolean;
  pointer: string;
}

interface Analysis {
  kinds: Set<Kind>;
  enumValues?: unknown[];
  enumPointer?: string;
  excludedValues: unknown[];
  minLength?: number;
  maxLength?: number;
  lengthPointer?: string;
  patterns: Array<{ source: string; pointer: string }>;
  formats: Array<{ name: string; pointer: string }>;
  minimum?: Bound;
  maximum?: Bound;
  multipleOf: Array<{ value: number; pointer: string }>;
  objectParts: ObjectPart[];
  required: string[];
  forbidden: Set<string>;
  /**
   * Conditions on which property names are present (dependentRequired, oneOf/anyOf of `required`
   * lists, not {required: [several]}), checked by the object chain at its end.
   */
  presence: PresenceCheck[];
  minProperties?: number;
  maxProperties?: number;
  propertiesPointer?: string;
  arrayParts: ArrayPart[];
  minItems?: number;
  maxItems?: number;
  itemsPointer?: string;
  uniqueItems?: string;
  applicators: Array<{ type: 'anyOf' | 'oneOf'; node: object; options: unknown[]; pointer: string }>;
}

const ANNOTATION_OR_STRUCTURAL = new Set([
  '$schema', '$id', 'id', '$anchor', '$dynamicAnchor', '$recursiveAnchor', '$comment', '$defs', 'definitions', '$vocabulary',
  'title', 'description', 'default', 'examples', 'readOnly', 'writeOnly', 'deprecated',
  'contentMediaType', 'contentEncoding', 'contentSchema', 'then', 'else',
]);

function unsupported(keyword: string, pointer: string, message?: string): GatewayError {
  return new GatewayError('constraint_unsupported', `JSON Schema keyword '${keyword}' at ${pointer || '#'} cannot be enforced${message ? `: ${message}` : ''}`, {
    details: { keyword, pointer },
  });
}

function invalidSchema(keyword: string, pointer: string, message: string): GatewayError {
  return new GatewayError('constraint_invalid', `JSON Schema keyword '${keyword}' at ${pointer || '#'}: ${message}`, { details: { keyword, pointer } });
}

const literal = (text: string): GrammarExpr => ({ type: 'literal', text });
const regexLeaf = (pattern: string): GrammarExpr => ({ type: 'regex', pattern });
const EMPTY: GrammarExpr = { type: 'seq', items: [] };

function seq(items: Array<GrammarExpr | null>): GrammarExpr | null {
  if (items.some((item) => item === null)) return null;
  const flat: GrammarExpr[] = [];
  for (const item of items as GrammarExpr[]) {
    if (item.type === 'seq') flat.push(...item.items);
    else flat.push(item);
  }
  // merge adjacent literals
  const merged: GrammarExpr[] = [];
  for (const item of flat) {
    const last = merged[merged.length - 1];
    if (last && last.type === 'literal' && item.type === 'literal') merged[merged.length - 1] = literal(last.text + item.text);
    else merged.push(item);
  }
  return merged.length === 1 ? merged[0] : { type: 'seq', items: merged };
}

function alt(options: Array<GrammarExpr | null>): GrammarExpr | null {
  const present = options.filter((option): option is GrammarExpr => option !== null);
  if (present.length === 0) return null;
  return present.length === 1 ? present[0] : { type: 'alt', options: present };
}

function isNonNegativeInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0;
}

function toBigInt(value: number, round: 'ceil' | 'floor'): bigint {
  const rounded = round === 'ceil' ? Math.ceil(value) : Math.floor(value);
  if (!Number.isFinite(rounded)) throw new GatewayError('constraint_unsupported', 'numeric bound is not finite');
  return BigInt(rounded);
}

/**
 * The order in which a keyword's subschemas and the rest of the schema object are merged: the rest
 * first when its `properties` come before the keyword in the schema text, else the keyword's parts.
 */
function ownKeywordsFirst(record: Record<string, unknown>, keyword: string, parts: unknown[], rest: object): unknown[] {
  const keys = Object.keys(record);
  const ownIndex = keys.indexOf('properties');
  return ownIndex >= 0 && ownIndex < keys.indexOf(keyword) ? [rest, ...parts] : [...parts, rest];
}

/** The names of a subschema that is nothing but `required` (and annotations); null otherwise. */
function requiredOnly(schema: unknown): string[] | null {
  if (schema === null || typeof schema !== 'object' || Array.isArray(schema)) return null;
  const record = schema as Record<string, unknown>;
  const keys = Object.keys(record).filter((key) => !ANNOTATION_OR_STRUCTURAL.has(key));
  if (keys.length !== 1 || keys[0] !== 'required' || !Array.isArray(record.required)) return null;
  return record.required.every((name) => typeof name === 'string') ? (record.required as string[]) : null;
}

class SchemaGrammarBuilder {
  readonly rules = new Map<string, GrammarExpr>();
  private readonly ruleByKey = new Map<string, { name: string; state: 'pending' | 'done'; empty: boolean }>();
  private readonly ids = new WeakMap<object, number>();
  private nextId = 1;
  private readonly strippedCopies = new WeakMap<object, Map<string, object>>();
  private readonly strippedSet = new WeakSet<object>();
  private chainCounter = 0;
  private readonly analyses = new Map<string, Analysis | null>();
  private readonly index: SchemaIndex;
  private readonly limits: JsonSchemaLimits;
  private readonly whitespace: WhitespaceMode;
  private readonly matcher: GrammarMatcher;
  private helperRules = new Set<string>();

  constructor(index: SchemaIndex, whitespace: WhitespaceMode, limits: JsonSchemaLimits) {
    this.index = index;
    this.whitespace = whitespace;
    this.limits = limits;
    this.matcher = new GrammarMatcher(this.rules, { maxSteps: 200_000 });
  }

  // ---------------------------------------------------------------- layout

  private ws(): GrammarExpr {
    return regexLeaf(`[ \\n]{0,${this.limits.maxFlexibleWhitespace}}`);
  }

  private comma(): GrammarExpr {
    if (this.whitespace === 'python') return literal(', ');
    if (this.whitespace === 'flexible') return seq([this.ws(), literal(','), this.ws()])!;
    return literal(',');
  }

  private colon(): GrammarExpr {
    if (this.whitespace === 'python') return literal(': ');
    if (this.whitespace === 'flexible') return seq([this.ws(), literal(':'), this.ws()])!;
    return literal(':');
  }

  private bracket(open: string, body: GrammarExpr | null, close: string): GrammarExpr | null {
    if (body === null) return null;
    if (this.whitespace === 'flexible') return seq([literal(open), this.ws(), body, this.ws(), literal(close)]);
    return seq([literal(open), body, literal(close)]);
  }

  // ---------------------------------------------------------------- conjunctions

  private idOf(node: object): number {
    let id = this.ids.get(node);
    if (id === undefined) {
      id = this.nextId++;
      this.ids.set(node, id);
    }
    return id;
  }

  private pointerOf(node: object): string {
    return this.index.infoOf(node).pointer;
  }

  /** A copy of `node` without some keywords (cached so that conjunction keys stay stable). */
  private stripped(node: object, keywords: string[]): object {
    const key = keywords.join(',');
    let copies = this.strippedCopies.get(node);
    if (!copies) {
      copies = new Map();
      this.strippedCopies.set(node, copies);
    }
    let copy = copies.get(key);
    if (!copy) {
      const record = { ...(node as Record<string, unknown>) };
      for (const keyword of keywords) delete record[keyword];
      copy = record;
      this.index.adopt(copy, node);
      this.strippedSet.add(copy);
      copies.set(key, copy);
    }
    return copy;
  }

  /** Expands `$ref` and `allOf` into a flat list of parts; null when a part is `false`. */
  conjunction(schemas: unknown[]): Conjunction | null {
    const parts: object[] = [];
    const seen = new Set<object>();
    const queue = [...schemas];
    let steps = 0;
    while (queue.length > 0) {
      const schema = queue.shift();
      if (++steps > 10_000) throw unsupported('allOf', '', 'too many merged subschemas');
      if (schema === undefined || schema === true) continue;
      if (schema === false) return null;
      if (schema === null || typeof schema !== 'object' || Array.isArray(schema)) {
        throw invalidSchema('schema', '', 'a subschema must be an object or a boolean');
      }
      if (seen.has(schema)) continue;
      seen.add(schema);
      const record = schema as Record<string, unknown>;
      const pointer = this.pointerOf(schema);
      for (const keyword of ['$dynamicRef', '$recursiveRef']) {
        if (keyword in record) throw unsupported(keyword, `${pointer}/${keyword}`, 'dynamic references are not resolved');
      }
      if (typeof record.$ref === 'string') {
        const target = this.index.resolveRef(record.$ref, schema);
        // expanded in place (depth first), so that merged properties keep the schema's reading order
        if (this.index.draft < 2019) queue.unshift(target);
        else queue.unshift(...ownKeywordsFirst(record, '$ref', [target], this.stripped(schema, ['$ref'])));
        continue;
      }
      if (typeof record.if === 'boolean') {
        // a boolean `if` always picks the same branch
        queue.unshift(this.stripped(schema, ['if', 'then', 'else']), record.if ? record.then : record.else);
        continue;
      }
      const negated = record.not;
      if (negated !== null && typeof negated === 'object' && !Array.isArray(negated)) {
        const inner = negated as Record<string, unknown>;
        const innerKeys = Object.keys(inner).filter((key) => !ANNOTATION_OR_STRUCTURAL.has(key));
        if (innerKeys.length === 1 && innerKeys[0] === 'not') {
          // not {not: X} is X
          queue.unshift(...ownKeywordsFirst(record, 'not', [inner.not], this.stripped(schema, ['not'])));
          continue;
        }
      }
      if (record.allOf !== undefined) {
        if (!Array.isArray(record.allOf) || record.allOf.length === 0) throw invalidSchema('allOf', `${pointer}/allOf`, 'must be a non-empty array');
        queue.unshift(...ownKeywordsFirst(record, 'allOf', record.allOf, this.stripped(schema, ['allOf'])));
        continue;
      }
      if (Object.keys(record).every((key) => ANNOTATION_OR_STRUCTURAL.has(key))) continue;
      parts.push(schema);
    }
    const ids = [...new Set(parts.map((part) => this.idOf(part)))].sort((a, b) => a - b);
    return { parts, key: ids.join(',') };
  }

  // ---------------------------------------------------------------- rules

  /** The grammar for a conjunction, as a reference to its rule; null when nothing validates. */
  compileConjunction(conjunction: Conjunction | null): GrammarExpr | null {
    if (conjunction === null) return null;
    if (conjunction.parts.length === 0) return this.anyValue();
    const existing = this.ruleByKey.get(conjunction.key);
    if (existing) {
      if (existing.state === 'pending') return { type: 'ref', name: existing.name };
      return existing.empty ? null : { type: 'ref', name: existing.name };
    }
    const name = `s${this.ruleByKey.size + 1}`;
    if (this.ruleByKey.size + this.helperRules.size > this.limits.maxRules) {
      throw unsupported('limits', this.pointerOf(conjunction.parts[0]), `more than ${this.limits.maxRules} grammar rules`);
    }
    const entry = { name, state: 'pending' as 'pending' | 'done', empty: false };
    this.ruleByKey.set(conjunction.key, entry);
    const body = this.compileAnalysis(this.analyze(conjunction), conjunction, false);
    entry.state = 'done';
    entry.empty = body === null;
    this.rules.set(name, body ?? { type: 'alt', options: [] });
    return body === null ? null : { type: 'ref', name };
  }

  compile(schema: unknown): GrammarExpr | null {
    return this.compileConjunction(this.conjunction([schema]));
  }

  private helperRule(name: string, build: () => GrammarExpr): GrammarExpr {
    if (!this.rules.has(name)) {
      this.helperRules.add(name);
      this.rules.set(name, { type: 'alt', options: [] });
      this.rules.set(name, build());
    }
    return { type: 'ref', name };
  }

  private anyValue(): GrammarExpr {
    return this.helperRule('json_value', () => {
      const value: GrammarExpr = { type: 'ref', name: 'json_value' };
      const object = this.helperRule('json_object', () => {
        const member = seq([regexLeaf(`"(?:${JSON_STRING_CHAR})*"`), this.colon(), value])!;
        return alt([
          seq([literal('{'), this.whitespace === 'flexible' ? this.ws() : EMPTY, literal('}')]),
          this.bracket('{', seq([member, { type: 'repeat', item: seq([this.comma(), member])!, min: 0, max: null }]), '}'),
        ])!;
      });
      const array = this.helperRule('json_array', () =>
        alt([
          seq([literal('['), this.whitespace === 'flexible' ? this.ws() : EMPTY, literal(']')]),
          this.bracket('[', seq([value, { type: 'repeat', item: seq([this.comma(), value])!, min: 0, max: null }]), ']'),
        ])!,
      );
      return alt([object, array, regexLeaf(`"(?:${JSON_STRING_CHAR})*"`), regexLeaf(JSON_NUMBER_REGEX), literal('true'), literal('false'), literal('null')])!;
    });
  }

  // ---------------------------------------------------------------- analysis

  analyze(conjunction: Conjunction): Analysis | null {
    if (this.analyses.has(conjunction.key)) return this.analyses.get(conjunction.key)!;
    const result = this.analyzeParts(conjunction.parts);
    this.analyses.set(conjunction.key, result);
    return result;
  }

  private analyzeParts(parts: object[]): Analysis | null {
    const analysis: Analysis = {
      kinds: new Set(ALL_KINDS),
      excludedValues: [],
      patterns: [],
      formats: [],
      multipleOf: [],
      objectParts: [],
      required: [],
      forbidden: new Set(),
      presence: [],
      arrayParts: [],
      applicators: [],
    };
    const draft = this.index.draft;
    for (const part of parts) {
      const schema = part as Record<string, unknown>;
      const base = this.pointerOf(part);
      const at = (keyword: string): string => `${base}/${escapePointerToken(keyword)}`;
      // type
      if (schema.type !== undefined) {
        const names = Array.isArray(schema.type) ? schema.type : [schema.type];
        const allowed = new Set<Kind>();
        for (const name of names) {
          if (name === 'number') {
            allowed.add('number');
            allowed.add('integer');
          } else if (typeof name === 'string' && (ALL_KINDS as readonly string[]).includes(name)) allowed.add(name as Kind);
          else if (name === 'any' && draft <= 4) ALL_KINDS.forEach((kind) => allowed.add(kind));
          else throw invalidSchema('type', at('type'), `unknown type ${JSON.stringify(name)}`);
        }
        analysis.kinds = new Set([...analysis.kinds].filter((kind) => allowed.has(kind)));
      }
      // enum / const
      const valueSets: unknown[][] = [];
      if (schema.enum !== undefined) {
        if (!Array.isArray(schema.enum)) throw invalidSchema('enum', at('enum'), 'must be an array');
        if (schema.enum.length > this.limits.maxEnumValues) throw unsupported('enum', at('enum'), `more than ${this.limits.maxEnumValues} values`);
        valueSets.push(schema.enum);
        analysis.enumPointer ??= at('enum');
      }
      if ('const' in schema && draft >= 6) {
        valueSets.push([schema.const]);
        analysis.enumPointer ??= at('const');
      }
      for (const values of valueSets) {
        if (analysis.enumValues === undefined) analysis.enumValues = values;
        else {
          const keys = new Set(values.map(canonicalJson));
          analysis.enumValues = analysis.enumValues.filter((value) => keys.has(canonicalJson(value)));
        }
      }
      // strings
      if (schema.minLength !== undefined) {
        if (!isNonNegativeInteger(schema.minLength)) throw invalidSchema('minLength', at('minLength'), 'must be a non-negative integer');
        analysis.minLength = Math.max(analysis.minLength ?? 0, schema.minLength);
        analysis.lengthPointer ??= at('minLength');
      }
      if (schema.maxLength !== undefined) {
        if (!isNonNegativeInteger(schema.maxLength)) throw invalidSchema('maxLength', at('maxLength'), 'must be a non-negative integer');
        analysis.maxLength = Math.min(analysis.maxLength ?? Infinity, schema.maxLength);
        analysis.lengthPointer ??= at('maxLength');
      }
      if (schema.pattern !== undefined) {
        if (typeof schema.pattern !== 'string') throw invalidSchema('pattern', at('pattern'), 'must be a string');
        analysis.patterns.push({ source: schema.pattern, pointer: at('pattern') });
      }
      if (schema.format !== undefined && typeof schema.format === 'string') analysis.formats.push({ name: schema.format, pointer: at('format') });
      // numbers
      const numberKeyword = (keyword: string): number | undefined => {
        const value = schema[keyword];
        if (value === undefined) return undefined;
        if (typeof value !== 'number' || !Number.isFinite(value)) throw invalidSchema(keyword, at(keyword), 'must be a number');
        return value;
      };
      const tighten = (side: 'minimum' | 'maximum', value: number, exclusive: boolean, pointer: string): void => {
        const current = analysis[side];
        const better =
          current === undefined ||
          (side === 'minimum' ? value > current.value || (value === current.value && exclusive) : value < current.value || (value === current.value && exclusive));
        if (better) analysis[side] = { value, exclusive, pointer };
      };
      const minimum = numberKeyword('minimum');
      const maximum = numberKeyword('maximum');
      if (draft <= 4) {
        if (minimum !== undefined) tighten('minimum', minimum, schema.exclusiveMinimum === true, at('minimum'));
        if (maximum !== undefined) tighten('maximum', maximum, schema.exclusiveMaximum === true, at('maximum'));
      } else {
        if (minimum !== undefined) tighten('minimum', minimum, false, at('minimum'));
        if (maximum !== undefined) tighten('maximum', maximum, false, at('maximum'));
        if (typeof schema.exclusiveMinimum === 'number') tighten('minimum', schema.exclusiveMinimum, true, at('exclusiveMinimum'));
        if (typeof schema.exclusiveMaximum === 'number') tighten('maximum', schema.exclusiveMaximum, true, at('exclusiveMaximum'));
      }
      const multipleOf = numberKeyword('multipleOf');
      if (multipleOf !== undefined) {
        if (multipleOf <= 0) throw invalidSchema('multipleOf', at('multipleOf'), 'must be positive');
        analysis.multipleOf.push({ value: multipleOf, pointer: at('multipleOf') });
      }
      // objects
      const objectPart: ObjectPart = { node: part, pointer: base };
      let hasObjectPart = false;
      for (const keyword of ['properties', 'patternProperties'] as const) {
        const value = schema[keyword];
        if (value === undefined) continue;
        if (value === null || typeof value !== 'object' || Array.isArray(value)) throw invalidSchema(keyword, at(keyword), 'must be an object');
        objectPart[keyword] = value as Record<string, unknown>;
        hasObjectPart = true;
      }
      if (schema.additionalProperties !== undefined) {
        objectPart.additionalProperties = schema.additionalProperties;
        hasObjectPart = true;
      }
      if (schema.unevaluatedProperties !== undefined && schema.unevaluatedProperties !== true && schema.additionalProperties === undefined) {
        // Without applicators in the same schema object, unevaluatedProperties is additionalProperties.
        const applicators = ['anyOf', 'oneOf', 'not', 'if', 'dependentSchemas', 'dependencies', '$ref', 'allOf'];
        if (this.strippedSet.has(part) || applicators.some((keyword) => keyword in schema)) {
          throw unsupported('unevaluatedProperties', at('unevaluatedProperties'), 'together with applicators');
        }
        objectPart.additionalProperties = schema.unevaluatedProperties;
        hasObjectPart = true;
      }
      if (schema.propertyNames !== undefined && schema.propertyNames !== true) {
        objectPart.propertyNames = schema.propertyNames;
        hasObjectPart = true;
      }
      if (hasObjectPart) {
        analysis.objectParts.push(objectPart);
        analysis.propertiesPointer ??= base;
      }
      if (schema.required !== undefined && typeof schema.required !== 'boolean') {
        // (a boolean `required` is draft 3's property flag, not a validation keyword of the drafts served)
        if (!Array.isArray(schema.required)) {
          throw invalidSchema('required', at('required'), 'must be an array');
        } else {
          for (const name of schema.required) if (typeof name === 'string' && !analysis.required.includes(name)) analysis.required.push(name);
        }
      }
      if (schema.minProperties !== undefined) {
        if (!isNonNegativeInteger(schema.minProperties)) throw invalidSchema('minProperties', at('minProperties'), 'must be a non-negative integer');
        analysis.minProperties = Math.max(analysis.minProperties ?? 0, schema.minProperties);
      }
      if (schema.maxProperties !== undefined) {
        if (!isNonNegativeInteger(schema.maxProperties)) throw invalidSchema('maxProperties', at('maxProperties'), 'must be a non-negative integer');
        analysis.maxProperties = Math.min(analysis.maxProperties ?? Infinity, schema.maxProperties);
      }
      for (const keyword of ['dependencies', 'dependentRequired', 'dependentSchemas']) {
        const value = schema[keyword];
        if (value === undefined || value === null || typeof value !== 'object' || Array.isArray(value)) continue;
        for (const [trigger, dependency] of Object.entries(value as Record<string, unknown>)) {
          const dependencyPointer = `${at(keyword)}/${escapePointerToken(trigger)}`;
          if (keyword !== 'dependentSchemas' && Array.isArray(dependency)) {
            const required = dependency.filter((name): name is string => typeof name === 'string');
            if (required.length > 0) {
              analysis.presence.push({
                names: [trigger, ...required],
                keyword,
                pointer: dependencyPointer,
                holds: (present) => !present(trigger) || required.every(present),
              });
            }
            continue;
          }
          if (keyword !== 'dependentRequired' && (dependency === true || (dependency !== null && typeof dependency === 'object' && Object.keys(dependency).every((key) => ANNOTATION_OR_STRUCTURAL.has(key))))) continue;
          throw unsupported(keyword, dependencyPointer, 'schema dependencies are not enforced');
        }
      }
      // arrays
      const prefixKeyword = Array.isArray(schema.items) ? 'items' : 'prefixItems';
      const prefix = schema[prefixKeyword];
      if (prefix !== undefined || schema.items !== undefined) {
        const arrayPart: ArrayPart = { pointer: base, prefix: [], rest: undefined };
        if (Array.isArray(prefix)) arrayPart.prefix = prefix;
        if (Array.isArray(schema.items)) arrayPart.rest = schema.additionalItems;
        else arrayPart.rest = schema.items;
        analysis.arrayParts.push(arrayPart);
        analysis.itemsPointer ??= base;
      }
      if (schema.unevaluatedItems !== undefined && schema.unevaluatedItems !== true) throw unsupported('unevaluatedItems', at('unevaluatedItems'));
      if (schema.minItems !== undefined) {
        if (!isNonNegativeInteger(schema.minItems)) throw invalidSchema('minItems', at('minItems'), 'must be a non-negative integer');
        analysis.minItems = Math.max(analysis.minItems ?? 0, schema.minItems);
      }
      if (schema.maxItems !== undefined) {
        if (!isNonNegativeInteger(schema.maxItems)) throw invalidSchema('maxItems', at('maxItems'), 'must be a non-negative integer');
        analysis.maxItems = Math.min(analysis.maxItems ?? Infinity, schema.maxItems);
      }
      if (schema.uniqueItems === true) analysis.uniqueItems ??= at('uniqueItems');
      if (schema.contains !== undefined) throw unsupported('contains', at('contains'));
      // applicators
      for (const keyword of ['anyOf', 'oneOf'] as const) {
        const options = schema[keyword];
        if (options === undefined) continue;
        if (!Array.isArray(options) || options.length === 0) throw invalidSchema(keyword, at(keyword), 'must be a non-empty array');
        const requiredLists = options.map((option) => requiredOnly(option));
        if (requiredLists.every((list): list is string[] => list !== null)) {
          // anyOf/oneOf of bare `required` lists: a condition on which names are present
          const sets = requiredLists;
          const satisfiedCount = (present: (name: string) => boolean): number => sets.filter((names) => names.every(present)).length;
          analysis.presence.push({
            names: [...new Set(sets.flat())],
            keyword,
            pointer: at(keyword),
            holds: keyword === 'anyOf' ? (present) => satisfiedCount(present) >= 1 : (present) => satisfiedCount(present) === 1,
          });
          // `required` holds vacuously for non-objects: every branch matches, so oneOf (≥ 2 branches) fails
          if (keyword === 'oneOf' && sets.length >= 2) analysis.kinds = new Set([...analysis.kinds].filter((kind) => kind === 'object'));
          continue;
        }
        analysis.applicators.push({ type: keyword, node: part, options, pointer: at(keyword) });
      }
      if (schema.not !== undefined) {
        if (!this.applyNot(analysis, schema.not, at('not'))) return null;
      }
      if (schema.if !== undefined && (schema.then !== undefined || schema.else !== undefined)) {
        throw unsupported('if', at('if'));
      }
    }
    return analysis;
  }

  /** Applies `not` where it is sound; returns false when the position becomes impossible. */
  private applyNot(analysis: Analysis, schema: unknown, pointer: string): boolean {
    if (schema === false) return true;
    if (schema === true) return false;
    if (schema === null || typeof schema !== 'object' || Array.isArray(schema)) throw invalidSchema('not', pointer, 'must be a schema');
    const record = schema as Record<string, unknown>;
    const keys = Object.keys(record).filter((key) => !ANNOTATION_OR_STRUCTURAL.has(key));
    if (keys.length === 0) return false;
    if (keys.length !== 1) throw unsupported('not', pointer, 'only not {type}, not {enum}, not {const}, not {required: [one]} and not {anyOf: [those]} are enforced');
    const [keyword] = keys;
    const value = record[keyword];
    switch (keyword) {
      case 'type': {
        const names = Array.isArray(value) ? value : [value];
        const removed = new Set<string>(names as string[]);
        if (removed.has('number')) removed.add('integer');
        // removing 'integer' alone leaves 'number' = numbers with a non-zero fraction
        analysis.kinds = new Set([...analysis.kinds].filter((kind) => !removed.has(kind)));
        return true;
      }
      case 'enum':
        if (!Array.isArray(value)) throw invalidSchema('enum', `${pointer}/enum`, 'must be an array');
        analysis.excludedValues.push(...value);
        return true;
      case 'const':
        analysis.excludedValues.push(value);
        return true;
      case 'required':
        // `required` holds vacuously for non-objects, so its negation rejects every non-object
        if (Array.isArray(value) && value.length === 0) return false;
        analysis.kinds = new Set([...analysis.kinds].filter((kind) => kind === 'object'));
        if (Array.isArray(value) && value.length === 1 && typeof value[0] === 'string') {
          analysis.forbidden.add(value[0]);
          return true;
        }
        if (Array.isArray(value) && value.every((name) => typeof name === 'string')) {
          const names = value as string[];
          analysis.presence.push({ names, keyword: 'not', pointer, holds: (present) => !names.every(present) });
          return true;
        }
        throw invalidSchema('required', `${pointer}/required`, 'must be an array of strings');
      case 'anyOf':
        if (!Array.isArray(value)) throw invalidSchema('anyOf', `${pointer}/anyOf`, 'must be an array');
        return value.every((option, index) => this.applyNot(analysis, option, `${pointer}/anyOf/${index}`));
      default:
        throw unsupported('not', pointer, `not {${keyword}}`);
    }
  }

  // ---------------------------------------------------------------- emission

  private compileAnalysis(analysis: Analysis | null, conjunction: Conjunction, ignoreEnum: boolean): GrammarExpr | null {
    if (analysis === null) return null;
    if (analysis.applicators.length > 0) return this.compileApplicator(analysis, conjunction);
    if (analysis.enumValues !== undefined && !ignoreEnum) return this.compileEnum(analysis, conjunction);
    const excluded = analysis.excludedValues;
    const kinds = new Set(analysis.kinds);
    for (const value of excluded) {
      if (value === null) kinds.delete('null');
    }
    const excludedOf = (kind: 'string' | 'number' | 'object' | 'array'): unknown[] =>
      excluded.filter((value) => {
        const type = jsonTypeOf(value);
        return kind === 'number' ? type === 'number' || type === 'integer' : type === kind;
      });
    const options: Array<GrammarExpr | null> = [];
    if (kinds.has('null')) options.push(literal('null'));
    if (kinds.has('boolean')) {
      if (!excluded.includes(true)) options.push(literal('true'));
      if (!excluded.includes(false)) options.push(literal('false'));
    }
    if (kinds.has('string')) options.push(this.compileString(analysis, excludedOf('string') as string[]));
    if (kinds.has('integer') || kinds.has('number')) {
      const excludedNumbers = excludedOf('number') as number[];
      if (excludedNumbers.length > 0 && kinds.has('number')) throw unsupported('not', analysis.enumPointer ?? '', 'excluding values from non-integer numbers');
      options.push(this.compileNumber(analysis, kinds.has('number'), kinds.has('integer'), excludedNumbers));
    }
    if (kinds.has('object')) {
      if (excludedOf('object').length > 0) throw unsupported('not', '', 'excluding objects');
      options.push(this.compileObject(analysis));
    }
    if (kinds.has('array')) {
      if (excludedOf('array').length > 0) throw unsupported('not', '', 'excluding arrays');
      options.push(this.compileArray(analysis));
    }
    return alt(options);
  }

  private compileApplicator(analysis: Analysis, conjunction: Conjunction): GrammarExpr | null {
    const [applicator] = analysis.applicators;
    const rest = conjunction.parts.map((part) => (part === applicator.node ? this.stripped(part, [applicator.type]) : part));
    if (applicator.options.length > this.limits.maxAlternatives) throw unsupported(applicator.type, applicator.pointer, 'too many alternatives');
    const branches = applicator.options.map((option) => this.conjunction([...rest, option]));
    if (applicator.type === 'oneOf') {
      const analyses = branches.map((branch) => (branch === null ? null : this.analyze(branch)));
      for (let i = 0; i < analyses.length; i++) {
        for (let j = i + 1; j < analyses.length; j++) {
          const a = analyses[i];
          const b = analyses[j];
          if (a === null || b === null) continue;
          if (!this.provablyDisjoint(a, b, 2)) {
            throw unsupported('oneOf', applicator.pointer, `branches ${i} and ${j} are not provably exclusive`);
          }
        }
      }
    }
    return alt(branches.map((branch) => this.compileConjunction(branch)));
  }

  /** Sound (never claims disjointness wrongly) test that no value satisfies both analyses. */
  private provablyDisjoint(a: Analysis, b: Analysis, depth: number): boolean {
    const kindsOf = (analysis: Analysis): Set<Kind> => {
      if (analysis.enumValues !== undefined) {
        const kinds = new Set<Kind>();
        for (const value of analysis.enumValues) {
          const type = jsonTypeOf(value);
          kinds.add(type);
          if (type === 'integer') kinds.add('number');
        }
        return kinds;
      }
      const kinds = new Set(analysis.kinds);
      if (kinds.has('number')) kinds.add('integer');
      return kinds;
    };
    const kindsA = kindsOf(a);
    const kindsB = kindsOf(b);
    const common = [...kindsA].filter((kind) => kindsB.has(kind));
    if (common.length === 0) return true;
    if (a.applicators.length > 0 || b.applicators.length > 0) return false;
    if (a.enumValues !== undefined && b.enumValues !== undefined) {
      const keys = new Set(a.enumValues.map(canonicalJson));
      return !b.enumValues.some((value) => keys.has(canonicalJson(value)));
    }
    // objects only: a required discriminator property with disjoint values
    if (depth > 0 && common.every((kind) => kind === 'object')) {
      for (const name of a.required) {
        if (!b.required.includes(name)) continue;
        const valueA = this.propertyAnalysis(a, name);
        const valueB = this.propertyAnalysis(b, name);
        if (valueA === null || valueB === null) return true;
        if (valueA !== undefined && valueB !== undefined && this.provablyDisjoint(valueA, valueB, depth - 1)) return true;
      }
    }
    return false;
  }

  /** The analysis of a declared property's value (null = impossible, undefined = unknown). */
  private propertyAnalysis(analysis: Analysis, name: string): Analysis | null | undefined {
    const schemas: unknown[] = [];
    for (const part of analysis.objectParts) {
      if (part.patternProperties && Object.keys(part.patternProperties).length > 0) return undefined;
      if (part.properties && name in part.properties) schemas.push(part.properties[name]);
      else if (part.additionalProperties !== undefined) schemas.push(part.additionalProperties);
    }
    const conjunction = this.conjunction(schemas);
    if (conjunction === null) return null;
    return this.analyze(conjunction);
  }

  private compileEnum(analysis: Analysis, conjunction: Conjunction): GrammarExpr | null {
    const values = analysis.enumValues ?? [];
    const excludedKeys = new Set(analysis.excludedValues.map(canonicalJson));
    const others = this.compileAnalysis(analysis, conjunction, true);
    if (others === null) return null;
    const options: GrammarExpr[] = [];
    const seen = new Set<string>();
    for (const value of values) {
      const key = canonicalJson(value);
      if (excludedKeys.has(key) || seen.has(key)) continue;
      seen.add(key);
      const text = serializeJsonValue(value, this.whitespace);
      let ok: boolean;
      try {
        ok = this.matcher.matches(others, text);
      } catch (error) {
        if (error instanceof GatewayError && error.code === 'internal_error') throw unsupported('enum', analysis.enumPointer ?? '', 'enum inside a recursive definition');
        throw error;
      }
      if (ok) options.push(literal(text));
    }
    return alt(options);
  }

  private compileString(analysis: Analysis, excluded: string[]): GrammarExpr | null {
    const minLength = analysis.minLength ?? 0;
    const maxLength = analysis.maxLength ?? Infinity;
    if (minLength > maxLength) return null;
    const regexes: Array<{ node: RegexNode; keyword: string; pointer: string }> = [];
    const seen = new Set<string>();
    for (const pattern of analysis.patterns) {
      if (seen.has(`p:${pattern.source}`)) continue;
      seen.add(`p:${pattern.source}`);
      const options = { keyword: 'pattern', pointer: pattern.pointer, maxRepeat: this.limits.maxRepeat };
      regexes.push({ node: patternToWholeMatch(parseSchemaRegex(pattern.source, options), options), keyword: 'pattern', pointer: pattern.pointer });
    }
    for (const format of analysis.formats) {
      if (seen.has(`f:${format.name}`)) continue;
      seen.add(`f:${format.name}`);
      const rule = formatRule(format.name);
      if (rule.type === 'unsupported') throw unsupported('format', format.pointer, `format '${format.name}' is not enforced`);
      if (rule.type !== 'regex') continue;
      regexes.push({
        node: parseSchemaRegex(rule.source, { ignoreCase: rule.ignoreCase, keyword: 'format', pointer: format.pointer }),
        keyword: 'format',
        pointer: format.pointer,
      });
    }
    if (excluded.length > 0) {
      if (regexes.length > 0 || minLength > 0 || maxLength !== Infinity) throw unsupported('not', '', 'excluding strings together with other string constraints');
      return regexLeaf(`"${stringNotInRegex(excluded)}"`);
    }
    if (regexes.length > 1) {
      throw unsupported(regexes[1].keyword, regexes[1].pointer, 'several patterns/formats on one string cannot be intersected');
    }
    if (regexes.length === 1) {
      const [regex] = regexes;
      const range = regexLengthRange(regex.node);
      if (range.min > range.max) return null;
      if (range.min < minLength || range.max > maxLength) {
        if (range.max < minLength || range.min > maxLength) return null;
        const constrained = constrainRegexLength(regex.node, minLength, maxLength);
        if (constrained === null) return null;
        if (constrained !== undefined) return regexLeaf(`"${emitEncodedRegex(constrained, this.limits.maxRepeat)}"`);
        throw unsupported(analysis.minLength !== undefined && range.min < minLength ? 'minLength' : 'maxLength', analysis.lengthPointer ?? regex.pointer, `length bounds together with ${regex.keyword}`);
      }
      return regexLeaf(`"${emitEncodedRegex(regex.node, this.limits.maxRepeat)}"`);
    }
    const lengthCap = this.limits.maxRepeat * this.limits.maxRepeat;
    if (maxLength !== Infinity && maxLength > lengthCap) throw unsupported('maxLength', analysis.lengthPointer ?? '', `above the limit of ${lengthCap}`);
    if (minLength > lengthCap) throw unsupported('minLength', analysis.lengthPointer ?? '', `above the limit of ${lengthCap}`);
    return regexLeaf(`"${boundedQuantifier(JSON_STRING_CHAR, minLength, maxLength === Infinity ? null : maxLength, this.limits.maxRepeat)}"`);
  }

  private compileNumber(analysis: Analysis, allowFraction: boolean, allowIntegers = true, excluded: number[] = []): GrammarExpr | null {
    if (!allowIntegers) {
      // not {type: integer}: numbers whose fraction is not all zeros (no exponent forms: stricter)
      if (analysis.minimum || analysis.maximum || analysis.multipleOf.length > 0 || analysis.formats.some((format) => formatRule(format.name).type === 'number')) {
        throw unsupported('not', analysis.propertiesPointer ?? '', 'non-integer numbers together with numeric bounds');
      }
      return regexLeaf('-?(?:0|[1-9][0-9]*)\\.[0-9]*[1-9][0-9]*');
    }
    let integerOnly = !allowFraction;
    let minimum = analysis.minimum;
    let maximum = analysis.maximum;
    let fractionDigits: number | null = null;
    let integerMultiple: number | null = null;
    for (const format of analysis.formats) {
      const rule = formatRule(format.name);
      if (rule.type !== 'number') continue;
      if (rule.integer) integerOnly = true;
      if (rule.minimum !== undefined && (minimum === undefined || Number(rule.minimum) > minimum.value)) minimum = { value: Number(rule.minimum), exclusive: false, pointer: format.pointer };
      if (rule.maximum !== undefined && (maximum === undefined || Number(rule.maximum) < maximum.value)) maximum = { value: Number(rule.maximum), exclusive: false, pointer: format.pointer };
    }
    for (const multiple of analysis.multipleOf) {
      if (Number.isInteger(multiple.value)) {
        integerOnly = true;
        if (multiple.value === 1) continue;
        if (integerMultiple !== null && integerMultiple !== multiple.value) throw unsupported('multipleOf', multiple.pointer, 'several multipleOf values');
        integerMultiple = multiple.value;
        continue;
      }
      const digits = Math.round(-Math.log10(multiple.value));
      if (digits > 0 && digits <= 15 && multiple.value === Number(`1e-${digits}`)) {
        fractionDigits = fractionDigits === null ? digits : Math.min(fractionDigits, digits);
        continue;
      }
      throw unsupported('multipleOf', multiple.pointer, `multipleOf ${multiple.value}`);
    }
    if (integerOnly) {
      const low = minimum === undefined ? null : minimum.exclusive ? toBigInt(minimum.value, 'floor') + 1n : toBigInt(minimum.value, 'ceil');
      const high = maximum === undefined ? null : maximum.exclusive ? toBigInt(maximum.value, 'ceil') - 1n : toBigInt(maximum.value, 'floor');
      if (excluded.length > 0) {
        // integers in [low, high] minus a finite set: the gaps between the excluded values
        if (integerMultiple !== null) throw unsupported('multipleOf', analysis.multipleOf[0].pointer, 'multipleOf together with excluded values');
        const points = [...new Set(excluded.filter((value) => Number.isSafeInteger(value)).map((value) => BigInt(value)))].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
        const pieces: string[] = [];
        let from = low;
        for (const point of points) {
          if ((low !== null && point < low) || (high !== null && point > high)) continue;
          const piece = integerRangeRegex(from, point - 1n);
          if (piece !== null && (from === null || from <= point - 1n)) pieces.push(piece);
          from = point + 1n;
        }
        const last = from === null || high === null || from <= high ? integerRangeRegex(from, high) : null;
        if (last !== null) pieces.push(last);
        if (pieces.length === 0) return null;
        return regexLeaf(`(?:${pieces.join('|')})${this.index.draft >= 6 ? INTEGER_ZERO_FRACTION : ''}`);
      }
      if (integerMultiple !== null) return this.integerMultipleRegex(integerMultiple, low, high, analysis);
      // Draft 4 (and Python's Draft4Validator) does not count 1.0 as an integer; later drafts do.
      const zeroFraction = this.index.draft >= 6 ? INTEGER_ZERO_FRACTION : '';
      if (low === null && high === null) return regexLeaf(this.index.draft >= 6 ? JSON_INTEGER_REGEX : '-?(?:0|[1-9][0-9]*)');
      const range = integerRangeRegex(low, high);
      return range === null ? null : regexLeaf(`(?:${range})${zeroFraction}`);
    }
    if (minimum === undefined && maximum === undefined && fractionDigits === null) return regexLeaf(JSON_NUMBER_REGEX);
    // Non-integer bounds are rounded inwards to integers (stricter, sound): x ≥ 0.5 becomes x ≥ 1.
    const bounds: NumberBounds = {};
    if (minimum !== undefined) {
      const integral = Number.isInteger(minimum.value);
      bounds.minimum = { value: toBigInt(minimum.value, 'ceil'), exclusive: integral ? minimum.exclusive : false };
    }
    if (maximum !== undefined) {
      const integral = Number.isInteger(maximum.value);
      bounds.maximum = { value: toBigInt(maximum.value, 'floor'), exclusive: integral ? maximum.exclusive : false };
    }
    const regex = boundedNumberRegex(bounds, fractionDigits);
    return regex === null ? null : regexLeaf(regex);
  }

  /** Integers that are multiples of m, where m divides 10^k (k ≤ 3), with at most a sign bound. */
  private integerMultipleRegex(multiple: number, low: bigint | null, high: bigint | null, analysis: Analysis): GrammarExpr | null {
    const pointer = analysis.multipleOf[0]?.pointer ?? '';
    let digits = 0;
    while (digits <= 3 && 10 ** digits % multiple !== 0) digits++;
    if (digits > 3) throw unsupported('multipleOf', pointer, `multipleOf ${multiple}`);
    if (high !== null || (low !== null && low > 1n)) throw unsupported('multipleOf', pointer, 'multipleOf together with numeric bounds');
    // below 10^k the multiples are listed; from 10^k on, the last k digits decide
    const modulus = 10 ** digits;
    const suffixes: string[] = [];
    const positive: string[] = [];
    for (let value = 0; value < modulus; value += multiple) {
      suffixes.push(String(value).padStart(digits, '0'));
      if (value > 0) positive.push(String(value));
    }
    positive.push(`[1-9][0-9]*(?:${suffixes.join('|')})`);
    const magnitude = `(?:${positive.join('|')})`;
    const allowZero = low === null || low <= 0n;
    const allowNegative = low === null || low < 0n;
    const options = [...(allowZero ? ['0'] : []), magnitude, ...(allowNegative ? [`-${magnitude}`] : [])];
    return regexLeaf(`(?:${options.join('|')})${this.index.draft >= 6 ? INTEGER_ZERO_FRACTION : ''}`);
  }

  private compileObject(analysis: Analysis): GrammarExpr | null {
    const parts = analysis.objectParts;
    const pointer = analysis.propertiesPointer ?? '';
    const names: string[] = [];
    for (const part of parts) for (const name of Object.keys(part.properties ?? {})) if (!names.includes(name)) names.push(name);
    for (const name of analysis.required) if (!names.includes(name)) names.push(name);
    // forbidden names are listed too, so that additional-property keys can never spell them
    for (const name of analysis.forbidden) if (!names.includes(name)) names.push(name);
    // names that presence conditions speak of are written as declared members so that they can be tracked
    const presence = analysis.presence;
    for (const check of presence) for (const name of check.names) if (!names.includes(name)) names.push(name);
    const patternParts = parts.filter((part) => part.patternProperties && Object.keys(part.patternProperties).length > 0);
    if (patternParts.length > 1) throw unsupported('patternProperties', `${patternParts[1].pointer}/patternProperties`, 'patternProperties in several merged subschemas');
    const patterns = patternParts.length === 0 ? [] : Object.entries(patternParts[0].patternProperties!).map(([source, schema]) => {
      const patternPointer = `${patternParts[0].pointer}/patternProperties/${escapePointerToken(source)}`;
      let test: RegExp;
      try {
        test = new RegExp(source, 'u');
      } catch {
        throw invalidSchema('patternProperties', patternPointer, 'not a valid regular expression');
      }
      return { source, schema, test, pointer: patternPointer };
    });
    // propertyNames
    const nameSchemas = parts.filter((part) => part.propertyNames !== undefined).map((part) => part.propertyNames);
    let nameExpr: GrammarExpr | null | undefined;
    if (nameSchemas.length > 0) {
      nameExpr = this.compileConjunction(this.conjunction([...nameSchemas, { type: 'string' }]));
    }
    const forbidden = new Set(analysis.forbidden);
    if (nameExpr !== undefined) {
      for (const name of names) if (nameExpr === null || !this.matcher.matches(nameExpr, JSON.stringify(name))) forbidden.add(name);
    }
    // declared members
    const members: Array<{ name: string; required: boolean; expr: GrammarExpr }> = [];
    for (const name of names) {
      const required = analysis.required.includes(name);
      if (forbidden.has(name)) {
        if (required) return null;
        continue;
      }
      const schemas: unknown[] = [];
      for (const part of parts) {
        let constrained = false;
        if (part.properties && Object.prototype.hasOwnProperty.call(part.properties, name)) {
          schemas.push(part.properties[name]);
          constrained = true;
        }
        if (part.patternProperties) {
          for (const pattern of patterns) {
            if (pattern.test.test(name)) {
              schemas.push(pattern.schema);
              constrained = true;
            }
          }
        }
        if (!constrained && part.additionalProperties !== undefined) schemas.push(part.additionalProperties);
      }
      const value = this.compileConjunction(this.conjunction(schemas));
      if (value === null) {
        if (required) return null;
        continue;
      }
      members.push({ name, required, expr: seq([literal(JSON.stringify(name)), this.colon(), value])! });
    }
    // additional members
    const extras: GrammarExpr[] = [];
    const patternPart = patternParts[0];
    const othersAdditional = parts.filter((part) => part !== patternPart).map((part) => part.additionalProperties).filter((schema) => schema !== undefined);
    const othersForbid = othersAdditional.includes(false);
    const keyNotDeclared = (): GrammarExpr => regexLeaf(`"${stringNotInRegex(names)}"`);
    const extraMember = (key: GrammarExpr, schemas: unknown[]): void => {
      const value = this.compileConjunction(this.conjunction(schemas));
      if (value !== null) extras.push(seq([key, this.colon(), value])!);
    };
    if (patternPart) {
      const allPatternSchemas = patterns.map((pattern) => pattern.schema);
      if (!othersForbid) {
        for (const pattern of patterns) {
          if (names.some((name) => pattern.test.test(name))) {
            throw unsupported('patternProperties', pattern.pointer, 'a declared property name matches the pattern');
          }
          const options = { keyword: 'patternProperties', pointer: pattern.pointer, maxRepeat: this.limits.maxRepeat };
          const key = regexLeaf(`"${emitEncodedRegex(patternToWholeMatch(parseSchemaRegex(pattern.source, options), options))}"`);
          extraMember(key, [...allPatternSchemas, ...othersAdditional]);
        }
        if (patternPart.additionalProperties !== false) {
          extraMember(keyNotDeclared(), [...allPatternSchemas, patternPart.additionalProperties, ...othersAdditional]);
        }
      }
    } else if (!othersForbid) {
      extraMember(keyNotDeclared(), othersAdditional);
    }
    if (nameExpr !== undefined && extras.length > 0) {
      if (names.length > 0 || patternPart) throw unsupported('propertyNames', pointer, 'propertyNames together with declared or pattern properties and additional properties');
      extras.length = 0;
      if (nameExpr !== null) extraMember(nameExpr, othersAdditional);
    }
    return this.objectChain(members, extras, analysis, presence);
  }

  /**
   * The members in schema order as a chain of rules over states (i, c, seen): member i next, c members
   * written so far (exact up to maxProperties, else saturating), and which dependency-tracked names were
   * written (presence conditions such as dependentRequired are checked at the end).
   */
  private objectChain(
    members: Array<{ name: string; required: boolean; expr: GrammarExpr }>,
    extras: GrammarExpr[],
    analysis: Analysis,
    presence: PresenceCheck[],
  ): GrammarExpr | null {
    const minimum = analysis.minProperties ?? 0;
    const maximum = analysis.maxProperties === undefined || analysis.maxProperties === Infinity ? null : analysis.maxProperties;
    if (maximum !== null && minimum > maximum) return null;
    const count = members.length;
    const cap = maximum === null ? Math.max(minimum, 1) : maximum;
    const tracked = [...new Set(presence.flatMap((check) => check.names))];
    if (tracked.length > 10) throw unsupported(presence[0].keyword, presence[0].pointer, 'more than 10 property names in presence conditions');
    const bit = (name: string): number => (tracked.indexOf(name) >= 0 ? 1 << tracked.indexOf(name) : 0);
    const satisfied = (seen: number): boolean => presence.every((check) => check.holds((name) => (seen & bit(name)) !== 0));
    if ((count + 1) * (cap + 1) * (1 << tracked.length) > this.limits.maxPropertyStates) {
      throw unsupported(maximum !== null ? 'maxProperties' : 'minProperties', analysis.propertiesPointer ?? '', 'too many property states');
    }
    const extra = alt(extras);
    const comma = this.comma();
    const ruleBase = `o${++this.chainCounter}`;
    const memo = new Map<string, GrammarExpr | null>();
    const state = (i: number, c: number, seen: number): GrammarExpr | null => {
      const key = `${i}_${c}_${seen}`;
      if (memo.has(key)) return memo.get(key)!;
      let expr: GrammarExpr | null;
      if (i === count) {
        const low = Math.max(0, minimum - c);
        const high = maximum === null ? null : maximum - c;
        if (!satisfied(seen)) expr = null;
        else if (extra === null || high === 0) expr = low === 0 ? EMPTY : null;
        else if (low > 0) {
          // Extra keys cannot be told apart from a repeated key, and a repeated key counts once once
          // parsed: counting them towards minProperties would be unsound.
          throw unsupported('minProperties', analysis.propertiesPointer ?? '', 'reaching minProperties needs additional properties (a repeated key would count once)');
        } else {
          if (high !== null && high > this.limits.maxRepeat) throw unsupported('maxProperties', analysis.propertiesPointer ?? '', 'above the repetition limit');
          if (low > this.limits.maxRepeat) throw unsupported('minProperties', analysis.propertiesPointer ?? '', 'above the repetition limit');
          const more = (min: number, max: number | null): GrammarExpr => (max === 0 ? EMPTY : { type: 'repeat', item: seq([comma, extra])!, min, max });
          expr = c > 0 ? more(0, high) : alt([EMPTY, seq([extra, more(0, high === null ? null : high - 1)])]);
        }
      } else {
        const member = members[i];
        const next = maximum === null ? Math.min(c + 1, cap) : c + 1;
        const options: Array<GrammarExpr | null> = [];
        if (maximum === null || c + 1 <= maximum) {
          const rest = state(i + 1, next, seen | bit(member.name));
          if (rest !== null) options.push(seq([c > 0 ? comma : EMPTY, member.expr, rest]));
        }
        if (!member.required) options.push(state(i + 1, c, seen));
        expr = alt(options);
      }
      // named rules keep the chain linear in size (each state is written once)
      if (expr !== null && !(expr.type === 'literal' || (expr.type === 'seq' && expr.items.length === 0))) {
        const name = `${ruleBase}_${key}`;
        this.helperRules.add(name);
        this.rules.set(name, expr);
        expr = { type: 'ref', name };
      }
      memo.set(key, expr);
      return expr;
    };
    return this.bracket('{', state(0, 0, 0), '}');
  }

  private compileArray(analysis: Analysis): GrammarExpr | null {
    const parts = analysis.arrayParts;
    const pointer = analysis.itemsPointer ?? '';
    const prefixLength = Math.max(0, ...parts.map((part) => part.prefix.length));
    const minimum = analysis.minItems ?? 0;
    const maximum = analysis.maxItems === undefined || analysis.maxItems === Infinity ? null : analysis.maxItems;
    if (maximum !== null && minimum > maximum) return null;
    if (analysis.uniqueItems !== undefined && (maximum === null || maximum > 1)) throw unsupported('uniqueItems', analysis.uniqueItems);
    const positions: Array<GrammarExpr | null> = [];
    for (let i = 0; i < prefixLength && (maximum === null || i < maximum); i++) {
      positions.push(this.compileConjunction(this.conjunction(parts.map((part) => (i < part.prefix.length ? part.prefix[i] : part.rest)))));
    }
    const rest = this.compileConjunction(this.conjunction(parts.map((part) => part.rest)));
    const comma = this.comma();
    const tail = (): GrammarExpr | null => {
      const start = prefixLength;
      const low = Math.max(0, minimum - start);
      const high = maximum === null ? null : maximum - start;
      if (high !== null && high < low) return null;
      if (rest === null || high === 0) return low === 0 ? EMPTY : null;
      if ((high !== null && high > this.limits.maxRepeat) || low > this.limits.maxRepeat) throw unsupported(high !== null && high > this.limits.maxRepeat ? 'maxItems' : 'minItems', pointer, 'above the repetition limit');
      const more = (min: number, max: number | null): GrammarExpr => (max === 0 ? EMPTY : { type: 'repeat', item: seq([comma, rest])!, min, max });
      if (start > 0) return more(low, high);
      if (low === 0) return alt([EMPTY, seq([rest, more(0, high === null ? null : high - 1)])]);
      return seq([rest, more(low - 1, high === null ? null : high - 1)]);
    };
    let body: GrammarExpr | null = positions.length === prefixLength ? tail() : minimum <= positions.length ? EMPTY : null;
    for (let i = Math.min(prefixLength, positions.length) - 1; i >= 0; i--) {
      const take = positions[i] === null ? null : seq([i > 0 ? comma : EMPTY, positions[i], body]);
      body = alt([i >= minimum ? EMPTY : null, take]);
    }
    return this.bracket('[', body, ']');
  }

  // ---------------------------------------------------------------- finishing

  /** Inlines rules used once (and not recursive through themselves) and drops unreachable ones. */
  finish(start: string): Grammar {
    const references = (expr: GrammarExpr, into: string[]): void => {
      switch (expr.type) {
        case 'ref': into.push(expr.name); break;
        case 'seq': expr.items.forEach((item) => references(item, into)); break;
        case 'alt': expr.options.forEach((option) => references(option, into)); break;
        case 'repeat': references(expr.item, into); break;
        default: break;
      }
    };
    // reachable set
    const reachable = new Set<string>([start]);
    const queue = [start];
    while (queue.length > 0) {
      const name = queue.pop()!;
      const names: string[] = [];
      references(this.rules.get(name)!, names);
      for (const next of names) if (!reachable.has(next)) {
        reachable.add(next);
        queue.push(next);
      }
    }
    const counts = new Map<string, number>();
    for (const name of reachable) {
      const names: string[] = [];
      references(this.rules.get(name)!, names);
      for (const next of names) counts.set(next, (counts.get(next) ?? 0) + 1);
    }
    const inlinable = (name: string): boolean => {
      if (name === start) return false;
      if ((counts.get(name) ?? 0) !== 1) {
        const body = this.rules.get(name)!;
        return body.type === 'literal' || body.type === 'regex';
      }
      const names: string[] = [];
      references(this.rules.get(name)!, names);
      return !names.includes(name);
    };
    const resolved = new Map<string, GrammarExpr>();
    const inline = (expr: GrammarExpr, stack: Set<string>): GrammarExpr => {
      switch (expr.type) {
        case 'ref': {
          if (!inlinable(expr.name) || stack.has(expr.name)) return expr;
          stack.add(expr.name);
          const body = inline(this.rules.get(expr.name)!, stack);
          stack.delete(expr.name);
          return body;
        }
        case 'seq': return seq(expr.items.map((item) => inline(item, stack))) ?? expr;
        case 'alt': return { type: 'alt', options: expr.options.map((option) => inline(option, stack)) };
        case 'repeat': return { ...expr, item: inline(expr.item, stack) };
        default: return expr;
      }
    };
    for (const name of reachable) {
      if (name !== start && inlinable(name)) continue;
      resolved.set(name, inline(this.rules.get(name)!, new Set([name])));
    }
    // keep only rules still referenced
    const kept = new Map<string, GrammarExpr>();
    const keepQueue = [start];
    while (keepQueue.length > 0) {
      const name = keepQueue.pop()!;
      if (kept.has(name)) continue;
      const body = resolved.get(name) ?? this.rules.get(name)!;
      kept.set(name, body);
      const names: string[] = [];
      references(body, names);
      keepQueue.push(...names);
    }
    return { start, rules: kept };
  }
}

/**
 * Compiles a JSON Schema into the Grammar IR (pure: no vocabulary, no engine).
 * Throws GatewayError `constraint_unsupported` (keyword + pointer) or `constraint_invalid`.
 */
export function jsonSchemaToGrammar(schema: unknown, options: JsonSchemaGrammarOptions = {}): Grammar {
  const limits: JsonSchemaLimits = { ...DEFAULT_JSON_SCHEMA_LIMITS, ...(options.limits ?? {}) };
  if (schema !== true && schema !== false && (schema === null || typeof schema !== 'object' || Array.isArray(schema))) {
    throw new GatewayError('constraint_invalid', 'a JSON Schema must be an object or a boolean', { details: { keyword: 'schema', pointer: '' } });
  }
  const index = new SchemaIndex(schema, { maxNodes: limits.maxSchemaNodes, maxDepth: limits.maxSchemaDepth });
  const builder = new SchemaGrammarBuilder(index, options.whitespace ?? 'compact', limits);
  const body = builder.compile(schema);
  builder.rules.set('root', body ?? { type: 'alt', options: [] });
  return builder.finish('root');
}
