/**
 * The API key, kept in sessionStorage only (gone when the tab closes; never localStorage or a cookie).
 */
const KEY = 'rein.apiKey';

export function readApiKey(): string {
  try {
    return sessionStorage.getItem(KEY) ?? '';
  } catch {
    return '';
  }
}

export function writeApiKey(value: string): void {
  try {
    if (value) sessionStorage.setItem(KEY, value);
    else sessionStorage.removeItem(KEY);
  } catch {
    // Storage disabled: the key lives only as long as the page.
  }
}
