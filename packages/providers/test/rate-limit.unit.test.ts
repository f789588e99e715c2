import { PROVIDERS } from '@conduit/core';
import type { RateLimitSignal } from '@conduit/core';
import { describe, expect, it } from 'vitest';
import { isRateLimited, parseHttpDate, parseRetryAfter, rateLimitWaitMs } from '../src/index.ts';
import type { HttpHeaders } from '../src/index.ts';

const NOW = new Date('2025-03-10T12:00:00.000Z');
const NOW_S = NOW.getTime() / 1000;
const ALL: RateLimitSignal[] = [
  'retry-after',
  'ratelimit-reset-seconds',
  'x-ratelimit-reset-after-seconds',
  'x-ratelimit-reset-epoch',
  'json-retry_after',
];

function wait(
  signals: readonly RateLimitSignal[],
  headers: HttpHeaders,
  body?: unknown,
  defaultMs = 60_000,
): number {
  return rateLimitWaitMs({ signals, headers, body, now: NOW, defaultMs });
}

describe('parseHttpDate', () => {
  it('reads the IMF-fixdate form', () => {
    expect(parseHttpDate('Mon, 10 Mar 2025 12:00:30 GMT', NOW)).toBe(NOW.getTime() + 30_000);
  });
  it('reads the obsolete RFC 850 form, two-digit years in the nearest century', () => {
    expect(parseHttpDate('Monday, 10-Mar-25 12:01:00 GMT', NOW)).toBe(NOW.getTime() + 60_000);
    expect(parseHttpDate('Sunday, 06-Nov-94 08:49:37 GMT', NOW)).toBe(Date.UTC(1994, 10, 6, 8, 49, 37));
  });
  it('reads the obsolete asctime form', () => {
    expect(parseHttpDate('Mon Mar 10 12:00:05 2025', NOW)).toBe(NOW.getTime() + 5_000);
    expect(parseHttpDate('Sun Nov  6 08:49:37 1994', NOW)).toBe(Date.UTC(1994, 10, 6, 8, 49, 37));
  });
  it('refuses garbage and impossible dates that Date.parse would accept or roll over', () => {
    for (const bad of [
      '5 apples',
      'tomorrow',
      '2025-03-10T12:00:30Z',
      'Mon, 31 Feb 2025 12:00:00 GMT',
      'Mon, 10 Mar 2025 25:00:00 GMT',
      '',
    ]) {
      expect(parseHttpDate(bad, NOW)).toBeUndefined();
    }
  });
});

describe('parseRetryAfter', () => {
  it('reads delta-seconds and HTTP-dates as milliseconds from now', () => {
    expect(parseRetryAfter('120', NOW)).toBe(120_000);
    expect(parseRetryAfter(' 1.5 ', NOW)).toBe(1_500);
    expect(parseRetryAfter('Mon, 10 Mar 2025 12:02:00 GMT', NOW)).toBe(120_000);
  });
  it('returns nothing for garbage', () => {
    expect(parseRetryAfter('soon', NOW)).toBeUndefined();
    expect(parseRetryAfter('-5', NOW)).toBeUndefined();
    expect(parseRetryAfter('1e3', NOW)).toBeUndefined();
  });
});

