import { describe, expect, it } from 'vitest';
import { afterPage, decodeCursor, encodeCursor, startPass, syncDelayMs, syncOffsetMs } from '../src/index.ts';

const at = (iso: string) => ({ created_at: iso });
const OVERLAP = 5 * 60_000;

describe('sync cursor › passes over a newest-first list', () => {
  it('a first sync lists everything; its last page sets the watermark to the newest meeting', () => {
    const empty = decodeCursor(null);
    const pass = startPass(empty, 'incremental', OVERLAP);
    expect(pass).toEqual({ mode: 'incremental', createdAfter: null, highWater: null });
    const afterFirst = afterPage(empty, pass, [at('2026-03-03T10:00:00Z'), at('2026-03-02T10:00:00Z')], 'c1');
    // Mid-pass the watermark does not move: a crash now must not skip the older pages.
    expect(afterFirst).toEqual({
      watermark: null,
      pass: { ...pass, cursor: 'c1', highWater: '2026-03-03T10:00:00Z' },
    });
    const done = afterPage(afterFirst, afterFirst.pass!, [at('2026-03-01T10:00:00Z')], null);
    expect(done).toEqual({ watermark: '2026-03-03T10:00:00Z', pass: null });
  });

  it('an incremental sync starts the overlap before the watermark', () => {
    const pass = startPass({ watermark: '2026-03-03T10:00:00.000Z', pass: null }, 'incremental', OVERLAP);
    expect(pass.createdAfter).toBe('2026-03-03T09:55:00.000Z');
    expect(pass.cursor).toBeUndefined();
  });

  it('an unfinished pass is resumed where it stopped; full mode resumes only a full pass', () => {
    const unfinished = {
      mode: 'incremental' as const,
      createdAfter: '2026-03-01T00:00:00Z',
      cursor: 'c7',
      highWater: '2026-03-05T00:00:00Z',
    };
    const cursor = { watermark: '2026-03-01T00:05:00Z', pass: unfinished };
    expect(startPass(cursor, 'incremental', OVERLAP)).toBe(unfinished);
    expect(startPass(cursor, 'full', OVERLAP)).toEqual({
      mode: 'full',
      createdAfter: null,
      highWater: '2026-03-01T00:05:00Z',
    });
    const full = { ...cursor, pass: { ...unfinished, mode: 'full' as const, createdAfter: null } };
    expect(startPass(full, 'full', OVERLAP)).toBe(full.pass);
    expect(startPass(full, 'incremental', OVERLAP)).toBe(full.pass);
  });

  it('the watermark never moves backwards', () => {
    const cursor = { watermark: '2026-03-09T00:00:00Z', pass: null };
    const pass = startPass(cursor, 'full', OVERLAP);
    expect(afterPage(cursor, pass, [at('2026-01-01T00:00:00Z')], null).watermark).toBe(
      '2026-03-09T00:00:00Z',
    );
  });

  it('round-trips through the column; a bare timestamp there is a watermark', () => {
    const cursor = {
      watermark: '2026-03-09T00:00:00Z',
      pass: { mode: 'full' as const, createdAfter: null, cursor: 'x', highWater: null },
    };
    expect(decodeCursor(encodeCursor(cursor))).toEqual(cursor);
    expect(decodeCursor('2026-03-09T00:00:00Z')).toEqual({ watermark: '2026-03-09T00:00:00Z', pass: null });
    expect(decodeCursor('garbage')).toEqual({ watermark: null, pass: null });
  });
});

describe('sync sweep › spreading syncs over the hour', () => {
  const HOUR = 3_600_000;

  it('10,000 connections fill the hour evenly: no minute gets more than twice its share', () => {
    const perMinute = new Array<number>(60).fill(0);
    for (let i = 0; i < 10_000; i++) {
      const id = `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`;
      perMinute[Math.floor(syncOffsetMs(id, HOUR) / 60_000)]! += 1;
    }
    const share = 10_000 / 60;
    expect(Math.max(...perMinute)).toBeLessThan(2 * share);
    expect(Math.min(...perMinute)).toBeGreaterThan(share / 2);
  });

  it("a connection's slot is stable: whenever the sweep runs, it lands on the same minute of the hour", () => {
    const id = 'b1f7c0de-0000-4000-8000-000000000042';
    const slot = syncOffsetMs(id, HOUR);
    for (const now of [0, 1_234_567, HOUR - 1, 5 * HOUR + 42]) {
      const delay = syncDelayMs(id, HOUR, new Date(now));
      expect(delay).toBeGreaterThanOrEqual(0);
      expect(delay).toBeLessThan(HOUR);
      expect((now + delay) % HOUR).toBe(slot);
    }
  });
});
