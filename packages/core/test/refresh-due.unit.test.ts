import { describe, expect, it } from 'vitest';
import { isRefreshDue, refreshDueAt, refreshLeadMs } from '../src/index.ts';

const BUFFER = 300_000;
const expires = new Date('2026-12-02T12:00:00Z');

describe('refresh › the refresh moment fits the issued lifetime', () => {
  it('a 60 s token is due 30 s before expiry, not at once, with a 300 s buffer', () => {
    expect(refreshLeadMs(60, BUFFER)).toBe(30_000);
    expect(refreshDueAt({ tokenExpiresAt: expires, tokenLifetimeSeconds: 60, bufferMs: BUFFER })).toEqual(
      new Date('2026-12-02T11:59:30Z'),
    );
  });

  it('a 300 s token is due at half its life; a 3600 s token keeps the full buffer', () => {
    expect(refreshLeadMs(300, BUFFER)).toBe(150_000);
    expect(refreshLeadMs(3600, BUFFER)).toBe(BUFFER);
  });

  it('an unknown (or nonsensical) lifetime falls back to the buffer', () => {
    expect(refreshLeadMs(null, BUFFER)).toBe(BUFFER);
    expect(refreshLeadMs(0, BUFFER)).toBe(BUFFER);
    expect(refreshLeadMs(-5, BUFFER)).toBe(BUFFER);
  });

  it('is due exactly from that moment on', () => {
    const input = { tokenExpiresAt: expires, tokenLifetimeSeconds: 60, bufferMs: BUFFER };
    expect(isRefreshDue(input, new Date('2026-12-02T11:59:29.999Z'))).toBe(false);
    expect(isRefreshDue(input, new Date('2026-12-02T11:59:30Z'))).toBe(true);
  });
});