describe('rateLimitWaitMs', () => {
  it('reads Retry-After as delta-seconds', () => {
    expect(wait(['retry-after'], { 'retry-after': '30' })).toBe(30_000);
  });
  it('reads Retry-After as an HTTP-date', () => {
    expect(wait(['retry-after'], { 'retry-after': 'Mon, 10 Mar 2025 12:00:45 GMT' })).toBe(45_000);
  });
  it('reads RateLimit-Reset as seconds until the reset (Fathom)', () => {
    expect(wait(['ratelimit-reset-seconds'], { 'ratelimit-reset': '17' })).toBe(17_000);
  });
  it('reads X-RateLimit-Reset-After as float seconds, rounding up to whole milliseconds (Discord)', () => {
    expect(wait(['x-ratelimit-reset-after-seconds'], { 'x-ratelimit-reset-after': '64.5701' })).toBe(64_571);
  });
  it('reads X-RateLimit-Reset as fractional epoch seconds (Discord, GitHub)', () => {
    expect(wait(['x-ratelimit-reset-epoch'], { 'x-ratelimit-reset': String(NOW_S + 90) })).toBe(90_000);
    expect(wait(['x-ratelimit-reset-epoch'], { 'x-ratelimit-reset': (NOW_S + 2.25).toFixed(3) })).toBe(2_250);
  });
  it('reads a JSON retry_after as float seconds (Discord), number or numeric string', () => {
    expect(
      wait(
        ['json-retry_after'],
        {},
        { message: 'You are being rate limited.', retry_after: 64.57, global: false },
      ),
    ).toBe(64_570);
    expect(wait(['json-retry_after'], {}, { retry_after: '3' })).toBe(3_000);
  });
  it('lets the longest indicated wait win', () => {
    const headers = {
      'retry-after': '10',
      'ratelimit-reset': '5',
      'x-ratelimit-reset-after': '12.5',
      'x-ratelimit-reset': String(NOW_S + 8),
    };
    expect(wait(ALL, headers, { retry_after: 20 })).toBe(20_000);
    expect(wait(ALL, headers, { retry_after: 1 })).toBe(12_500);
  });
  it('reads only the signals the catalogue lists', () => {
    const headers = { 'retry-after': '5', 'x-ratelimit-reset-after': '99', 'ratelimit-reset': '77' };
    expect(wait(['retry-after'], headers, { retry_after: 500 })).toBe(5_000);
    expect(wait(PROVIDERS.spotify.rateLimit.signals, headers, { retry_after: 500 })).toBe(5_000);
    expect(wait(PROVIDERS.fathom.rateLimit.signals, headers)).toBe(77_000);
    expect(wait(PROVIDERS.discord.rateLimit.signals, headers, { retry_after: 500 })).toBe(500_000);
    expect(wait([], headers, { retry_after: 500 }, 42)).toBe(42);
  });
  it('matches header names case-insensitively and reads every value of a repeated header', () => {
    expect(wait(['retry-after'], { 'Retry-After': '7' })).toBe(7_000);
    expect(wait(['retry-after'], { 'retry-after': ['3', 'garbage', '9'] })).toBe(9_000);
  });
  it('falls back to the default when no listed signal is present', () => {
    expect(wait(ALL, {})).toBe(60_000);
    expect(wait(ALL, {}, undefined, 15_000)).toBe(15_000);
    expect(wait(ALL, { 'content-type': 'application/json' }, { error: 'x' })).toBe(60_000);
  });
  it('ignores garbage values and falls back to the default', () => {
    const garbage = {
      'retry-after': 'a while',
      'ratelimit-reset': 'NaN',
      'x-ratelimit-reset-after': 'Infinity',
      'x-ratelimit-reset': '',
    };
    expect(wait(ALL, garbage, { retry_after: 'soon' })).toBe(60_000);
    expect(wait(ALL, {}, 'not an object')).toBe(60_000);
    expect(wait(ALL, {}, [{ retry_after: 5 }])).toBe(60_000);
    expect(wait(ALL, {}, { retry_after: Number.NaN })).toBe(60_000);
  });
  it('ignores negative, zero and past waits', () => {
    expect(wait(['retry-after'], { 'retry-after': '-30' })).toBe(60_000);
    expect(wait(['retry-after'], { 'retry-after': '0' })).toBe(60_000);
    expect(wait(['retry-after'], { 'retry-after': 'Mon, 10 Mar 2025 11:59:00 GMT' })).toBe(60_000);
    expect(wait(['x-ratelimit-reset-epoch'], { 'x-ratelimit-reset': String(NOW_S - 10) })).toBe(60_000);
    expect(wait(['json-retry_after'], {}, { retry_after: -4 })).toBe(60_000);
    // a past value does not hide a valid one
    expect(wait(ALL, { 'retry-after': '-30', 'ratelimit-reset': '4' })).toBe(4_000);
  });
});

describe('isRateLimited', () => {
  it('treats a 429 as a rate limit for every provider', () => {
    for (const spec of Object.values(PROVIDERS))
      expect(isRateLimited(429, {}, undefined, spec!.rateLimit)).toBe(true);
  });
  it('treats GitHub 403 with x-ratelimit-remaining: 0 as a rate limit, and other 403s not', () => {
    const gh = PROVIDERS.github_app.rateLimit;
    expect(isRateLimited(403, { 'x-ratelimit-remaining': '0' }, undefined, gh)).toBe(true);
    expect(isRateLimited(403, { 'x-ratelimit-remaining': '12' }, undefined, gh)).toBe(false);
    expect(isRateLimited(403, {}, undefined, gh)).toBe(false);
    // a provider whose catalogue does not say so
    expect(isRateLimited(403, { 'x-ratelimit-remaining': '0' }, undefined, PROVIDERS.discord.rateLimit)).toBe(
      false,
    );
  });
  it('treats Google 403 with a quota reason in error.errors[] as a rate limit, and other 403s not', () => {
    const google = PROVIDERS.google.rateLimit;
    const body = (reason: string) => ({ error: { code: 403, errors: [{ reason: 'other' }, { reason }] } });
    expect(isRateLimited(403, {}, body('rateLimitExceeded'), google)).toBe(true);
    expect(isRateLimited(403, {}, body('userRateLimitExceeded'), google)).toBe(true);
    expect(isRateLimited(403, {}, body('insufficientPermissions'), google)).toBe(false);
    expect(isRateLimited(403, {}, { error: 'access_denied' }, google)).toBe(false);
    expect(isRateLimited(403, {}, undefined, google)).toBe(false);
    expect(isRateLimited(403, {}, body('rateLimitExceeded'), PROVIDERS.spotify.rateLimit)).toBe(false);
  });
  it('never treats other statuses as rate limits', () => {
    const gh = PROVIDERS.github_app.rateLimit;
    for (const status of [200, 400, 401, 404, 500, 503]) {
      expect(isRateLimited(status, { 'x-ratelimit-remaining': '0', 'retry-after': '5' }, undefined, gh)).toBe(
        false,
      );
    }
  });
});
