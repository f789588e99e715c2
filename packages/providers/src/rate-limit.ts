// How long a provider asks us to wait, and whether an answer is a rate limit at all.
// Which signals count comes from the catalogue (`spec.rateLimit`), never from the provider's name.
import type { NamedRateLimitSignal, RateLimitSignal, RateLimitSpec, WaitFormat } from '@conduit/core';
import { headerValue, headerValues } from './http-headers.ts';
import type { HttpHeaders } from './http-headers.ts';
import { parseHttpDate } from './http-date.ts';
import { isRecord } from './json.ts';

export interface RateLimitWaitInput {
  /** The signals the provider's catalogue entry lists; others are ignored even when present. */
  signals: readonly RateLimitSignal[];
  headers: HttpHeaders;
  /** The parsed JSON body, if any. */
  body: unknown;
  now: Date;
  /** Returned when no listed signal gives a usable wait (DESIGN rule 4: 60 s by default). */
  defaultMs: number;
}

/** A plain non-negative decimal ("30", "64.57"); anything else (signs, units, exponents) is garbage. */
const DECIMAL = /^\d+(?:\.\d+)?$/;

function decimal(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value !== 'string') return undefined;
  const text = value.trim();
  return DECIMAL.test(text) ? Number(text) : undefined;
}

/** `Retry-After`: delta-seconds or an HTTP-date (RFC 9110 §10.2.3). */
export function parseRetryAfter(value: string, now: Date): number | undefined {
  const seconds = decimal(value);
  if (seconds !== undefined) return seconds * 1000;
  const at = parseHttpDate(value, now);
  return at === undefined ? undefined : at - now.getTime();
}

type SignalReader = (input: RateLimitWaitInput) => (number | undefined)[];

const secondsHeader =
  (name: string): SignalReader =>
  ({ headers }) =>
    headerValues(headers, name).map((v) => {
      const s = decimal(v);
      return s === undefined ? undefined : s * 1000;
    });

const NAMED: Readonly<Record<NamedRateLimitSignal, SignalReader>> = {
  'retry-after': ({ headers, now }) =>
    headerValues(headers, 'retry-after').map((v) => parseRetryAfter(v, now)),
  'ratelimit-reset-seconds': secondsHeader('ratelimit-reset'),
  'x-ratelimit-reset-after-seconds': secondsHeader('x-ratelimit-reset-after'),
  'x-ratelimit-reset-epoch': ({ headers, now }) =>
    headerValues(headers, 'x-ratelimit-reset').map((v) => {
      const epochSeconds = decimal(v);
      return epochSeconds === undefined ? undefined : epochSeconds * 1000 - now.getTime();
    }),
  'json-retry_after': ({ body }) => [isRecord(body) ? decimalSeconds(body.retry_after) : undefined],
};

/** A declared header or JSON field, read in the format the declaration gives. */
function readerOf(signal: RateLimitSignal): SignalReader {
  if (typeof signal === 'string') return NAMED[signal];
  if ('json' in signal) {
    return ({ body }) => [isRecord(body) ? decimalSeconds(body[signal.json]) : undefined];
  }
  const format: WaitFormat = signal.format;
  return ({ headers, now }) =>
    headerValues(headers, signal.header.toLowerCase()).map((v) => {
      if (format === 'retry-after') return parseRetryAfter(v, now);
      const n = decimal(v);
      if (n === undefined) return undefined;
      return format === 'epoch-seconds' ? n * 1000 - now.getTime() : n * 1000;
    });
}

function decimalSeconds(value: unknown): number | undefined {
  const s = decimal(value);
  return s === undefined ? undefined : s * 1000;
}

/**
 * The longest wait, in whole milliseconds, that the provider's listed signals indicate, or
 * `defaultMs` when none does. Zero, negative and past waits are no hint: a 429 that says
 * "now" is still a 429, and hammering gets clients banned (Discord bans IPs).
 */
export function rateLimitWaitMs(input: RateLimitWaitInput): number {
  let longest = 0;
  for (const signal of new Set(input.signals)) {
    for (const ms of readerOf(signal)(input)) {
      if (ms !== undefined && Number.isFinite(ms) && ms > longest) longest = ms;
    }
  }
  return longest > 0 ? Math.ceil(longest) : input.defaultMs;
}

/**
 * Whether an answer is a rate limit: a 429 always; a 403 only when the catalogue says so
 * (GitHub: `x-ratelimit-remaining: 0`; Google: `error.errors[].reason` of a quota kind).
 */
export function isRateLimited(
  status: number,
  headers: HttpHeaders,
  body: unknown,
  spec: RateLimitSpec,
): boolean {
  if (status === 429) return true;
  if (status !== 403) return false;
  if (spec.forbiddenIsRateLimitWhenRemainingZero) {
    const remaining = decimal(headerValue(headers, 'x-ratelimit-remaining'));
    if (remaining === 0) return true;
  }
  if (spec.forbiddenRateLimitReasons.length > 0) {
    const reasons = errorReasons(body);
    if (reasons.some((r) => spec.forbiddenRateLimitReasons.includes(r))) return true;
  }
  return false;
}

/** `{"error":{"errors":[{"reason":…}]}}` (Google's API error shape). */
function errorReasons(body: unknown): string[] {
  if (!isRecord(body) || !isRecord(body.error) || !Array.isArray(body.error.errors)) return [];
  return body.error.errors.flatMap((e: unknown) =>
    isRecord(e) && typeof e.reason === 'string' ? [e.reason] : [],
  );
}
