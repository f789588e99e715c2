import { describe, expect, it } from 'vitest';
import type { RefreshContext, RefreshDecision, TokenEndpointOutcome } from '../src/refresh/index.ts';
import {
  DEFAULT_RETRY_POLICY,
  backoffDelay,
  decideRefresh,
  defineRetryPolicy,
} from '../src/refresh/index.ts';
import { transition } from '../src/status/index.ts';

const NOW = new Date('2026-11-21T12:00:00.000Z');
const HOUR = 3_600_000;
const at = (offsetMs: number): Date => new Date(NOW.getTime() + offsetMs);

function ctx(overrides: Partial<RefreshContext> = {}): RefreshContext {
  return {
    attemptsMade: 0,
    failingSince: null,
    accessTokenExpiresAt: at(10 * 60_000),
    currentStatus: 'connected',
    now: NOW,
    policy: DEFAULT_RETRY_POLICY,
    random: () => 0.5,
    ...overrides,
  };
}

const TIMEOUT: TokenEndpointOutcome = { kind: 'transient', cause: 'timeout', detail: 'no response in 10 s' };
const SERVER_ERROR: TokenEndpointOutcome = {
  kind: 'transient',
  cause: 'server_error',
  status: 503,
  detail: 'upstream',
};
const NETWORK: TokenEndpointOutcome = { kind: 'transient', cause: 'network', detail: 'ECONNRESET' };

describe('refresh › 2xx with tokens', () => {
  it('stores the tokens and the connection is connected, with expiries computed from now', () => {
    const decision = decideRefresh(
      {
        kind: 'tokens',
        accessToken: 'at',
        refreshToken: 'rt',
        expiresInSeconds: 3600,
        refreshTokenExpiresInSeconds: 15_897_600,
      },
      ctx(),
    );
    expect(decision).toEqual({
      action: 'store_tokens',
      status: 'connected',
      accessTokenExpiresAt: at(HOUR),
      refreshTokenRotated: true,
      refreshTokenExpiresAt: at(15_897_600_000),
    });
  });

  it('a response without a refresh token keeps the stored one (Spotify, Google)', () => {
    const decision = decideRefresh({ kind: 'tokens', accessToken: 'at', expiresInSeconds: 3599 }, ctx());
    expect(decision).toMatchObject({ refreshTokenRotated: false, refreshTokenExpiresAt: 'unchanged' });
  });

  it('a response without expires_in, or with nonsense, yields no access-token expiry rather than a guess', () => {
    for (const expiresInSeconds of [undefined, -5, Number.NaN, Number.POSITIVE_INFINITY]) {
      const decision = decideRefresh({ kind: 'tokens', accessToken: 'at', expiresInSeconds }, ctx());
      expect(decision).toMatchObject({ action: 'store_tokens', accessTokenExpiresAt: null });
    }
  });

  it('succeeds from token_expired and from error alike', () => {
    for (const currentStatus of ['token_expired', 'error'] as const) {
      expect(decideRefresh({ kind: 'tokens', accessToken: 'at' }, ctx({ currentStatus })).action).toBe(
        'store_tokens',
      );
    }
  });

  it('a decision never carries token values, so it can be logged whole', () => {
    const decision = decideRefresh(
      { kind: 'tokens', accessToken: 'secret-at', refreshToken: 'secret-rt' },
      ctx(),
    );
    expect(JSON.stringify(decision)).not.toMatch(/secret-/);
  });
});

describe('refresh › invalid_grant', () => {
  it('marks needs_reauth and notifies the user, without retrying', () => {
    const decision = decideRefresh(
      { kind: 'invalid_grant', error: 'invalid_grant', description: 'Refresh token revoked', status: 400 },
      ctx({ attemptsMade: 1 }),
    );
    expect(decision).toEqual({
      action: 'mark',
      status: 'needs_reauth',
      notify: 'connection.needs_reauth',
      cause: {
        kind: 'refresh_rejected',
        error: 'invalid_grant',
        description: 'Refresh token revoked',
        status: 400,
      },
      reason:
        'provider rejected the refresh token (HTTP 400 invalid_grant: Refresh token revoked); the user must reconnect',
    });
  });

  it('its cause is one the status machine accepts for connected → needs_reauth', () => {
    const decision = decideRefresh({ kind: 'invalid_grant', error: 'invalid_grant', status: 400 }, ctx());
    if (decision.action !== 'mark') throw new Error(`expected mark, got ${decision.action}`);
    const result = transition('connected', decision.status, decision.cause, NOW);
    expect(result).toMatchObject({ ok: true, changed: true, event: { reason: decision.reason } });
  });
});

