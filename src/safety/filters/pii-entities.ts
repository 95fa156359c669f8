/**
 * PII recognisers: email, phone (E.164 and common national formats), payment card (Luhn + issuer
 * prefix), IBAN (country length + mod-97), US SSN (valid area/group/serial), IPv4 and IPv6.
 *
 * Each recogniser is a candidate regex followed by validation in code. The regexes are linear: every
 * repetition is bounded or unambiguous (groups are separated by a required separator), so there is
 * no catastrophic backtracking whatever the input. Validation rejects the hard negatives: numbers
 * that fail a checksum, dates, version strings, room numbers, ISBNs.
 */
import net from 'node:net';
import { ibanValid, luhnValid } from './checksums';

export type PiiEntity = 'email' | 'phone' | 'payment_card' | 'iban' | 'ssn' | 'ip_address';
export const PII_ENTITIES: readonly PiiEntity[] = ['email', 'phone', 'payment_card', 'iban', 'ssn', 'ip_address'];

export interface EntitySpan {
  entity: PiiEntity;
  start: number;
  end: number;
  value: string;
}

/**
 * Hold-back window per entity for streaming: the longest match that can contain whitespace. Entities
 * without whitespace (emails, unspaced numbers, IPs) are covered by holding back the trailing run of
 * non-space characters, whatever their length, so they need no window of their own.
 */
export const PII_STREAM_WINDOW: Readonly<Record<PiiEntity, number>> = {
  email: 0, phone: 32, payment_card: 24, iban: 42, ssn: 11, ip_address: 0,
};

