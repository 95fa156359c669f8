/**
 * Confusables and leetspeak: a small "skeleton" table that folds characters which look alike
 * (Cyrillic/Greek homoglyphs of Latin letters, leetspeak digits and symbols) onto one Latin letter,
 * so that a blocklist term written with look-alikes still matches. Both the text and the terms go
 * through the same folding, so the table may merge letters (l, 1, |, i) without missing anything;
 * the cost is a few extra matches, which whole-word matching keeps rare.
 *
 * The table covers the homoglyphs of Unicode's confusables.txt that attackers use in practice for
 * Latin text; it is not the full 6,000-entry list (that lives in the unicode detector's domain).
 */

/** Homoglyphs of Latin letters (lower case after folding). */
export const HOMOGLYPHS: Readonly<Record<string, string>> = {
  // Cyrillic
  'а': 'a', 'в': 'b', 'с': 'c', 'ԁ': 'd', 'е': 'e', 'ё': 'e', 'һ': 'h', 'і': 'i', 'ї': 'i', 'ј': 'j',
  'к': 'k', 'ӏ': 'i', 'м': 'm', 'н': 'h', 'о': 'o', 'р': 'p', 'ԛ': 'q', 'г': 'r', 'ѕ': 's', 'т': 't',
  'у': 'y', 'ԝ': 'w', 'х': 'x', 'ү': 'y', 'ь': 'b', 'п': 'n',
  // Greek
  'α': 'a', 'β': 'b', 'γ': 'y', 'ε': 'e', 'η': 'n', 'ι': 'i', 'κ': 'k', 'ν': 'v', 'ο': 'o', 'ρ': 'p',
  'τ': 't', 'υ': 'u', 'χ': 'x', 'ω': 'w', 'ς': 's', 'μ': 'u',
  // Latin look-alikes that NFKC keeps
  'ı': 'i', 'ȷ': 'j', 'ł': 'l', 'ø': 'o', 'đ': 'd', 'ħ': 'h', 'ŀ': 'l', 'ß': 's',
};

/** Leetspeak digits: always folded inside words. */
export const LEET_DIGITS: Readonly<Record<string, string>> = {
  '0': 'o', '1': 'i', '3': 'e', '4': 'a', '5': 's', '7': 't', '8': 'b',
};

/** Leetspeak symbols: folded only when they sit inside or at the start of a word (so "bad!" keeps its "!"). */
export const LEET_SYMBOLS: Readonly<Record<string, string>> = {
  '@': 'a', '$': 's', '!': 'i', '|': 'i', '+': 't', '€': 'e', '£': 'l',
};

/** Letters merged into one skeleton letter after leet folding (l and i look alike: "1", "|", "l", "I"). */
export const SKELETON_LETTERS: Readonly<Record<string, string>> = {
  l: 'i',
};
