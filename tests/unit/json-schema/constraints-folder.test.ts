/**
 * Every reusable schema in constraints/ compiles (the gateway resolves `{"type":"json_schema","ref":NAME}`
 * to constraints/NAME.schema.json) and accepts a typical instance.
 */
import fs from 'node:fs';
import path from 'node:path';
import { GrammarMatcher, jsonSchemaToGrammar } from '../../../src/decoding/json-schema';

const FOLDER = path.resolve(__dirname, '../../../constraints');
const EXAMPLES: Record<string, unknown> = {
  'invoice.schema.json': {
    invoice_number: 'INV-1042',
    issue_date: '2024-02-29',
    currency: 'EUR',
    seller: { name: 'ACME GmbH', vat_id: 'DE123456789' },
    buyer: { name: 'Jane Doe', email: 'jane@example.org' },
    lines: [{ description: 'Widget', quantity: 3, unit_price: 19.99 }],
    total: 59.97,
  },
  'ticket.schema.json': { category: 'billing', priority: 'high', summary: 'Charged twice', customer_email: null, needs_human: true, tags: ['refund'] },
};

describe('constraints/ schemas', () => {
  const files = fs.readdirSync(FOLDER).filter((name) => name.endsWith('.schema.json'));
  test('there are schemas, each with an example here', () => {
    expect(files.sort()).toEqual(Object.keys(EXAMPLES).sort());
  });
  test.each(files)('%s compiles and accepts its example (compact and Python layouts)', (file) => {
    const schema = JSON.parse(fs.readFileSync(path.join(FOLDER, file), 'utf8')) as unknown;
    const example = EXAMPLES[file];
    const compact = GrammarMatcher.forGrammar(jsonSchemaToGrammar(schema));
    expect(compact.matches(JSON.stringify(example))).toBe(true);
    const python = GrammarMatcher.forGrammar(jsonSchemaToGrammar(schema, { whitespace: 'python' }));
    expect(python.matches(JSON.stringify(example, null, 1).replace(/\n */g, ' ').replace(/\[ /g, '[').replace(/ \]/g, ']').replace(/\{ /g, '{').replace(/ \}/g, '}'))).toBe(true);
    expect(compact.matches(JSON.stringify({ ...(example as object), unexpected: 1 }))).toBe(false);
  });
});
