/**
 * jsonSchemaToGrammar, checked with the character-level reference matcher: golden cases
 * (schema, accept[], reject[]) per keyword, the Python layout MaskBench uses, and the fail-closed
 * errors (keyword + JSON pointer).
 */
import { GrammarMatcher, jsonSchemaToGrammar } from '../../../src/decoding/json-schema';
import { GatewayError } from '../../../src/errors/gateway-error';

interface Case {
  name: string;
  schema: unknown;
  accept: string[];
  reject: string[];
  whitespace?: 'compact' | 'python' | 'flexible';
}

const CASES: Case[] = [
  { name: 'true accepts any JSON', schema: true, accept: ['1', '"x"', '{"a":[1,{"b":null}]}', '[]', '{}'], reject: ['', '{', 'nul', "'x'"] },
  { name: 'false accepts nothing', schema: false, accept: [], reject: ['1', 'null', '{}'] },
  { name: 'type list', schema: { type: ['string', 'null'] }, accept: ['"a"', 'null'], reject: ['1', 'true', '{}'] },
  { name: 'boolean', schema: { type: 'boolean' }, accept: ['true', 'false'], reject: ['"true"', '1'] },
  {
    name: 'integer ranges are exact',
    schema: { type: 'integer', minimum: -15, maximum: 120 },
    accept: ['-15', '-9', '0', '9', '10', '99', '100', '120'],
    // '7.0' is an integer (draft 6+), but generation writes integers without a fraction (INTEGER_ZERO_FRACTION)
    reject: ['-16', '121', '1000', '-0.5', '01', '1e2', '7.5', '7.0'],
  },
  { name: 'exclusive integer bounds', schema: { type: 'integer', exclusiveMinimum: 0, exclusiveMaximum: 10 }, accept: ['1', '9'], reject: ['0', '10', '-1'] },
  { name: 'draft-04 exclusive flags', schema: { $schema: 'http://json-schema.org/draft-04/schema#', type: 'integer', minimum: 0, exclusiveMinimum: true }, accept: ['1', '25'], reject: ['0', '-3', '1.0'] },
  {
    name: 'number bounds (integer-valued)',
    schema: { type: 'number', minimum: 0, maximum: 1 },
    accept: ['0', '0.5', '1', '1.0', '0.999', '1.000'],
    reject: ['-0.1', '1.01', '2', '-1'],
  },
  { name: 'exclusive number bounds', schema: { type: 'number', exclusiveMinimum: 0, exclusiveMaximum: 2 }, accept: ['0.1', '1', '1.99'], reject: ['0', '0.0', '2', '2.0', '-1'] },
  { name: 'negative number range', schema: { type: 'number', minimum: -5, maximum: -1 }, accept: ['-5', '-1', '-1.0', '-4.5'], reject: ['-5.5', '-0.5', '0', '1'] },
  { name: 'non-integer bounds round inwards', schema: { type: 'number', minimum: 0.5, maximum: 2.5 }, accept: ['1', '2', '1.75'], reject: ['0.4', '2.6', '3'] },
  { name: 'multipleOf 5', schema: { type: 'integer', multipleOf: 5 }, accept: ['0', '5', '-15', '100', '1235'], reject: ['1', '12', '-3'] },
  { name: 'multipleOf 0.01', schema: { type: 'number', multipleOf: 0.01 }, accept: ['1', '1.5', '1.25', '-0.01'], reject: ['1.255', '0.001'] },
  { name: 'unbounded number', schema: { type: 'number' }, accept: ['0', '-1.5', '1e-05', '2.5E+10'], reject: ['01', '.5', '1.', '+1', 'NaN'] },
  {
    name: 'string length counts code points and escapes as one',
    schema: { type: 'string', minLength: 2, maxLength: 3 },
    accept: ['"ab"', '"abc"', '"a\\n"', '"é😀"', '"\\"\\\\"'],
    reject: ['"a"', '"abcd"', '"\\u0041b"', '"a\nb"'],
  },
  { name: 'anchored pattern', schema: { type: 'string', pattern: '^[a-z]{2}-[0-9]+$' }, accept: ['"ab-1"', '"zz-123"'], reject: ['"ab-"', '"xab-1"', '"ab-1x"', '"AB-1"'] },
  { name: 'unanchored pattern is a search', schema: { type: 'string', pattern: 'foo' }, accept: ['"foo"', '"xfooy"', '"a\\"foo"'], reject: ['"fo"', '"f\\noo"'] },
  { name: 'pattern characters are JSON-escaped', schema: { type: 'string', pattern: '^a"b\\\\c\\n$' }, accept: ['"a\\"b\\\\c\\n"', '"a\\"b\\\\c\\u000a"'], reject: ['"a"b\\c"', '"a\\"b\\\\cn"'] },
  { name: 'pattern with length bounds on a single repeat', schema: { type: 'string', pattern: '^[A-Z][a-z]+$', maxLength: 4 }, accept: ['"Ab"', '"Abcd"'], reject: ['"Abcde"', '"A"'] },
  { name: 'pattern alternatives', schema: { type: 'string', pattern: '^(red|green)$|^blue' }, accept: ['"red"', '"green"', '"blue"', '"bluex"'], reject: ['"redx"', '"xblue"'] },
  { name: 'format date', schema: { type: 'string', format: 'date' }, accept: ['"2024-02-29"', '"2023-12-31"', '"2000-02-29"'], reject: ['"2023-02-29"', '"1900-02-29"', '"2023-04-31"', '"2023-1-01"'] },
  { name: 'format date-time', schema: { format: 'date-time' }, accept: ['"2024-01-02T03:04:05Z"', '"2024-01-02t03:04:05.123+05:30"', '1'], reject: ['"2024-01-02T24:00:00Z"', '"2024-01-02T03:04:05"'] },
  { name: 'format uuid', schema: { type: 'string', format: 'uuid' }, accept: ['"123e4567-e89b-12d3-a456-426614174000"', '"123E4567-E89B-12D3-A456-426614174000"'], reject: ['"123e4567e89b12d3a456426614174000"'] },
  { name: 'format ipv4', schema: { type: 'string', format: 'ipv4' }, accept: ['"192.168.0.1"', '"0.0.0.0"'], reject: ['"256.1.1.1"', '"1.2.3"', '"01.2.3.4"'] },
  { name: 'format email', schema: { type: 'string', format: 'email' }, accept: ['"a.b@example.com"', '"X@Y.io"'], reject: ['"a@b"', '"@x.com"', '"a@-x.com"'] },
  { name: 'format duration', schema: { type: 'string', format: 'duration' }, accept: ['"P1D"', '"PT1H30M"', '"P2W"', '"P1Y2M3DT4H"'], reject: ['"P"', '"PT"', '"P1DT"', '"1D"'] },
  { name: 'unknown vendor format is an annotation', schema: { type: 'string', format: 'x-company-id' }, accept: ['"anything"'], reject: ['1'] },
  { name: 'enum filtered by siblings', schema: { type: 'string', enum: ['a', 1, null, 'bb'], maxLength: 1 }, accept: ['"a"'], reject: ['"bb"', '1', 'null'] },
  { name: 'const object', schema: { const: { a: [1, 'x'] } }, accept: ['{"a":[1,"x"]}'], reject: ['{"a":[1]}', '{ "a":[1,"x"]}'] },
  {
    name: 'properties in schema order, optional ones skippable, additional allowed by default',
    schema: { type: 'object', properties: { a: { type: 'integer' }, b: { type: 'string' }, c: { type: 'boolean' } }, required: ['b'] },
    accept: ['{"b":"x"}', '{"a":1,"b":"x"}', '{"a":1,"b":"x","c":true}', '{"b":"x","c":false,"zz":[1]}'],
    reject: ['{}', '{"a":1}', '{"b":1}', '{"b":"x","a":1}', '{"b":"x","b":"y"}', '{"b":"x","zz":1,"c":true}', '{"b":"x","a":1,"zz":1}'],
  },
  {
    name: 'additionalProperties false and schema',
    schema: { type: 'object', properties: { a: { type: 'integer' } }, additionalProperties: { type: 'string' } },
    accept: ['{}', '{"a":1}', '{"a":1,"x":"y"}', '{"ab":"y","b":"z"}'],
    reject: ['{"x":1}', '{"a":"s"}'],
  },
  { name: 'closed object', schema: { type: 'object', properties: { a: { type: 'null' } }, additionalProperties: false }, accept: ['{}', '{"a":null}'], reject: ['{"b":null}', '{"a":null,"b":1}'] },
  {
    name: 'patternProperties with additionalProperties false',
    schema: { type: 'object', patternProperties: { '^x-': { type: 'integer' } }, additionalProperties: false },
    accept: ['{}', '{"x-a":1}', '{"x-a":1,"x-b":2}'],
    reject: ['{"y":1}', '{"x-a":"s"}'],
  },
  {
    name: 'propertyNames',
    schema: { type: 'object', propertyNames: { pattern: '^[a-z]+$' }, additionalProperties: { type: 'integer' } },
    accept: ['{}', '{"ab":1,"c":2}'],
    reject: ['{"A":1}', '{"ab":"x"}'],
  },
  {
    name: 'min/maxProperties',
    schema: { type: 'object', properties: { a: {}, b: {}, c: {} }, additionalProperties: false, minProperties: 1, maxProperties: 2 },
    accept: ['{"a":1}', '{"b":1,"c":2}', '{"a":1,"c":2}'],
    reject: ['{}', '{"a":1,"b":2,"c":3}'],
  },
  {
    name: 'required name not in properties uses additionalProperties',
    schema: { type: 'object', required: ['id'], additionalProperties: { type: 'integer' } },
    accept: ['{"id":1}', '{"id":1,"x":2}'],
    reject: ['{}', '{"id":"a"}', '{"x":2}'],
  },
  {
    name: 'dependentRequired, trigger before and after its dependency',
    schema: { type: 'object', properties: { b: {}, a: {}, c: {} }, dependentRequired: { a: ['b'], c: ['a'] }, additionalProperties: false },
    accept: ['{}', '{"b":1}', '{"b":1,"a":2}', '{"b":1,"a":2,"c":3}'],
    reject: ['{"a":2}', '{"c":3}', '{"b":1,"c":3}'],
  },
  {
    name: 'draft-07 dependencies (array form) with names not in properties',
    schema: { $schema: 'http://json-schema.org/draft-07/schema#', type: 'object', dependencies: { card: ['billing'] } },
    accept: ['{}', '{"billing":1}', '{"card":1,"billing":2}', '{"x":1}'],
    reject: ['{"card":1}', '{"card":1,"x":2}'],
  },
  { name: 'array items with min/max', schema: { type: 'array', items: { type: 'integer' }, minItems: 1, maxItems: 3 }, accept: ['[1]', '[1,2,3]'], reject: ['[]', '[1,2,3,4]', '["a"]', '[1,]'] },
  {
    name: 'prefixItems then items',
    schema: { type: 'array', prefixItems: [{ type: 'string' }, { type: 'integer' }], items: { type: 'boolean' } },
    accept: ['[]', '["a"]', '["a",1]', '["a",1,true,false]'],
    reject: ['[1]', '["a","b"]', '["a",1,2]'],
  },
  {
    name: 'draft-07 array items and additionalItems',
    schema: { $schema: 'http://json-schema.org/draft-07/schema#', type: 'array', items: [{ type: 'string' }], additionalItems: false },
    accept: ['[]', '["a"]'],
    reject: ['["a",1]', '[1]'],
  },
  {
    name: 'allOf merges object parts (additionalProperties sees only its own properties)',
    schema: { allOf: [{ type: 'object', properties: { a: { type: 'integer' } }, additionalProperties: false }, { properties: { a: { minimum: 2 }, b: {} } }] },
    accept: ['{}', '{"a":2}'],
    reject: ['{"a":1}', '{"b":1}', '{"a":2,"b":1}'],
  },
  { name: 'anyOf', schema: { anyOf: [{ type: 'integer', maximum: 3 }, { type: 'string' }] }, accept: ['1', '"x"'], reject: ['4', 'null'] },
  { name: 'oneOf with disjoint types', schema: { oneOf: [{ type: 'integer' }, { type: 'string' }] }, accept: ['1', '"x"'], reject: ['null'] },
  {
    name: 'oneOf with a const discriminator',
    schema: {
      oneOf: [
        { type: 'object', properties: { kind: { const: 'a' }, x: { type: 'integer' } }, required: ['kind'] },
        { type: 'object', properties: { kind: { const: 'b' }, y: { type: 'string' } }, required: ['kind'] },
      ],
    },
    accept: ['{"kind":"a","x":1}', '{"kind":"b","y":"s"}'],
    reject: ['{"kind":"c"}', '{"kind":"a","x":"s"}'],
  },
  {
    name: '$ref recursion through $defs',
    schema: { $defs: { node: { type: 'object', properties: { value: { type: 'integer' }, next: { $ref: '#/$defs/node' } }, additionalProperties: false } }, $ref: '#/$defs/node' },
    accept: ['{}', '{"value":1,"next":{"next":{"value":2}}}'],
    reject: ['{"next":{"value":"x"}}', '{"other":1}'],
  },
  {
    name: 'draft-07 $ref ignores siblings; definitions; $id-relative',
    schema: { $schema: 'http://json-schema.org/draft-07/schema#', $id: 'http://example.com/root.json', definitions: { a: { $id: 'item.json', type: 'integer' } }, properties: { x: { $ref: 'item.json', type: 'string' } } },
    accept: ['{"x":1}'],
    reject: ['{"x":"s"}'],
  },
  { name: '$anchor', schema: { $defs: { a: { $anchor: 'num', type: 'number' } }, items: { $ref: '#num' }, type: 'array' }, accept: ['[1,2.5]'], reject: ['["a"]'] },
  { name: 'not type', schema: { not: { type: ['string', 'object', 'array', 'boolean', 'number'] } }, accept: ['null'], reject: ['1', '"a"', '{}'] },
  { name: 'not enum of strings', schema: { type: 'string', not: { enum: ['a', 'bc'] } }, accept: ['"b"', '"abc"', '"bcd"', '""'], reject: ['"a"', '"bc"'] },
  { name: 'not required', schema: { type: 'object', properties: { a: {}, b: {} }, not: { required: ['b'] } }, accept: ['{}', '{"a":1}'], reject: ['{"b":1}', '{"a":1,"b":2}'] },
  { name: 'not integer over numbers', schema: { type: 'number', not: { type: 'integer' } }, accept: ['1.5', '-0.25'], reject: ['1', '2.0', '-3', '"x"'] },
  { name: 'not enum over integers', schema: { type: 'integer', minimum: 0, maximum: 10, not: { enum: [0, 5, 10, 99, 'x'] } }, accept: ['1', '4', '6', '9'], reject: ['0', '5', '10', '11', '-1'] },
  { name: 'not const integer, unbounded', schema: { type: 'integer', not: { const: 3 } }, accept: ['-7', '2', '4', '100'], reject: ['3', '3.0'] },
  { name: 'not required rejects non-objects (required holds vacuously for them)', schema: { not: { required: ['a'] } }, accept: ['{}', '{"b":1}'], reject: ['{"a":1}', '1', '"a"', 'null', '[]'] },
  { name: 'not required with several names', schema: { type: 'object', not: { required: ['a', 'b'] } }, accept: ['{}', '{"a":1}', '{"b":1}'], reject: ['{"a":1,"b":2}'] },
  {
    name: 'oneOf of required lists (exactly one set present)',
    schema: { type: 'object', properties: { r: {}, l: {}, w: {} }, oneOf: [{ required: ['r'] }, { required: ['l', 'w'] }] },
    accept: ['{"r":1}', '{"l":1,"w":2}', '{"r":1,"l":2}'],
    reject: ['{}', '{"l":1}', '{"r":1,"l":2,"w":3}'],
  },
  { name: 'oneOf of required lists rejects non-objects', schema: { oneOf: [{ required: ['a'] }, { required: ['b'] }] }, accept: ['{"a":1}'], reject: ['1', '{"a":1,"b":2}'] },
  { name: 'anyOf of required lists', schema: { anyOf: [{ required: ['a'] }, { required: ['b'] }] }, accept: ['{"a":1}', '{"a":1,"b":2}', '"x"'], reject: ['{}', '{"c":1}'] },
  { name: 'not not', schema: { not: { not: { type: 'integer' } } }, accept: ['1'], reject: ['"a"'] },
  { name: 'annotations and unknown keywords are ignored', schema: { type: 'integer', title: 't', description: 'd', examples: [1], default: 2, 'x-vendor': { type: 'string' } }, accept: ['1'], reject: ['"a"'] },
  {
    name: 'python layout',
    whitespace: 'python',
    schema: { type: 'object', properties: { a: { type: 'array', items: { type: 'integer' } }, b: { enum: [{ k: 1 }] } } },
    accept: ['{"a": [1, 2], "b": {"k": 1}}', '{}', '{"a": []}'],
    reject: ['{"a":[1,2]}', '{"a": [1,2]}'],
  },
  {
    name: 'flexible layout is bounded',
    whitespace: 'flexible',
    schema: { type: 'object', properties: { a: { type: 'integer' } } },
    accept: ['{"a":1}', '{ "a" : 1 }', '{\n  "a": 1\n}'],
    reject: [`{${' '.repeat(20)}"a":1}`],
  },
];