describe('refresh › invalid_client', () => {
  it('marks error and alerts the operator, without retrying or bothering the user', () => {
    const decision = decideRefresh(
      { kind: 'invalid_client', error: 'invalid_client', description: 'Unauthorized', status: 401 },
      ctx(),
    );
    expect(decision).toEqual({
      action: 'mark',
      status: 'error',
      alert: 'provider.credentials_invalid',
      cause: { kind: 'client_rejected', error: 'invalid_client', description: 'Unauthorized', status: 401 },
      reason:
        'provider rejected our client credentials (HTTP 401 invalid_client: Unauthorized); an operator must fix the client id/secret',
    });
    expect(decision).not.toHaveProperty('notify');
  });
});

describe('refresh › 429', () => {
  it('waits as long as the provider said, slows the whole provider, and does not use an attempt', () => {
    expect(decideRefresh({ kind: 'rate_limited', waitMs: 64_570, status: 429 }, ctx())).toEqual({
      action: 'wait_rate_limit',
      delayMs: 64_570,
      countsAsAttempt: false,
      throttleProvider: true,
    });
  });

  it('waits the default 60 s when the provider gave no usable wait', () => {
    for (const waitMs of [0, -1, Number.NaN]) {
      expect(decideRefresh({ kind: 'rate_limited', waitMs, status: 429 }, ctx())).toMatchObject({
        delayMs: 60_000,
      });
    }
  });

  it('never consumes an attempt, even when every retry is already used', () => {
    const decision = decideRefresh(
      { kind: 'rate_limited', waitMs: 1_500, status: 429 },
      ctx({ attemptsMade: DEFAULT_RETRY_POLICY.maxAttempts }),
    );
    expect(decision).toMatchObject({ action: 'wait_rate_limit', countsAsAttempt: false });
  });

  it('leaves the status unchanged, even when the access token has lapsed or failures are old', () => {
    const decision = decideRefresh(
      { kind: 'rate_limited', waitMs: 0, status: 429 },
      ctx({ accessTokenExpiresAt: at(-60_000), failingSince: at(-48 * HOUR) }),
    );
    expect(decision.action).toBe('wait_rate_limit');
  });

  it('rounds a fractional wait up, never down to a shorter wait than asked', () => {
    expect(decideRefresh({ kind: 'rate_limited', waitMs: 1_000.2, status: 429 }, ctx())).toMatchObject({
      delayMs: 1_001,
    });
  });
});

describe('refresh › 5xx, timeout, network', () => {
  it.each([
    ['a 503', SERVER_ERROR],
    ['a timeout', TIMEOUT],
    ['a network error', NETWORK],
  ])('%s is retried with backoff, status unchanged', (_, outcome) => {
    expect(decideRefresh(outcome, ctx())).toEqual({
      action: 'retry',
      delayMs: 750,
      attempt: 1,
      failingSince: NOW,
      markTokenExpired: false,
    });
  });

  it('retries wait ≈1 s, 2 s, 4 s, then give up for now with a 15 min cooldown', () => {
    const decisions = [0, 1, 2, 3].map((attemptsMade) =>
      decideRefresh(TIMEOUT, ctx({ attemptsMade, random: () => 0.999 })),
    );
    expect(decisions.map((d) => (d.action === 'retry' ? d.delayMs : d.action))).toEqual([
      999,
      1_999,
      3_998,
      'give_up_for_now',
    ]);
    expect(decisions[3]).toEqual({
      action: 'give_up_for_now',
      cooldownMs: 15 * 60_000,
      notBefore: at(15 * 60_000),
      failingSince: NOW,
      markTokenExpired: false,
    });
  });

  it('retry numbers count up from 1 and keep the first failure time', () => {
    const since = at(-5_000);
    expect(decideRefresh(SERVER_ERROR, ctx({ attemptsMade: 2, failingSince: since }))).toMatchObject({
      action: 'retry',
      attempt: 3,
      failingSince: since,
    });
  });

  it('a connected connection whose access token lapsed meanwhile becomes token_expired', () => {
    const expired = ctx({ accessTokenExpiresAt: at(-1), attemptsMade: 3 });
    expect(decideRefresh(NETWORK, expired)).toMatchObject({
      action: 'give_up_for_now',
      markTokenExpired: true,
    });
    expect(decideRefresh(NETWORK, { ...expired, attemptsMade: 0 })).toMatchObject({
      action: 'retry',
      markTokenExpired: true,
    });
  });

  it('an access token expiring exactly now counts as lapsed', () => {
    expect(decideRefresh(NETWORK, ctx({ accessTokenExpiresAt: NOW }))).toMatchObject({
      markTokenExpired: true,
    });
  });

  it('a token_expired or error connection is not marked token_expired again', () => {
    for (const currentStatus of ['token_expired', 'error'] as const) {
      const decision = decideRefresh(
        NETWORK,
        ctx({ currentStatus, accessTokenExpiresAt: at(-HOUR), attemptsMade: 3 }),
      );
      expect(decision).toMatchObject({ action: 'give_up_for_now', markTokenExpired: false });
    }
  });

  it('an access token without an expiry never counts as lapsed', () => {
    expect(decideRefresh(NETWORK, ctx({ accessTokenExpiresAt: null, attemptsMade: 3 }))).toMatchObject({
      markTokenExpired: false,
    });
  });

  it('a network blip never yields needs_reauth, at any attempt or age', () => {
    const actions = new Set<string>();
    for (const outcome of [TIMEOUT, SERVER_ERROR, NETWORK]) {
      for (const attemptsMade of [0, 1, 2, 3, 10]) {
        for (const failingSince of [null, at(-HOUR), at(-25 * HOUR)]) {
          const decision = decideRefresh(
            outcome,
            ctx({ attemptsMade, failingSince, accessTokenExpiresAt: at(-1) }),
          );
          expect(decision).not.toMatchObject({ status: 'needs_reauth' });
          actions.add(decision.action);
        }
      }
    }
    expect([...actions].sort()).toEqual(['give_up_for_now', 'mark', 'retry']);
  });
});

