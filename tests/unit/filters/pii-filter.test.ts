import { createPiiFilter } from '../../../src/safety/filters/pii-filter';
import { ibanValid, luhnValid } from '../../../src/safety/filters/checksums';

const filter = createPiiFilter({ hashKey: 'test-key' });

function found(text: string, entity?: string): string[] {
  return filter
    .scan(text, entity ? { entities: [entity] } : {})
    .map((match) => `${match.entity}:${text.slice(match.start, match.end)}`);
}

describe('pii filter: positives', () => {
  test.each([
    ['Write to jane.doe@example.org today', 'email:jane.doe@example.org'],
    ['mail A.B+tag@mail.co.uk.', 'email:A.B+tag@mail.co.uk'],
    ['call +1 (415) 555-2671 now', 'phone:+1 (415) 555-2671'],
    ['call +14155552671', 'phone:+14155552671'],
    ['ring +44 20 7946 0958', 'phone:+44 20 7946 0958'],
    ['US 415-555-2671.', 'phone:415-555-2671'],
    ['US (415) 555-2671', 'phone:(415) 555-2671'],
    ['US 415.555.2671', 'phone:415.555.2671'],
    ['toll free 1-800-555-0199', 'phone:1-800-555-0199'],
    ['London 020 7946 0958', 'phone:020 7946 0958'],
    ['Paris 01 23 45 67 89', 'phone:01 23 45 67 89'],
    ['Berlin 030 1234567', 'phone:030 1234567'],
    ['mobile 07700900123', 'phone:07700900123'],
    ['visa 4111 1111 1111 1111', 'payment_card:4111 1111 1111 1111'],
    ['visa 4111111111111111', 'payment_card:4111111111111111'],
    ['amex 3782 822463 10005', 'payment_card:3782 822463 10005'],
    ['mc 5555-5555-5555-4444', 'payment_card:5555-5555-5555-4444'],
    ['IBAN DE89 3704 0044 0532 0130 00 please', 'iban:DE89 3704 0044 0532 0130 00'],
    ['IBAN GB82WEST12345698765432', 'iban:GB82WEST12345698765432'],
    ['FR1420041010050500013M02606', 'iban:FR1420041010050500013M02606'],
    ['SSN 123-45-6789', 'ssn:123-45-6789'],
    ['host 192.168.1.20 is up', 'ip_address:192.168.1.20'],
    ['host 2001:db8::8a2e:370:7334', 'ip_address:2001:db8::8a2e:370:7334'],
    ['full 2001:0db8:85a3:0000:0000:8a2e:0370:7334.', 'ip_address:2001:0db8:85a3:0000:0000:8a2e:0370:7334'],
  ])('%s', (text, expected) => {
    expect(found(text)).toEqual([expected]);
  });
});

describe('pii filter: hard negatives', () => {
  test.each([
    ['card-shaped but fails Luhn', 'order 4111 1111 1111 1112'],
    ['card-shaped 16 digits failing Luhn', 'ref 1234567812345678'],
    ['IBAN with a bad checksum', 'IBAN DE89 3704 0044 0532 0130 01'],
    ['IBAN with a wrong length', 'GB82WEST1234569876543'],
    ['room number', 'meet in room 1204 at 3'],
    ['version string', 'upgrade to version 2.10.3 or v1.2.3.4'],
    ['dotted date', 'born 15.01.2024'],
    ['ISO date and time', 'released 2024-01-15 at 10:30:00'],
    ['US date', 'due 01/15/2024'],
    ['ISBN-13', 'ISBN 978-0-306-40615-7'],
    ['ISBN-10', 'ISBN 0-306-40615-2'],
    ['bare order number', 'order 1234567890 shipped'],
    ['invalid SSN area', 'id 000-12-3456 and 666-12-3456 and 900-12-3456'],
    ['SSN-shaped with zero group', '123-00-4567'],
    ['C++ scope', 'use std::map and a::b::c'],
    ['clock time', 'at 10:30:45'],
    ['octets out of range', 'value 256.1.1.1'],
    ['not an email', 'user@localhost and @handle and a@b'],
    ['all same digit', '0000 0000 0000 0000'],
    ['price and quantity', 'costs $1,299.99 for 3 units'],
    ['long digit string', '123456789012345678901234567890'],
  ])('%s', (_name, text) => {
    expect(found(text)).toEqual([]);
  });
});

describe('pii filter: redaction and results', () => {
  test('token redaction replaces each value', async () => {
    const results = await filter.check('Write to jane@example.org or +14155552671', {
      role: 'assistant', params: {}, signal: new AbortController().signal,
    });
    const email = results.find((result) => result.subCheck === 'email');
    expect(email?.score).toBe(1);
    expect(email?.replacements).toEqual([{ start: 9, end: 25, text: '[EMAIL]' }]);
    expect(results.find((result) => result.subCheck === 'phone')?.replacements?.[0].text).toBe('[PHONE]');
  });

  test('hash redaction is stable per value and differs between values', () => {
    const scan = (text: string) => filter.scan(text, { redaction: 'hash' }).map((match) => match.replacement);
    const [first, second, third] = scan('a@example.org b@example.org a@example.org');
    expect(first).toMatch(/^\[EMAIL:[0-9a-f]{8}\]$/);
    expect(third).toBe(first);
    expect(second).not.toBe(first);
    const otherKey = createPiiFilter({ hashKey: 'another-key' }).scan('a@example.org', { redaction: 'hash' })[0].replacement;
    expect(otherKey).not.toBe(first);
  });

  test('entities restrict what is looked for', () => {
    expect(found('jane@example.org 415-555-2671', 'phone')).toEqual(['phone:415-555-2671']);
  });

  test('nothing found gives one passing result', async () => {
    const results = await filter.detect('hello world', { role: 'user', params: {}, signal: new AbortController().signal });
    expect(results).toEqual([{ score: 0, explanation: 'pii: nothing found' }]);
  });
});

describe('checksums', () => {
  test('luhn', () => {
    expect(luhnValid('79927398713')).toBe(true);
    expect(luhnValid('79927398710')).toBe(false);
  });
  test('iban', () => {
    expect(ibanValid('NL91ABNA0417164300')).toBe(true);
    expect(ibanValid('NL91ABNA0417164301')).toBe(false);
  });
});

describe('pii filter: adjacent values', () => {
  test('a phone followed by a card: both found', () => {
    expect(found('+44 20 7946 0958 4111 1111 1111 1111 Hello')).toEqual(['phone:+44 20 7946 0958', 'payment_card:4111 1111 1111 1111']);
    expect(found('020 7946 0958 4111 1111 1111 1111')).toEqual(['phone:020 7946 0958', 'payment_card:4111 1111 1111 1111']);
  });
  test('a phone glued by hyphens to more digits is one token, never split', () => {
    expect(found('+44 20 7946 0958 123-45-6789')).toEqual(['phone:+44 20 7946 0958', 'ssn:123-45-6789']);
    expect(found('ref 1234, 415-555-2671')).toEqual(['phone:415-555-2671']);
    expect(found('id 1234 415-555-2671')).toEqual([]); // a run of digit groups: not taken apart
  });
});
