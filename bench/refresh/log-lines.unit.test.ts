import { describe, expect, it } from 'vitest';
import { readAppLine } from './log-lines.ts';
import { quantile } from './stats.ts';

describe('readAppLine', () => {
  it('a refresh line gives its outcome, commitMs and when it was logged', () => {
    const line =
      '{"level":"info","time":"2026-12-02T05:00:00.000Z","name":"worker","provider":"discord","connectionId":"c1","reason":"sweep","outcome":"refreshed","durationMs":42,"commitMs":3.4,"msg":"refresh"}';
    expect(readAppLine(line)).toEqual({
      kind: 'refresh',
      outcome: 'refreshed',
      commitMs: 3.4,
      at: Date.UTC(2026, 11, 2, 5, 0, 0),
    });
    expect(readAppLine('{"outcome":"busy","durationMs":1,"msg":"refresh"}')).toEqual({
      kind: 'refresh',
      outcome: 'busy',
      commitMs: undefined,
      at: undefined,
    });
  });

  it('the ready lines of the apps, and nothing else, are ready', () => {
    expect(readAppLine('{"level":"info","msg":"worker ready"}')).toEqual({ kind: 'ready' });
    expect(readAppLine('{"level":"info","msg":"scheduler ready"}')).toEqual({ kind: 'ready' });
    expect(readAppLine('{"level":"info","msg":"worker lanes started"}')).toEqual({ kind: 'other' });
    expect(readAppLine('{"msg":"refresh: the rescue copy could not be written"}')).toEqual({ kind: 'other' });
    expect(readAppLine('not json {')).toEqual({ kind: 'other' });
    expect(readAppLine('{"msg":"refresh"')).toEqual({ kind: 'other' });
  });
});

describe('quantile', () => {
  it('nearest rank; null for no values', () => {
    const values = Array.from({ length: 100 }, (_, i) => 100 - i); // 100..1, unsorted
    expect(quantile(values, 0.5)).toBe(50);
    expect(quantile(values, 0.99)).toBe(99);
    expect(quantile(values, 1)).toBe(100);
    expect(quantile([7], 0.99)).toBe(7);
    expect(quantile([], 0.5)).toBeNull();
  });
});