describe('refresh › failing for longer than 24 h', () => {
  it('marks error (not needs_reauth) and alerts, with the first failure and the last error in the reason', () => {
    const since = at(-24 * HOUR - 1);
    expect(decideRefresh(SERVER_ERROR, ctx({ failingSince: since }))).toEqual({
      action: 'mark',
      status: 'error',
      alert: 'connection.refresh_failing',
      cause: { kind: 'transient_failures_exceeded', since, lastError: 'server_error (HTTP 503): upstream' },
      reason:
        'token refresh has failed transiently since 2026-11-20T11:59:59.999Z (last error: server_error (HTTP 503): upstream)',
    });
  });

  it('exactly 24 h of failures is still tolerated', () => {
    expect(decideRefresh(TIMEOUT, ctx({ failingSince: at(-24 * HOUR) })).action).toBe('retry');
  });

  it('the limit wins over remaining retries', () => {
    expect(decideRefresh(TIMEOUT, ctx({ attemptsMade: 0, failingSince: at(-30 * HOUR) }))).toMatchObject({
      action: 'mark',
      status: 'error',
    });
  });

  it('the limit comes from the policy', () => {
    const policy = defineRetryPolicy({ transientFailureLimitMs: HOUR });
    expect(decideRefresh(TIMEOUT, ctx({ policy, failingSince: at(-HOUR - 1) }))).toMatchObject({
      status: 'error',
    });
  });

  it('its cause is one the status machine accepts from token_expired', () => {
    const decision = decideRefresh(TIMEOUT, ctx({ failingSince: at(-25 * HOUR) }));
    if (decision.action !== 'mark') throw new Error(`expected mark, got ${decision.action}`);
    expect(transition('token_expired', decision.status, decision.cause, NOW).ok).toBe(true);
  });
});

describe('refresh › other 4xx', () => {
  it('marks needs_reauth and notifies, without retrying', () => {
    const decision = decideRefresh(
      { kind: 'rejected', error: 'invalid_scope', description: 'scope revoked', status: 400 },
      ctx(),
    );
    expect(decision).toMatchObject({
      action: 'mark',
      status: 'needs_reauth',
      notify: 'connection.needs_reauth',
      cause: { kind: 'refresh_rejected', error: 'invalid_scope', description: 'scope revoked', status: 400 },
    });
  });

  it('a 4xx without an error code is named by its status', () => {
    const decision = decideRefresh({ kind: 'rejected', status: 403 }, ctx());
    expect(decision).toMatchObject({
      cause: { kind: 'refresh_rejected', error: 'http_403', status: 403 },
      reason: 'provider rejected the refresh token (HTTP 403 http_403); the user must reconnect',
    });
  });
});