const EMAIL = /(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63}){0,8}\.[A-Za-z]{2,24}(?![A-Za-z0-9-])/g;
const PHONE_INTERNATIONAL = /(?<![\w+])\+[1-9]\d{0,14}(?:(?:[ .-]|[ ]?\()\d{1,6}\)?){0,6}(?![\w])/g;
const PHONE_NATIONAL = /(?<![\w+.\-/])(?<!\d[ .\-])(?:1[ .-])?(?:\(\d{2,5}\)[ .-]?|\d{2,5}[ .-])\d{2,8}(?:[ .-]\d{2,8}){0,3}(?![\w]|[.\-/]\d)/g;
const PHONE_BARE_TRUNK = /(?<![\w+.\-/])(?<!\d[ .\-])0\d{9,10}(?![\w]|[.\-/]\d)/g;
const CARD = /(?<![\w.\-])\d(?:[ -]?\d){12,18}(?![\w]|[.\-]\d)/g;
const IBAN = /(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?(?![A-Za-z0-9])/g;
const SSN = /(?<![\w\-])(\d{3})-(\d{2})-(\d{4})(?![\w\-]|\.\d)/g;
const IPV4 = /(?<![\w.\-])(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?![\w]|\.\d)/g;
const IPV6_CANDIDATE = /(?<![\w:.])[0-9A-Fa-f:][0-9A-Fa-f:.]{1,44}(?![\w:])/g;
const VERSION_CONTEXT = /(?:\bv|\bversion|\bver|\brelease|\bbuild|\bv\.)\s*$/i;
const ISBN_CONTEXT = /isbn(?:-1[03])?:?\s*$/i;

function* matchAll(pattern: RegExp, text: string): Generator<RegExpExecArray> {
  pattern.lastIndex = 0;
  let match: RegExpExecArray | null;
  while ((match = pattern.exec(text)) !== null) {
    yield match;
    if (match[0].length === 0) pattern.lastIndex++;
  }
}

/**
 * Candidates that validation may reject: after a rejection the search resumes one character after the
 * candidate's start (not after its end), so that a real value overlapping a rejected candidate
 * ("+44 20 7946 0958 4111 1111 1111 1111": the phone swallows the card's first group) is still found.
 * Cost stays linear in the text times the longest candidate.
 */
function scanCandidates(pattern: RegExp, text: string, accept: (match: RegExpExecArray) => EntitySpan | undefined): EntitySpan[] {
  const spans: EntitySpan[] = [];
  pattern.lastIndex = 0;
  let match: RegExpExecArray | null;
  while ((match = pattern.exec(text)) !== null) {
    const span = accept(match);
    if (span) spans.push(span);
    pattern.lastIndex = span ? Math.max(span.end, match.index + 1) : match.index + 1;
  }
  return spans;
}

/**
 * Drops trailing space-separated groups ("… 0958 4111" → "… 0958") while the value has more than
 * `maxDigits` digits. Only at spaces: "123-45-6789" glued by hyphens is one token, never split.
 */
function trimGroups(value: string, maxDigits: number): string {
  let trimmed = value;
  while (digitsOf(trimmed).length > maxDigits) {
    const shorter = trimmed.replace(/ +[^ ]*$/, '');
    if (shorter === trimmed) break;
    trimmed = shorter;
  }
  return trimmed;
}

function digitsOf(value: string): string {
  return value.replace(/\D/g, '');
}

function precededBy(text: string, index: number, context: RegExp): boolean {
  return context.test(text.slice(Math.max(0, index - 16), index));
}

export function findEmails(text: string): EntitySpan[] {
  const spans: EntitySpan[] = [];
  if (!text.includes('@')) return spans;
  for (const match of matchAll(EMAIL, text)) {
    const value = match[0];
    const local = value.slice(0, value.indexOf('@'));
    if (local.startsWith('.') || local.endsWith('.') || local.includes('..')) continue;
    spans.push({ entity: 'email', start: match.index, end: match.index + value.length, value });
  }
  return spans;
}

function nationalPhoneValid(value: string): boolean {
  const digits = digitsOf(value);
  if (digits.length < 10 || digits.length > 11) return false;
  const separators = value.replace(/[\d()]/g, '');
  const groups = value.split(/[ .-]+/).map((group) => digitsOf(group)).filter((group) => group.length > 0);
  // Dotted numbers are versions or dates unless they are exactly the US 3.3.4 layout.
  if (separators.includes('.') && !/^(?:1\.)?\d{3}\.\d{3}\.\d{4}$/.test(value)) return false;
  // Date-like layouts: 4-2-2, 2-2-4 followed by more digits.
  if (/^\d{4}-\d{2}-\d{2}\b/.test(value) || /^\d{2}-\d{2}-\d{4}\b/.test(value)) return false;
  const usDigits = digits.length === 11 && digits.startsWith('1') ? digits.slice(1) : digits;
  const usGroups = groups[0] === '1' ? groups.slice(1) : groups;
  const usLayout = usDigits.length === 10 && /^[2-9]\d{2}[2-9]/.test(usDigits) &&
    usGroups.length === 3 && usGroups[0].length === 3 && usGroups[1].length === 3 && usGroups[2].length === 4;
  const trunkLayout = digits.startsWith('0') && digits[1] !== '0';
  return usLayout || trunkLayout;
}

export function findPhones(text: string): EntitySpan[] {
  const international = scanCandidates(PHONE_INTERNATIONAL, text, (match) => {
    // An unbalanced trailing "(" group is not part of the number; groups beyond 15 digits belong to something else.
    let value = match[0].replace(/[ .(\-]+$/, '');
    value = trimGroups(value, 15).replace(/[ .(\-]+$/, '');
    const digits = digitsOf(value);
    if (digits.length < 8 || digits.length > 15) return undefined;
    return { entity: 'phone', start: match.index, end: match.index + value.length, value };
  });
  const national = [PHONE_NATIONAL, PHONE_BARE_TRUNK].flatMap((pattern) => scanCandidates(pattern, text, (match) => {
    const value = trimGroups(match[0], 11);
    if (!nationalPhoneValid(value) || precededBy(text, match.index, ISBN_CONTEXT)) return undefined;
    return { entity: 'phone', start: match.index, end: match.index + value.length, value };
  }));
  return [...international, ...national];
}

/** Issuer prefixes with the lengths each issues (Visa, Mastercard, Amex, Diners, Discover, JCB, UnionPay). */
const CARD_BRANDS: ReadonlyArray<[RegExp, number[]]> = [
  [/^4/, [13, 16, 19]],
  [/^(?:5[1-5]|2(?:2[2-9][1-9]|2[3-9]\d|[3-6]\d\d|7[01]\d|720))/, [16]],
  [/^3[47]/, [15]],
  [/^3(?:0[0-5]|[68])/, [14, 15, 16, 17, 18, 19]],
  [/^6(?:011|5|4[4-9])/, [16, 17, 18, 19]],
  [/^35(?:2[89]|[3-8]\d)/, [16, 17, 18, 19]],
  [/^62/, [16, 17, 18, 19]],
];

function cardBrandValid(digits: string): boolean {
  return CARD_BRANDS.some(([prefix, lengths]) => prefix.test(digits) && lengths.includes(digits.length));
}

export function findPaymentCards(text: string): EntitySpan[] {
  return scanCandidates(CARD, text, (match) => {
    const value = match[0];
    const digits = digitsOf(value);
    if (digits.length < 13 || digits.length > 19) return undefined;
    const separators = new Set(value.replace(/\d/g, ''));
    if (separators.size > 1) return undefined;
    if (separators.size === 1) {
      const groups = value.split(/[ -]/).map((group) => group.length);
      const fours = groups.slice(0, -1).every((length) => length === 4) && groups[groups.length - 1] <= 4;
      const amex = groups.join(',') === '4,6,5' || groups.join(',') === '4,6,4';
      if (!fours && !amex) return undefined;
    }
    if (!cardBrandValid(digits) || !luhnValid(digits)) return undefined;
    // Inside an IBAN-shaped token ("DE89 3704 …"): the IBAN recogniser decides.
    if (/[A-Z]{2}\d{2} ?$/.test(text.slice(Math.max(0, match.index - 5), match.index))) return undefined;
    if (/^(\d)\1+$/.test(digits)) return undefined;
    return { entity: 'payment_card', start: match.index, end: match.index + value.length, value };
  });
}

export function findIbans(text: string): EntitySpan[] {
  const spans: EntitySpan[] = [];
  for (const match of matchAll(IBAN, text)) {
    let value = match[0];
    // The optional short tail may have swallowed a following word: try with and without it.
    const candidates = [value];
    const lastSpace = value.lastIndexOf(' ');
    if (lastSpace > 0) candidates.push(value.slice(0, lastSpace));
    const valid = candidates.find((candidate) => ibanValid(candidate.replace(/ /g, '')));
    if (valid === undefined) continue;
    value = valid;
    spans.push({ entity: 'iban', start: match.index, end: match.index + value.length, value });
  }
  return spans;
}

export function findSsns(text: string): EntitySpan[] {
  const spans: EntitySpan[] = [];
  for (const match of matchAll(SSN, text)) {
    const [value, area, group, serial] = match;
    const areaNumber = Number(area);
    if (areaNumber === 0 || areaNumber === 666 || areaNumber >= 900) continue;
    if (group === '00' || serial === '0000') continue;
    spans.push({ entity: 'ssn', start: match.index, end: match.index + value.length, value });
  }
  return spans;
}

export function findIpAddresses(text: string): EntitySpan[] {
  const spans: EntitySpan[] = [];
  for (const match of matchAll(IPV4, text)) {
    if (precededBy(text, match.index, VERSION_CONTEXT)) continue;
    spans.push({ entity: 'ip_address', start: match.index, end: match.index + match[0].length, value: match[0] });
  }
  if (text.includes(':')) {
    for (const match of matchAll(IPV6_CANDIDATE, text)) {
      let value = match[0];
      while (value.endsWith('.')) value = value.slice(0, -1);
      const groups = value.split(':').filter((group) => group.length > 0);
      if (groups.length < 3 || !net.isIPv6(value)) continue;
      spans.push({ entity: 'ip_address', start: match.index, end: match.index + value.length, value });
    }
  }
  return spans;
}

const FINDERS: Record<PiiEntity, (text: string) => EntitySpan[]> = {
  email: findEmails,
  phone: findPhones,
  payment_card: findPaymentCards,
  iban: findIbans,
  ssn: findSsns,
  ip_address: findIpAddresses,
};

/** All entities of the requested kinds; overlapping spans are resolved by the caller. */
export function findPii(text: string, entities: readonly PiiEntity[] = PII_ENTITIES): EntitySpan[] {
  return entities.flatMap((entity) => FINDERS[entity](text));
}
