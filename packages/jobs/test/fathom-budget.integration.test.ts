import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROVIDERS } from '@conduit/core';
import { FathomClient } from '@conduit/providers';
import { startSandbox, type Sandbox } from '@conduit/sandbox';
import { testPrefix, TEST_REDIS_URL } from '@conduit/testing';
import { AccountBudget, createRedis } from '../src/index.ts';

// Fathom's budget shrunk to 4 calls per 500 ms, so the limiter's behaviour shows in a second.
const BUDGET = { requests: 4, windowSeconds: 0.5 };
let sandbox: Sandbox;
let client: FathomClient;
const redis = createRedis(TEST_REDIS_URL);
const prefix = `{${testPrefix('budget')}}:budget`;

beforeAll(async () => {
  sandbox = await startSandbox({ port: 0, accountBudgets: { fathom: BUDGET } });
  client = new FathomClient({
    apiBaseUrl: `${sandbox.url}${PROVIDERS.fathom.sandboxPaths.apiBaseUrl}`,
    timeouts: { connectMs: 1_000, headersMs: 3_000, bodyMs: 3_000 },
    rateLimitDefaultWaitMs: 60_000,
  });
});

afterAll(async () => {
  await client?.close();
  await sandbox?.close();
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length) await redis.del(...keys);
  redis.disconnect();
});

async function grant(email: string) {
  const res = await fetch(`${sandbox.url}/_sandbox/grants`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ provider: 'fathom', email }),
  });
  return ((await res.json()) as { grants: Array<{ accessToken: string }> }).grants[0]!;
}

async function report() {
  const res = await fetch(`${sandbox.url}/_sandbox/report`);
  return (
    (await res.json()) as {
      providers: { fathom: { counts: { earlyRequests: number }; traffic: { rateLimited: number } } };
    }
  ).providers.fathom;
}

describe('fathom › per-account request budget', () => {
  it('several workers sharing one account through Redis stay within the budget: no 429, no early request', async () => {
    const { accessToken } = await grant('budget.shared@acme.test');
    // Three limiter instances: as if three worker processes.
    const budgets = [0, 1, 2].map(
      () => new AccountBudget(redis, prefix, { requests: 4, windowMs: 500, marginMs: 100 }),
    );
    const outcomes: string[] = [];
    const started = Date.now();
    await Promise.all(
      budgets.map(async (budget) => {
        for (let i = 0; i < 4; i++) {
          for (
            let wait = await budget.take('fathom:shared');
            wait > 0;
            wait = await budget.take('fathom:shared')
          ) {
            await sleep(wait);
          }
          outcomes.push((await client.listTeamMembers(accessToken)).kind);
        }
      }),
    );
    expect(outcomes).toEqual(Array(12).fill('ok'));
    // 12 calls at 4 per (500 + 100) ms: the third group cannot start before 1.2 s.
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_150);
    expect(await report()).toMatchObject({ counts: { earlyRequests: 0 }, traffic: { rateLimited: 0 } });
  });

  it('after a 429 the account is paused for the wait Fathom gave, for every worker', async () => {
    const { accessToken } = await grant('budget.paused@acme.test');
    const budget = new AccountBudget(redis, prefix, { requests: 100, windowMs: 60_000, marginMs: 0 });
    await fetch(`${sandbox.url}/_sandbox/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ provider: 'fathom', endpoint: 'api', rate429: 1, retryAfterSeconds: 1 }),
    });
    expect(await budget.take('fathom:paused')).toBe(0);
    const limited = await client.listMeetings(accessToken);
    expect(limited).toEqual({ kind: 'rate_limited', waitMs: 1_000, status: 429 });
    await budget.pause('fathom:paused', 1_000);
    await fetch(`${sandbox.url}/_sandbox/faults`, { method: 'DELETE' });
    const other = new AccountBudget(redis, prefix, { requests: 100, windowMs: 60_000, marginMs: 0 });
    const wait = await other.take('fathom:paused');
    expect(wait).toBeGreaterThan(900);
    expect(wait).toBeLessThanOrEqual(1_000);
    expect(await other.take('fathom:another-account')).toBe(0);
    await sleep(wait);
    expect(await other.take('fathom:paused')).toBe(0);
    expect((await client.listMeetings(accessToken)).kind).toBe('ok');
    expect((await report()).counts.earlyRequests).toBe(0);
  });

  it('requests made outside the budget (at connect time) are counted', async () => {
    const budget = new AccountBudget(redis, prefix, { requests: 3, windowMs: 60_000, marginMs: 0 });
    await budget.note('fathom:noted', 2);
    expect(await budget.take('fathom:noted')).toBe(0);
    expect(await budget.take('fathom:noted')).toBeGreaterThan(59_000);
  });
});