describe('refresh › every outcome kind has a decision', () => {
  const outcomes: TokenEndpointOutcome[] = [
    { kind: 'tokens', accessToken: 'a' },
    { kind: 'invalid_grant', error: 'invalid_grant', status: 400 },
    { kind: 'invalid_client', error: 'invalid_client', status: 401 },
    { kind: 'rate_limited', waitMs: 0, status: 429 },
    TIMEOUT,
    { kind: 'rejected', status: 400 },
  ];
  const expected: Record<TokenEndpointOutcome['kind'], RefreshDecision['action']> = {
    tokens: 'store_tokens',
    invalid_grant: 'mark',
    invalid_client: 'mark',
    rate_limited: 'wait_rate_limit',
    transient: 'retry',
    rejected: 'mark',
  };
  it.each(outcomes.map((outcome) => ({ outcome, kind: outcome.kind })))(
    '$kind → its action',
    ({ outcome }) => {
      expect(decideRefresh(outcome, ctx()).action).toBe(expected[outcome.kind]);
    },
  );

  it('refuses a negative or fractional attemptsMade with a clear message', () => {
    expect(() => decideRefresh(TIMEOUT, ctx({ attemptsMade: -1 }))).toThrow(
      'decideRefresh: attemptsMade must be a whole number ≥ 0 (retries already used), got -1',
    );
    expect(() => decideRefresh(TIMEOUT, ctx({ attemptsMade: 0.5 }))).toThrow(RangeError);
  });
});

describe('refresh › backoff delay', () => {
  const policy = DEFAULT_RETRY_POLICY;

  it('with random = 0 a delay is exactly half the step: 500 ms, 1 s, 2 s', () => {
    expect([1, 2, 3].map((n) => backoffDelay(n, policy, () => 0))).toEqual([500, 1_000, 2_000]);
  });

  it('with random = 0.999 a delay stays just under the step: ≈1 s, 2 s, 4 s', () => {
    expect([1, 2, 3].map((n) => backoffDelay(n, policy, () => 0.999))).toEqual([999, 1_999, 3_998]);
  });

  it('any delay lies in [step / 2, step) and is never 0', () => {
    for (let attempt = 1; attempt <= 8; attempt += 1) {
      const step = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
      for (const r of [0, 0.25, 0.5, 0.75, 0.999_999]) {
        const delay = backoffDelay(attempt, policy, () => r);
        expect(delay).toBeGreaterThanOrEqual(step / 2);
        expect(delay).toBeLessThan(step);
        expect(delay).toBeGreaterThan(0);
      }
    }
  });

  it('the step is capped at 30 s, however many attempts', () => {
    expect(backoffDelay(6, policy, () => 0)).toBe(15_000);
    expect(backoffDelay(6, policy, () => 0.999)).toBe(29_985);
    expect(backoffDelay(1_000, policy, () => 0.999)).toBe(29_985);
  });

  it('a 1 ms base still never yields 0', () => {
    expect(backoffDelay(1, defineRetryPolicy({ baseDelayMs: 1 }), () => 0)).toBe(1);
  });

  it('refuses attempt numbers below 1 and random values outside [0, 1)', () => {
    expect(() => backoffDelay(0, policy, () => 0)).toThrow(
      'backoffDelay: attempt must be an integer ≥ 1 (the retry number), got 0',
    );
    expect(() => backoffDelay(1, policy, () => 1)).toThrow(
      'backoffDelay: random() must return a number in [0, 1), got 1',
    );
    expect(() => backoffDelay(1, policy, () => Number.NaN)).toThrow(RangeError);
  });
});

describe('refresh › retry policy', () => {
  it('defaults: 3 retries from 1 s, capped at 30 s; 60 s for an unhinted 429; 15 min cooldown; error after 24 h', () => {
    expect(DEFAULT_RETRY_POLICY).toEqual({
      maxAttempts: 3,
      baseDelayMs: 1_000,
      maxDelayMs: 30_000,
      rateLimitDefaultWaitMs: 60_000,
      cooldownMs: 900_000,
      transientFailureLimitMs: 86_400_000,
    });
    expect(Object.isFrozen(DEFAULT_RETRY_POLICY)).toBe(true);
  });

  it('maxAttempts comes from the policy; 0 gives up at the first transient failure', () => {
    const policy = defineRetryPolicy({ maxAttempts: 0 });
    expect(decideRefresh(TIMEOUT, ctx({ policy })).action).toBe('give_up_for_now');
  });

  it('defineRetryPolicy refuses bad values, naming each field', () => {
    expect(() => defineRetryPolicy({ baseDelayMs: 60_000 })).toThrow(
      /baseDelayMs: baseDelayMs must not exceed maxDelayMs/,
    );
    expect(() => defineRetryPolicy({ maxAttempts: -1, cooldownMs: 0.5 })).toThrow(
      /maxAttempts: .*; cooldownMs: /,
    );
    expect(() => defineRetryPolicy({ extra: 1 } as never)).toThrow(RangeError);
  });
});
