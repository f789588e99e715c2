import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProviderKey, TokenEndpointOutcome } from '@conduit/core';
import { runRecoverySweep } from '../src/index.ts';
import { createHarness, waitFor, type Harness } from './support/harness.ts';

// Classify, then act (DESIGN rule 4), against the sandbox's real answers.
let h: Harness;
/** token-endpoint outcomes as the refresh path saw them, in order, with when they arrived */
const seen: Array<{ provider: ProviderKey; kind: TokenEndpointOutcome['kind']; at: number }> = [];
/** run after an outcome is seen and before the refresh path acts on it */
let afterOutcome: ((o: TokenEndpointOutcome, provider: ProviderKey) => Promise<void>) | null = null;

beforeAll(async () => {
  h = await createHarness({ policy: { baseDelayMs: 100, maxDelayMs: 400, maxAttempts: 3 } });
  const real = h.deps.tokens;
  h.deps.tokens = {
    async refresh(provider, refreshToken, opts) {
      const outcome = await real.refresh(provider, refreshToken, opts);
      seen.push({ provider, kind: outcome.kind, at: Date.now() });
      if (afterOutcome) await afterOutcome(outcome, provider);
      return outcome;
    },
  };
});

afterAll(async () => {
  await h?.close();
});

async function setFault(body: Record<string, unknown>) {
  await h.sandboxPost('/_sandbox/faults', body);
}

async function clearFaults() {
  await fetch(`${h.sandbox.url}/_sandbox/faults`, { method: 'DELETE' });
}

function outcomesFor(provider: ProviderKey) {
  return seen.filter((s) => s.provider === provider).map((s) => s.kind);
}

async function report() {
  return h.sandboxGet<{ providers: Record<string, { counts: Record<string, number> }> }>('/_sandbox/report');
}

