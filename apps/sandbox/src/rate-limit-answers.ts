// Each provider's "slow down" answer, with the wait in the places that provider puts it
// (PROVIDERS.md): Fathom RateLimit-*; Spotify Retry-After; Google Retry-After and
// errors[].reason; Discord X-RateLimit-* plus JSON retry_after; GitHub retry-after (secondary
// limit, 429) or x-ratelimit-remaining 0 with x-ratelimit-reset (primary limit, 403).
import { providerSpec, type ProviderKey, type RateLimitSignal, type ProviderSpec } from '@conduit/core';
import type { WireAnswer } from './http.ts';

export type Surface = 'token' | 'api' | 'authorize';

export interface RateLimitInput {
  seconds: number;
  status: 403 | 429;
  now: number;
  /** the budget behind the answer, when there is one (Fathom's 60 / 60 s) */
  limit?: number;
}

type Answerer = (input: RateLimitInput, surface: Surface) => WireAnswer;

const wholeSeconds = (seconds: number): string => String(Math.max(1, Math.ceil(seconds)));

/** RateLimit-* as Fathom sends them; also on successful answers (remaining > 0). */
export function rateLimitHeaders(
  limit: number,
  remaining: number,
  resetSeconds: number,
): Record<string, string> {
  return {
    'ratelimit-limit': String(limit),
    'ratelimit-remaining': String(remaining),
    'ratelimit-reset': String(resetSeconds),
  };
}

/** The dialects a declaration may name; otherwise the answer is derived from its rate-limit signals. */
const ANSWERS: Readonly<Record<string, Answerer>> = {
  fathom: ({ seconds, limit }) => ({
    status: 429,
    headers: rateLimitHeaders(limit ?? 60, 0, Math.max(1, Math.ceil(seconds))),
    body: {
      error: 'rate_limit_exceeded',
      message: 'Too many requests. Slow down and retry after RateLimit-Reset.',
    },
  }),
  spotify: ({ seconds }) => ({
    status: 429,
    headers: { 'retry-after': wholeSeconds(seconds) },
    body: { error: { status: 429, message: 'API rate limit exceeded' } },
  }),
  google: ({ seconds, status }) => {
    const reason = status === 403 ? 'userRateLimitExceeded' : 'rateLimitExceeded';
    const message = status === 403 ? 'User Rate Limit Exceeded' : 'Rate Limit Exceeded';
    return {
      status,
      headers: { 'retry-after': wholeSeconds(seconds) },
      body: {
        error: {
          code: status,
          message,
          errors: [{ message, domain: 'usageLimits', reason }],
          status: status === 403 ? 'PERMISSION_DENIED' : 'RESOURCE_EXHAUSTED',
        },
      },
    };
  },
  discord: ({ seconds, now }, surface) => ({
    status: 429,
    headers: {
      'retry-after': wholeSeconds(seconds),
      'x-ratelimit-limit': '5',
      'x-ratelimit-remaining': '0',
      'x-ratelimit-reset': ((now + seconds * 1000) / 1000).toFixed(3),
      'x-ratelimit-reset-after': seconds.toFixed(3),
      'x-ratelimit-bucket':
        surface === 'token' ? 'b0d5e1ff0f3a7c1e4f0e5a3b9c2d7e61' : '41f9cd5d28af77da04563bcb1d67fdfd',
      'x-ratelimit-scope': 'user',
    },
    body: { message: 'You are being rate limited.', retry_after: seconds, global: false },
  }),
  github: githubAnswer,
};

/** Where each declared signal puts the wait: the headers and body fields a client must read. */
function signalWait(
  signal: RateLimitSignal,
  seconds: number,
  now: number,
): [string, string] | { json: string } {
  const epoch = (): string => String(Math.ceil((now + seconds * 1000) / 1000));
  if (typeof signal === 'string') {
    switch (signal) {
      case 'retry-after':
        return ['retry-after', wholeSeconds(seconds)];
      case 'ratelimit-reset-seconds':
        return ['ratelimit-reset', wholeSeconds(seconds)];
      case 'x-ratelimit-reset-after-seconds':
        return ['x-ratelimit-reset-after', seconds.toFixed(3)];
      case 'x-ratelimit-reset-epoch':
        return ['x-ratelimit-reset', epoch()];
      case 'json-retry_after':
        return { json: 'retry_after' };
    }
  }
  if ('json' in signal) return { json: signal.json };
  const value = signal.format === 'epoch-seconds' ? epoch() : wholeSeconds(seconds);
  return [signal.header.toLowerCase(), value];
}

/** A 429 carrying the wait in every place the declaration lists, and nothing else. */
function derivedAnswer(spec: ProviderSpec, { seconds, now, status }: RateLimitInput): WireAnswer {
  const headers: Record<string, string> = {};
  const body: Record<string, unknown> =
    spec.sandbox.errorShape === 'message'
      ? { status, message: 'Too Many Requests' }
      : { error: 'rate_limited', message: 'Too many requests; slow down.' };
  if (spec.sandbox.okField) Object.assign(body, { ok: false, error: 'ratelimited' });
  for (const signal of spec.rateLimit.signals) {
    const where = signalWait(signal, seconds, now);
    if (Array.isArray(where)) headers[where[0]] = where[1];
    else body[where.json] = Math.max(1, Math.ceil(seconds));
  }
  return { status: 429, headers, body };
}

function githubAnswer({ seconds, status, now }: RateLimitInput): WireAnswer {
  const reset = String(Math.ceil((now + seconds * 1000) / 1000));
  const documentation_url = 'https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api';
  if (status === 403) {
    return {
      status,
      headers: {
        'x-ratelimit-limit': '5000',
        'x-ratelimit-remaining': '0',
        'x-ratelimit-used': '5000',
        'x-ratelimit-reset': reset,
        'x-ratelimit-resource': 'core',
      },
      body: { message: 'API rate limit exceeded for user.', documentation_url },
    };
  }
  return {
    status,
    headers: { 'retry-after': wholeSeconds(seconds) },
    body: {
      message: 'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.',
      documentation_url,
    },
  };
}

export function rateLimitAnswer(provider: ProviderKey, surface: Surface, input: RateLimitInput): WireAnswer {
  const spec = providerSpec(provider);
  const named = spec.sandbox.dialect === undefined ? undefined : ANSWERS[spec.sandbox.dialect];
  return named ? named(input, surface) : derivedAnswer(spec, input);
}
