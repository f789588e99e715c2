import { describe, expect, it } from 'vitest';
import { stoppedMsAfterAnswer } from './invariants.ts';

const TTL = 15_000;

describe('chaos invariants › an answer held unread by a stopped worker', () => {
  it('is one answered within a lease before a stop that outlasted the lease', () => {
    expect(stoppedMsAfterAnswer(1_000, [{ fromMs: 1_500, toMs: 31_500 }], TTL)).toBe(500);
    expect(stoppedMsAfterAnswer(1_000, [{ fromMs: 1_000 + TTL, toMs: 31_000 + TTL }], TTL)).toBe(TTL);
  });

  it('is not one answered longer than a lease before the stop: the worker had every chance to store it', () => {
    expect(stoppedMsAfterAnswer(1_000, [{ fromMs: 1_001 + TTL, toMs: 60_000 }], TTL)).toBeNull();
  });

  it('is not one answered after the stop began, nor one whose stop was shorter than the lease', () => {
    expect(stoppedMsAfterAnswer(2_000, [{ fromMs: 1_500, toMs: 31_500 }], TTL)).toBeNull();
    expect(stoppedMsAfterAnswer(1_000, [{ fromMs: 1_500, toMs: 1_500 + TTL }], TTL)).toBeNull();
  });

  it('counts a stop still open at the end of the run, and knows nothing without an answer or a stop', () => {
    expect(stoppedMsAfterAnswer(1_000, [{ fromMs: 2_000, toMs: Number.POSITIVE_INFINITY }], TTL)).toBe(1_000);
    expect(stoppedMsAfterAnswer(null, [{ fromMs: 2_000, toMs: 40_000 }], TTL)).toBeNull();
    expect(stoppedMsAfterAnswer(1_000, undefined, TTL)).toBeNull();
  });
});
