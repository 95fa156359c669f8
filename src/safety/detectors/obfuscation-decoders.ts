/**
 * Decoders for obfuscated runs inside a prompt: base64 (standard and URL-safe), hex (plain, spaced, `\x..`),
 * URL percent-encoding, ROT13 and leetspeak. A decoding counts only when the result reads as text (printable,
 * and for ROT13/leet: clearly more English than the original), so that keys, hashes and image data are ignored.
 * Bounded: at most MAX_RUNS runs per text, each decoded once, runs capped at MAX_RUN_CHARS.
 */

export type Encoding = 'base64' | 'hex' | 'url' | 'rot13' | 'leetspeak';

export interface DecodedRun {
  encoding: Encoding;
  start: number;
  end: number;
  decoded: string;
}

const MAX_RUNS = 16;
const MAX_RUN_CHARS = 20000;

/** The most common English words: used only to tell readable text from noise after a decoding. */
const COMMON_WORDS = new Set(
  ('the be to of and a in that have i it for not on with he as you do at this but his by from they we say her she or an will my one all would there ' +
    'their what so up out if about who get which go me when make can like time no just him know take people into year your good some could them see ' +
    'other than then now look only come its over think also back after use two how our work first well way even new want because any these give day ' +
    'most us is are was were been has had did said tell write show ignore previous instructions all rules system prompt answer please how make ' +
    'step steps explain give list describe create help here there must should never always now forget everything above below following').split(' '),
);

export function englishRatio(text: string): { ratio: number; words: number } {
  const words = text.toLowerCase().match(/[a-z]+/g) ?? [];
  if (words.length === 0) return { ratio: 0, words: 0 };
  let common = 0;
  for (const word of words) if (COMMON_WORDS.has(word)) common++;
  return { ratio: common / words.length, words: words.length };
}

function isReadable(text: string): boolean {
  if (text.length < 6) return false;
  let printable = 0;
  for (const character of text) {
    const code = character.codePointAt(0) as number;
    if ((code >= 0x20 && code < 0x7f) || code === 0x0a || code === 0x09 || (code >= 0xa0 && code !== 0xfffd)) printable++;
  }
  if (printable / [...text].length < 0.95) return false;
  // Text, not a binary blob that happens to decode to printable bytes: letters and spaces dominate.
  const letters = (text.match(/[A-Za-z\s]/g) ?? []).length;
  return letters / text.length >= 0.7;
}

function utf8(bytes: Buffer): string | undefined {
  const text = bytes.toString('utf8');
  return text.includes('\ufffd') ? undefined : text;
}

function decodeBase64Runs(text: string, runs: DecodedRun[]): void {
  const pattern = /[A-Za-z0-9+/_-]{16,}={0,2}/g;
  for (let match = pattern.exec(text); match !== null && runs.length < MAX_RUNS; match = pattern.exec(text)) {
    const run = match[0].slice(0, MAX_RUN_CHARS);
    // Pure letters or pure digits are words or numbers, not base64.
    if (!/[0-9+/=_-]/.test(run) && !/[A-Z].*[a-z].*[A-Z]|[a-z].*[A-Z].*[a-z]/.test(run)) continue;
    const decoded = utf8(Buffer.from(run.replace(/-/g, '+').replace(/_/g, '/'), 'base64'));
    if (decoded !== undefined && isReadable(decoded)) runs.push({ encoding: 'base64', start: match.index, end: match.index + match[0].length, decoded });
  }
}

function decodeHexRuns(text: string, runs: DecodedRun[]): void {
  const pattern = /(?:(?:\\x|0x)?[0-9a-fA-F]{2}[\s:,]?){8,}/g;
  for (let match = pattern.exec(text); match !== null && runs.length < MAX_RUNS; match = pattern.exec(text)) {
    const digits = match[0].slice(0, MAX_RUN_CHARS).replace(/\\x|0x|[\s:,]/g, '');
    if (digits.length % 2 !== 0 || !/[a-fA-F]/.test(digits) || !/[0-9]/.test(digits)) continue;
    const decoded = utf8(Buffer.from(digits, 'hex'));
    if (decoded !== undefined && isReadable(decoded)) runs.push({ encoding: 'hex', start: match.index, end: match.index + match[0].length, decoded });
  }
}

function decodeUrlRuns(text: string, runs: DecodedRun[]): void {
  const pattern = /(?:[A-Za-z0-9._~!*'()+-]{0,16}%[0-9a-fA-F]{2}){4,}[A-Za-z0-9._~!*'()+-]*/g;
  for (let match = pattern.exec(text); match !== null && runs.length < MAX_RUNS; match = pattern.exec(text)) {
    try {
      const decoded = decodeURIComponent(match[0].slice(0, MAX_RUN_CHARS).replace(/\+/g, ' '));
      if (isReadable(decoded)) runs.push({ encoding: 'url', start: match.index, end: match.index + match[0].length, decoded });
    } catch {
      // Malformed percent-encoding: not a decodable run.
    }
  }
}

export function rot13(text: string): string {
  return text.replace(/[A-Za-z]/g, (character) => {
    const base = character <= 'Z' ? 65 : 97;
    return String.fromCharCode(((character.charCodeAt(0) - base + 13) % 26) + base);
  });
}

const LEET: Record<string, string> = { '0': 'o', '1': 'i', '3': 'e', '4': 'a', '5': 's', '7': 't', '8': 'b', '9': 'g', '@': 'a', $: 's', '!': 'i', '|': 'l', '+': 't' };

export function deleet(text: string): { text: string; changed: number } {
  let changed = 0;
  const result = text.replace(/[A-Za-z0-9@$!|+]+/g, (token) => {
    if (!/[A-Za-z]/.test(token) || !/[0-9@$!|+]/.test(token) || /^[0-9]+(st|nd|rd|th|s|d|k|m|x|am|pm|px|gb|mb|kb|ms)$/i.test(token)) return token; // 1st, 20th, 3d, 10am
    changed++;
    return token.replace(/[0-9@$!|+]/g, (character) => LEET[character] ?? character);
  });
  return { text: result, changed };
}

/** Finds and decodes obfuscated runs. */
export function decodeObfuscatedRuns(text: string): DecodedRun[] {
  const runs: DecodedRun[] = [];
  decodeBase64Runs(text, runs);
  decodeHexRuns(text, runs);
  decodeUrlRuns(text, runs);
  const original = englishRatio(text);
  if (runs.length < MAX_RUNS && original.words >= 4 && original.ratio < 0.2) {
    const rotated = rot13(text);
    const after = englishRatio(rotated);
    if (after.ratio >= 0.3 && after.ratio > original.ratio + 0.2) runs.push({ encoding: 'rot13', start: 0, end: text.length, decoded: rotated });
  }
  if (runs.length < MAX_RUNS) {
    const leet = deleet(text);
    if (leet.changed >= 2) {
      const after = englishRatio(leet.text);
      if (after.ratio > original.ratio + 0.1) runs.push({ encoding: 'leetspeak', start: 0, end: text.length, decoded: leet.text });
    }
  }
  return runs;
}
