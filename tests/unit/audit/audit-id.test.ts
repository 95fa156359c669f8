import { AUDIT_ID_PATTERN, newAuditId } from '../../../src/audit/audit-store';

describe('newAuditId', () => {
  it('is aud_ + 32 hex digits: 12 of creation time in ms, then 80 random bits', () => {
    const at = Date.UTC(2026, 10, 29, 12, 0, 0);
    const id = newAuditId(at);
    expect(id).toMatch(AUDIT_ID_PATTERN);
    expect(parseInt(id.slice(4, 16), 16)).toBe(at);
  });

  it('sorts ids made in later milliseconds after earlier ones (the unique index grows at its right edge)', () => {
    const start = Date.UTC(2026, 0, 1);
    const ids = Array.from({ length: 200 }, (_, index) => newAuditId(start + index * 7));
    expect([...ids].sort()).toEqual(ids);
    expect(newAuditId(start + 1) > newAuditId(start)).toBe(true);
  });

  it('keeps ids made in the same millisecond distinct and their random parts unpredictable', () => {
    const at = Date.now();
    const ids = Array.from({ length: 5000 }, () => newAuditId(at));
    expect(new Set(ids).size).toBe(ids.length);
    // Every hex digit of the random part takes many values across ids (no fixed version/variant digit).
    for (let position = 16; position < 36; position++) {
      expect(new Set(ids.map((id) => id[position])).size).toBeGreaterThanOrEqual(12);
    }
  });

  it('defaults to the current time', () => {
    const before = Date.now();
    const stamp = parseInt(newAuditId().slice(4, 16), 16);
    expect(stamp).toBeGreaterThanOrEqual(before);
    expect(stamp).toBeLessThanOrEqual(Date.now());
  });
});