describe('refresh › classify, then act', () => {
  it('5xx twice then success: two backoffs, then connected, without using BullMQ attempts', async () => {
    const [c] = await h.seed('fathom', 1, { expiresInMs: 60_000 });
    await setFault({ provider: 'fathom', endpoint: 'token', rate5xx: 1 });
    let failures = 0;
    afterOutcome = async (o, p) => {
      if (p === 'fathom' && o.kind === 'transient' && ++failures === 2) await clearFaults();
    };
    h.startWorker('fathom');
    await h.queues.enqueueRefresh('fathom', c!.connectionId, 'sweep');
    const row = await waitFor(async () => {
      const r = await h.connections.findById(c!.connectionId);
      return r?.lastRefreshAt ? r : null;
    });
    afterOutcome = null;
    expect(outcomesFor('fathom')).toEqual(['transient', 'transient', 'tokens']);
    const retries = h.outcomes.filter((o) => o.provider === 'fathom').map((o) => o.outcome);
    expect(retries).toEqual(['retry', 'retry', 'refreshed']);
    const times = seen.filter((s) => s.provider === 'fathom').map((s) => s.at);
    // Equal jitter: each backoff is at least half its step (100 ms, then 200 ms).
    expect(times[1]! - times[0]!).toBeGreaterThanOrEqual(50);
    expect(times[2]! - times[1]!).toBeGreaterThanOrEqual(100);
    expect(row.status).toBe('connected');
    expect(row.failureCount).toBe(0);
    expect(row.failingSince).toBeNull();
    const jobs = await waitFor(async () => {
      const done = await h.queues.refresh('fathom').getJobs(['completed']);
      return done.length ? done : null;
    });
    expect(jobs[0]!.attemptsMade).toBeLessThanOrEqual(1);
  });

  it('invalid_grant (revoked in the sandbox) → needs_reauth, with its event and a notification', async () => {
    const [c] = await h.seed('spotify', 1, { expiresInMs: 60_000 });
    await h.sandboxPost(`/_sandbox/grants/${c!.grant.grantId}/revoke`, {});
    h.startWorker('spotify');
    await h.queues.enqueueRefresh('spotify', c!.connectionId, 'sweep');
    const row = await waitFor(async () => {
      const r = await h.connections.findById(c!.connectionId);
      return r?.status === 'needs_reauth' ? r : null;
    });
    expect(row.statusReason).toMatch(/invalid_grant/);
    const events = await h.db.connectionEvent.findMany({ where: { connectionId: c!.connectionId } });
    expect(events.map((e) => [e.from, e.to])).toEqual([['connected', 'needs_reauth']]);
    const notes = await h.db.notification.findMany({ where: { connectionId: c!.connectionId } });
    expect(notes.map((n) => n.type)).toEqual(['connection.needs_reauth']);
    expect(JSON.stringify(notes[0]!.payload)).not.toContain(c!.grant.refreshToken!);
  });

  it('invalid_client (a bad client secret) → error and an operator alert; the lane pauses after repeats', async () => {
    const seeded = await h.seed('github_app', 3, { expiresInMs: 60_000 });
    await h.sandboxPost('/_sandbox/clients/github_app/secret', { secret: 'rotated-by-someone-else' });
    for (const c of seeded) await h.queues.enqueueRefresh('github_app', c.connectionId, 'sweep');
    h.startWorker('github_app', { concurrency: 1 });
    await waitFor(async () => {
      const rows = await h.db.connection.findMany({
        where: { id: { in: seeded.map((s) => s.connectionId) } },
      });
      return rows.every((r) => r.status === 'error') ? rows : null;
    });
    // The lane closes once the third refusal has been counted (just after its status is written).
    const gate = await waitFor(() => h.deps.gate.state('github_app'), 5_000, 'the github_app lane to close');
    expect(gate).toMatchObject({ reason: 'invalid_client' });
    // One alert per provider and hour, however many connections were refused.
    const alerts = await h.db.notification.findMany({ where: { type: 'provider.credentials_invalid' } });
    expect(alerts).toHaveLength(1);
    // No other lane is touched.
    expect(await h.deps.gate.remainingMs('google')).toBe(0);
    await h.deps.gate.open('github_app');
    await h.sandboxPost('/_sandbox/clients/github_app/secret', { secret: 'sandbox-secret-github_app' });
  });

  it('connections left in error by a bad secret come back once it is fixed (recovery sweep)', async () => {
    const inError = await h.db.connection.findMany({ where: { provider: 'github_app', status: 'error' } });
    expect(inError.length).toBeGreaterThan(0);
    const report = await runRecoverySweep(
      { connections: h.connections, queues: h.queues },
      { minAgeMs: 0, batchSize: 2 },
      new Date(Date.now() + 1_000),
    );
    expect(report.enqueued).toBe(inError.length);
    const rows = await waitFor(async () => {
      const r = await h.db.connection.findMany({ where: { id: { in: inError.map((c) => c.id) } } });
      return r.every((c) => c.status === 'connected') ? r : null;
    });
    expect(rows).toHaveLength(inError.length);
    const recovered = await h.db.notification.count({
      where: { type: 'connection.recovered', connectionId: { in: inError.map((c) => c.id) } },
    });
    expect(recovered).toBe(inError.length);
  });

  it('a network blip (dropped connections) never yields needs_reauth', async () => {
    const [c] = await h.seed('google', 1, { expiresInMs: 60_000 });
    await setFault({ provider: 'google', endpoint: 'token', dropRate: 1 });
    let drops = 0;
    afterOutcome = async (o, p) => {
      if (p === 'google' && o.kind === 'transient' && ++drops === 3) await clearFaults();
    };
    h.startWorker('google');
    await h.queues.enqueueRefresh('google', c!.connectionId, 'sweep');
    const row = await waitFor(async () => {
      const r = await h.connections.findById(c!.connectionId);
      return r?.lastRefreshAt ? r : null;
    });
    afterOutcome = null;
    expect(outcomesFor('google').slice(0, 3)).toEqual(['transient', 'transient', 'transient']);
    expect(row.status).toBe('connected');
    const events = await h.db.connectionEvent.count({ where: { connectionId: c!.connectionId } });
    expect(events).toBe(0);
  });

  it('429 with Retry-After: 3 → no request to that provider for 3 s, no attempt used, other lanes unaffected', async () => {
    const [slow] = await h.seed('discord', 1, { expiresInMs: 60_000 });
    const [other] = await h.seed('fathom', 1, { expiresInMs: 60_000 });
    await setFault({ provider: 'discord', endpoint: 'token', rate429: 1, retryAfterSeconds: 3 });
    afterOutcome = async (o, p) => {
      if (p === 'discord' && o.kind === 'rate_limited') await clearFaults();
    };
    const before = seen.length;
    h.startWorker('discord');
    await h.queues.enqueueRefresh('discord', slow!.connectionId, 'sweep');
    await waitFor(async () =>
      seen.slice(before).some((s) => s.provider === 'discord' && s.kind === 'rate_limited'),
    );
    await h.queues.enqueueRefresh('fathom', other!.connectionId, 'sweep');
    await waitFor(async () => (await h.connections.findById(other!.connectionId))?.lastRefreshAt);
    const row = await waitFor(async () => {
      const r = await h.connections.findById(slow!.connectionId);
      return r?.lastRefreshAt ? r : null;
    }, 15_000);
    afterOutcome = null;
    const discord = seen.slice(before).filter((s) => s.provider === 'discord');
    expect(discord.map((s) => s.kind)).toEqual(['rate_limited', 'tokens']);
    expect(discord[1]!.at - discord[0]!.at).toBeGreaterThanOrEqual(2_900);
    // The Fathom lane did not wait for Discord's Retry-After: it got its tokens while Discord was
    // still waiting (measured against Discord's own retry, which a loaded machine delays alike,
    // not against a fixed number of seconds).
    const fathom = seen.slice(before).find((s) => s.provider === 'fathom' && s.kind === 'tokens');
    expect(fathom!.at).toBeLessThan(discord[1]!.at);
    expect(row.status).toBe('connected');
    // The row is written inside the job, just before BullMQ records the job as completed.
    const [job] = await waitFor(async () => {
      const jobs = await h.queues.refresh('discord').getJobs(['completed']);
      return jobs.length ? jobs : null;
    });
    expect(job!.attemptsMade).toBeLessThanOrEqual(1);
    expect((await report()).providers.discord!.counts.earlyRequests).toBe(0);
  });
});
