import { z } from 'zod';

/**
 * Retry policy for token refreshes (DESIGN rule 4). Attempts count *retries after a
 * transient failure*: with `maxAttempts: 3` a run is the first call plus up to three
 * retries, waiting ≈1 s, 2 s, 4 s between them.
 */
export interface RetryPolicy {
  /** Retries after transient failures (5xx, timeout, network) before giving up for now. */
  readonly maxAttempts: number;
  /** Backoff before retry 1; doubles for each further retry. */
  readonly baseDelayMs: number;
  /** Ceiling for any one backoff delay. */
  readonly maxDelayMs: number;
  /** Wait after a 429 that did not say how long. */
  readonly rateLimitDefaultWaitMs: number;
  /** Pause after the retries are exhausted; sweeps skip the connection until it passes. */
  readonly cooldownMs: number;
  /** How long a connection may keep failing transiently before it is marked `error`. */
  readonly transientFailureLimitMs: number;
}

const SECOND = 1_000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

export const DEFAULT_RETRY_POLICY: RetryPolicy = Object.freeze({
  maxAttempts: 3,
  baseDelayMs: 1 * SECOND,
  maxDelayMs: 30 * SECOND,
  rateLimitDefaultWaitMs: 60 * SECOND,
  cooldownMs: 15 * MINUTE,
  transientFailureLimitMs: 24 * HOUR,
});

const count = z.int().min(0);
const positiveMs = z.int().min(1);

const retryPolicySchema = z
  .strictObject({
    maxAttempts: count,
    baseDelayMs: positiveMs,
    maxDelayMs: positiveMs,
    rateLimitDefaultWaitMs: positiveMs,
    cooldownMs: positiveMs,
    transientFailureLimitMs: positiveMs,
  })
  .refine((p) => p.baseDelayMs <= p.maxDelayMs, {
    message: 'baseDelayMs must not exceed maxDelayMs',
    path: ['baseDelayMs'],
  });

/**
 * `DEFAULT_RETRY_POLICY` with overrides, validated: whole milliseconds, positive delays,
 * base ≤ cap. Throws a `RangeError` naming each bad field.
 */
export function defineRetryPolicy(overrides: Partial<RetryPolicy> = {}): RetryPolicy {
  const parsed = retryPolicySchema.safeParse({ ...DEFAULT_RETRY_POLICY, ...overrides });
  if (!parsed.success) {
    const problems = parsed.error.issues
      .map((i) => `${i.path.join('.') || 'policy'}: ${i.message}`)
      .join('; ');
    throw new RangeError(
      `retry policy is invalid (${problems}); expected whole, positive milliseconds and maxAttempts ≥ 0`,
    );
  }
  return Object.freeze(parsed.data);
}

/**
 * Delay before retry number `attempt` (1-based), with "equal jitter": half of the
 * exponential step is fixed and half random, so delays spread out across connections
 * (no thundering herd after a provider outage) yet stay ≈ base·2^(attempt-1) and are
 * never 0. Result is in [step/2, step), where step = min(maxDelayMs, base·2^(attempt-1)).
 */
export function backoffDelay(attempt: number, policy: RetryPolicy, random: () => number): number {
  if (!Number.isInteger(attempt) || attempt < 1) {
    throw new RangeError(`backoffDelay: attempt must be an integer ≥ 1 (the retry number), got ${attempt}`);
  }
  const r = random();
  if (!(r >= 0 && r < 1)) {
    throw new RangeError(`backoffDelay: random() must return a number in [0, 1), got ${r}`);
  }
  // Capping the exponent first keeps 2 ** n finite for absurd attempt numbers.
  const doublings = Math.min(attempt - 1, 52);
  const step = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** doublings);
  const half = step / 2;
  return Math.max(1, Math.floor(half + r * half));
}