describe('jsonSchemaToGrammar', () => {
  test.each(CASES.map((item) => [item.name, item] as const))('%s', (_name, item) => {
    const matcher = GrammarMatcher.forGrammar(jsonSchemaToGrammar(item.schema, { whitespace: item.whitespace ?? 'compact' }));
    const wronglyRejected = item.accept.filter((text) => !matcher.matches(text));
    const wronglyAccepted = item.reject.filter((text) => matcher.matches(text));
    expect({ wronglyRejected, wronglyAccepted }).toEqual({ wronglyRejected: [], wronglyAccepted: [] });
  });

  const UNSUPPORTED: Array<[string, unknown, string, string]> = [
    ['oneOf that is not provably exclusive', { oneOf: [{ type: 'integer' }, { minimum: 3 }] }, 'oneOf', '/oneOf'],
    ['uniqueItems', { type: 'array', items: { type: 'string' }, uniqueItems: true }, 'uniqueItems', '/uniqueItems'],
    ['contains', { properties: { list: { contains: { const: 1 } } } }, 'contains', '/properties/list/contains'],
    ['minProperties reached only through additional keys (a repeated key counts once)', { type: 'object', minProperties: 1 }, 'minProperties', ''],
    ['if/then', { if: { type: 'string' }, then: { maxLength: 2 } }, 'if', '/if'],
    ['remote $ref', { $ref: 'http://example.com/other.json' }, '$ref', '/$ref'],
    ['schema dependencies', { dependentSchemas: { a: { required: ['b'] } } }, 'dependentSchemas', '/dependentSchemas/a'],
    ['backreference in a pattern', { type: 'string', pattern: '(a)\\1' }, 'pattern', '/pattern'],
    ['lookahead in a pattern', { type: 'string', pattern: '^(?=a)' }, 'pattern', '/pattern'],
    ['two patterns on one string', { allOf: [{ pattern: 'a' }, { pattern: 'b' }] }, 'pattern', '/allOf/1/pattern'],
    ['a format ajv asserts but the grammar does not', { type: 'string', format: 'uri-reference' }, 'format', '/format'],
    ['not over an arbitrary schema', { not: { minimum: 3 } }, 'not', '/not'],
  ];
  test.each(UNSUPPORTED)('fails closed: %s', (_name, schema, keyword, pointer) => {
    let caught: unknown;
    try {
      jsonSchemaToGrammar(schema);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(GatewayError);
    expect((caught as GatewayError).code).toBe('constraint_unsupported');
    expect((caught as GatewayError).details).toEqual({ keyword, pointer });
  });

  test('a deeply nested schema is bounded, not a stack overflow', () => {
    let schema: Record<string, unknown> = { type: 'integer' };
    for (let depth = 0; depth < 500; depth++) schema = { type: 'object', properties: { a: schema } };
    expect(() => jsonSchemaToGrammar(schema)).toThrow(expect.objectContaining({ code: 'constraint_unsupported' }));
  });

  test('many optional properties grow the grammar linearly, not exponentially', () => {
    const properties: Record<string, unknown> = {};
    for (let index = 0; index < 60; index++) properties[`p${index}`] = { type: 'integer' };
    const grammar = jsonSchemaToGrammar({ type: 'object', properties, additionalProperties: false });
    expect(grammar.rules.size).toBeLessThan(200);
    const matcher = GrammarMatcher.forGrammar(grammar);
    expect(matcher.matches('{"p3":1,"p59":2}')).toBe(true);
    expect(matcher.matches('{"p59":2,"p3":1}')).toBe(false);
  });
});
