import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ProviderKey, providerSpec } from '@conduit/core';
import { createHarness, waitFor, type Harness } from './support/harness.ts';

let h: Harness;

beforeAll(async () => {
  h = await createHarness();
});

afterAll(async () => {
  await h?.close();
});

async function grantState(grantId: string) {
  return h.sandboxGet<{ refreshToken: string | null; lastRefreshAt: string | null; revoked: boolean }>(
    `/_sandbox/grants/${grantId}`,
  );
}

type AnomalyCounts = Record<
  'concurrentRefreshes' | 'reusedRefreshTokens' | 'earlyRequests' | 'expiredTokenCalls' | 'revokedTokenCalls',
  number
>;

function sandboxReport() {
  return h.sandboxGet<{
    anomalies: number;
    providers: Record<string, { anomalies: number; counts: AnomalyCounts }>;
  }>('/_sandbox/report');
}

describe('refresh › each provider end to end', () => {
  const refreshing = (['fathom', 'spotify', 'google', 'discord', 'github_app'] as const).filter(
    (p) => providerSpec(p).refresh.kind === 'refresh_token',
  );

  it.each(refreshing)(
    '%s: a due connection is refreshed by its lane and the new tokens are stored',
    async (provider) => {
      const [c] = await h.seed(provider, 1, { expiresInMs: 60_000 });
      const before = await h.connections.findById(c!.connectionId);
      h.startWorker(provider);
      await h.queues.enqueueRefresh(provider, c!.connectionId, 'sweep');
      const after = await waitFor(
        async () => {
          const row = await h.connections.findById(c!.connectionId);
          return row && row.version > before!.version ? row : null;
        },
        10_000,
        `${provider} refresh`,
      );
      expect(after.status).toBe('connected');
      expect(after.tokenExpiresAt!.getTime()).toBeGreaterThan(Date.now() + 10 * 60_000);
      const access = h.vault.decrypt(after.accessTokenEnc!);
      expect(access).not.toBe(c!.grant.accessToken);
      const refresh = h.vault.decrypt(after.refreshTokenEnc!);
      const sandboxState = await grantState(c!.grant.grantId);
      // What Conduit holds is exactly the sandbox's current valid refresh token.
      expect(refresh).toBe(sandboxState.refreshToken);
      const spec = providerSpec(provider as ProviderKey);
      if (spec.refresh.kind === 'refresh_token' && spec.refresh.rotation === 'always') {
        expect(refresh).not.toBe(c!.grant.refreshToken);
      }
      if (spec.refresh.kind === 'refresh_token' && spec.refresh.rotation === 'never') {
        // Google sends no refresh_token on refresh: the stored one is kept.
        expect(refresh).toBe(c!.grant.refreshToken);
      }
    },
  );

  it('github: OAuth-app tokens never expire, are never refreshed, and are returned as they are', async () => {
    const [c] = await h.seed('github', 1);
    const row = await h.connections.findById(c!.connectionId);
    expect(row!.tokenExpiresAt).toBeNull();
    expect(await h.accessTokens.getValidAccessToken(c!.connectionId)).toBe(c!.grant.accessToken);
  });
});

describe('refresh › one refresh per connection at a time', () => {
  it('50 concurrent getValidAccessToken calls plus a queued job make exactly one token request', async () => {
    const [c] = await h.seed('discord', 1, { expiresInMs: 30_000 });
    const before = await h.sandboxGet<{ refreshes: number }>(`/_sandbox/grants/${c!.grant.grantId}`);
    h.startWorker('discord', { concurrency: 8 });
    const job = h.queues.enqueueRefresh('discord', c!.connectionId, 'sweep');
    const tokens = await Promise.all(
      Array.from({ length: 50 }, () => h.accessTokens.getValidAccessToken(c!.connectionId)),
    );
    await job;
    await waitFor(
      async () => (await h.queues.refresh('discord').getJobCounts('active', 'wait', 'delayed')).active === 0,
    );
    expect(new Set(tokens).size).toBe(1);
    const after = await h.sandboxGet<{ refreshes: number }>(`/_sandbox/grants/${c!.grant.grantId}`);
    expect(after.refreshes - before.refreshes).toBe(1);
    const report = await sandboxReport();
    expect(report.providers.discord!.counts.concurrentRefreshes).toBe(0);
    expect(report.providers.discord!.counts.reusedRefreshTokens).toBe(0);
  });
});
