/**
 * The deterministic split of the dev sets shared by the training tools, `rein eval` reports and the tests:
 * FNV-1a (32-bit, UTF-8) of the text, mod 10; 0–5 = training/calibration part, 6–9 = held back for reporting.
 * tools/train-injection-classifier/split.py is the Python twin.
 */
import { fnv1a } from './hashed-ngram-features';

export function isHeldBack(text: string): boolean {
  return fnv1a(text) % 10 >= 6;
}
