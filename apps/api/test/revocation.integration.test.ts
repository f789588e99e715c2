// Disconnect revokes the grant at the provider where the catalogue says it can (RFC 7009 for
// Google and Discord, GitHub's delete-grant for OAuth apps and Apps), and nowhere else. The
// disconnect never waits on it: the revocation goes to its own outbox (GrantRevocation) in the
// disconnect's transaction, is attempted right after the answer, and a failure is retried by the
// worker's drain with backoff until the provider confirms, or given up after bounded attempts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROVIDER_KEYS, providerSpec, type ProviderKey } from '@conduit/core';
import { createRevocationDrain, type RevocationResult } from '@conduit/jobs';
import { createRevocationClient } from '@conduit/runtime';
import { waitFor } from '@conduit/testing';
import { startStack, type Stack } from './support/stack.ts';

let s: Stack;

beforeAll(async () => {
  s = await startStack({
    label: 'revocation',
    captureLogs: true,
    env: {
      // The api's own attempt gives up on a provider that hangs within 3 s, and what it leaves to
      // the drain is due again within milliseconds.
      CONDUIT_HTTP_CONNECT_TIMEOUT_MS: '1000',
      CONDUIT_HTTP_HEADERS_TIMEOUT_MS: '2000',
      CONDUIT_REVOCATION_RETRY_BASE_MS: '10',
      CONDUIT_REVOCATION_RETRY_MAX_MS: '20',
    },
  });
});

afterAll(async () => {
  await s?.close();
});

interface GrantState {
  grantId: string;
  accessToken: string;
  refreshToken: string | null;
  family: 'active' | 'revoked';
  revokedReason: string | null;
}

async function grantsOf(provider: ProviderKey): Promise<GrantState[]> {
  return (await s.sandboxGet<{ grants: GrantState[] }>(`/_sandbox/grants?provider=${provider}`)).grants;
}

const clearFaults = () => fetch(`${s.sandbox.url}/_sandbox/faults`, { method: 'DELETE' });

/** The worker's drain, with retries spaced by milliseconds instead of minutes. */
function drain(maxAttempts: number, results: RevocationResult[] = []) {
  const client = createRevocationClient(s.config);
  const d = createRevocationDrain(
    s.ctx.db,
    { revoker: client, vault: s.ctx.vault, logger: s.ctx.logger, onResult: (_p, r) => results.push(r) },
    {
      pollMs: 20,
      maxAttempts,
      maxAgeMs: 3_600_000,
      retryBaseMs: 10,
      retryMaxMs: 20,
      attemptTimeoutMs: 2_000,
    },
  );
  return {
    drain: d,
    results,
    async close() {
      await d.stop();
      await client.close();
    },
  };
}

const revocationsOf = (connectionId: string) =>
  s.ctx.db.grantRevocation.findMany({ where: { connectionId }, orderBy: { createdAt: 'asc' } });

describe('disconnect › the grant is revoked at the provider, where the provider offers it', () => {
  // Every declared provider whose connect flow names the account by a profile (Fathom's needs meetings).
  const profiled = PROVIDER_KEYS.filter((p) => providerSpec(p).identity.kind === 'profile');
  it.each(profiled)('%s', async (provider) => {
    const attempt = await s.connect(provider, `owner-revoke-${provider}`);
    expect(attempt.message).toMatchObject({ status: 'connected' });
    const connectionId = attempt.message!.connectionId!;
    const [grant] = await grantsOf(provider);
    expect(grant!.family).toBe('active');

    const res = await s.api('DELETE', `/v1/connections/${connectionId}`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'disconnected' });

    if (providerSpec(provider).revocation.kind === 'none') {
      expect(await revocationsOf(connectionId)).toEqual([]);
      expect((await grantsOf(provider))[0]!.family).toBe('active');
      return;
    }
    const after = await waitFor(
      async () => {
        const [g] = await grantsOf(provider);
        return g!.family === 'revoked' ? g : null;
      },
      5_000,
      `the ${provider} grant revoked`,
      20,
    );
    expect(after).toMatchObject({ revokedReason: 'revoked_by_client' });
    const rows = await waitFor(
      async () => {
        const r = await revocationsOf(connectionId);
        return r[0]?.status === 'revoked' ? r : null;
      },
      5_000,
      'the outbox row finished',
      20,
    );
    // Finished: the tokens' ciphertext is gone from the outbox too.
    expect(rows).toMatchObject([
      { status: 'revoked', attempts: 1, accessTokenEnc: null, refreshTokenEnc: null },
    ]);
  });

  it("the api's attempts count in conduit_revocations_total", async () => {
    const text = await (await fetch(`${s.publicUrl}/metrics`)).text();
    for (const provider of ['google', 'discord', 'github', 'github_app']) {
      expect(text).toMatch(
        new RegExp(
          `^conduit_revocations_total\\{[^}]*provider="${provider}"[^}]*result="revoked"[^}]*\\} 1$`,
          'm',
        ),
      );
    }
  });

  it('a revocation the provider fails never blocks the disconnect; the drain retries it until the provider confirms', async () => {
    const attempt = await s.connect('discord', 'owner-revoke-retried');
    const connectionId = attempt.message!.connectionId!;
    const grant = (await grantsOf('discord')).at(-1)!;
    // The revocation endpoint is slow, then fails: the disconnect must answer at once all the same.
    await s.sandboxPost('/_sandbox/faults', {
      provider: 'discord',
      endpoint: 'revoke',
      latencyMs: 2_000,
      rate5xx: 1,
    });
    const started = performance.now();
    const res = await s.api('DELETE', `/v1/connections/${connectionId}`);
    const tookMs = performance.now() - started;
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'disconnected' });
    expect(tookMs).toBeLessThan(1_500);
    const [queued] = await revocationsOf(connectionId);
    expect(queued).toMatchObject({ status: 'pending', provider: 'discord' });
    // What the outbox keeps is vault ciphertext, never the token.
    expect(queued!.refreshTokenEnc).toMatch(/^v1\./);
    expect(JSON.stringify(queued)).not.toContain(grant.refreshToken!);
    expect(JSON.stringify(queued)).not.toContain(grant.accessToken);

    // The api's own attempt, after the answer: refused, left to the drain.
    const failed = await waitFor(
      async () => {
        const row = await s.ctx.db.grantRevocation.findUniqueOrThrow({ where: { id: queued!.id } });
        return row.lastError !== null ? row : null;
      },
      5_000,
      "the api's attempt refused",
      20,
    );
    expect(failed).toMatchObject({ status: 'pending', attempts: 1 });
    expect(failed.lastError).toMatch(/answered HTTP 5\d\d/);
    const d = drain(10);
    try {
      await s.ctx.db.grantRevocation.update({
        where: { id: queued!.id },
        data: { nextAttemptAt: new Date() },
      });
      expect(await d.drain.drainOnce()).toEqual(['retry']);
      expect((await grantsOf('discord')).at(-1)!.family).toBe('active');

      await clearFaults();
      d.drain.start();
      await waitFor(
        async () =>
          (await s.ctx.db.grantRevocation.findUniqueOrThrow({ where: { id: queued!.id } })).status ===
          'revoked',
        5_000,
        'the retried revocation confirmed',
        20,
      );
    } finally {
      await d.close();
      await clearFaults();
    }
    expect((await grantsOf('discord')).at(-1)).toMatchObject({
      family: 'revoked',
      revokedReason: 'revoked_by_client',
    });
    const done = await s.ctx.db.grantRevocation.findUniqueOrThrow({ where: { id: queued!.id } });
    expect(done).toMatchObject({ status: 'revoked', accessTokenEnc: null, refreshTokenEnc: null });
    expect(done.attempts).toBeGreaterThanOrEqual(2);
    expect(d.results).toContain('revoked');
    for (const line of s.logs) {
      expect(line).not.toContain(grant.refreshToken!);
      expect(line).not.toContain(grant.accessToken);
    }
  });

  it('a revocation that keeps failing is given up after the bounded attempts, with an error line and a count', async () => {
    await s.sandboxPost('/_sandbox/faults', { provider: 'google', endpoint: 'revoke', rate5xx: 1 });
    const d = drain(3);
    let connectionId: string;
    try {
      const attempt = await s.connect('google', 'owner-revoke-given-up');
      connectionId = attempt.message!.connectionId!;
      expect((await s.api('DELETE', `/v1/connections/${connectionId}`)).status).toBe(200);
      d.drain.start();
      await waitFor(
        async () => (await revocationsOf(connectionId))[0]?.status === 'gave_up',
        5_000,
        'the revocation given up',
        20,
      );
    } finally {
      await d.close();
      await clearFaults();
    }
    const [row] = await revocationsOf(connectionId);
    expect(row).toMatchObject({
      status: 'gave_up',
      attempts: 3,
      accessTokenEnc: null,
      refreshTokenEnc: null,
    });
    expect(row!.lastError).toMatch(/HTTP 5\d\d \(3 attempts failed\)/);
    expect(d.results.filter((r) => r === 'gave_up')).toHaveLength(1);
    const gaveUp = s.logs
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((l) => l.revocationId === row!.id && String(l.msg).startsWith('revocation: gave up'));
    expect(gaveUp).toMatchObject({ level: 'error', provider: 'google', connectionId });
    // Given up: the grant is still active at the provider, as the log line says.
    expect((await grantsOf('google')).at(-1)!.family).toBe('active');
  });

  it('a reconnect before the revocation went through supersedes it: the new grant is never revoked', async () => {
    await s.sandboxPost('/_sandbox/faults', { provider: 'github', endpoint: 'revoke', rate5xx: 1 });
    let connectionId: string;
    try {
      connectionId = (await s.connect('github', 'owner-revoke-back')).message!.connectionId!;
      expect((await s.api('DELETE', `/v1/connections/${connectionId}`)).status).toBe(200);
      await waitFor(
        async () => (await revocationsOf(connectionId))[0]?.lastError != null,
        5_000,
        "the api's first attempt refused",
        20,
      );
    } finally {
      await clearFaults();
    }
    const again = await s.connect('github', 'owner-revoke-back');
    expect(again.message).toMatchObject({ status: 'connected', connectionId });
    const [row] = await revocationsOf(connectionId);
    expect(row).toMatchObject({ status: 'superseded', accessTokenEnc: null, refreshTokenEnc: null });
    const d = drain(10);
    try {
      await s.ctx.db.grantRevocation.updateMany({ data: { nextAttemptAt: new Date() } });
      expect(await d.drain.drainOnce()).toEqual([]);
    } finally {
      await d.close();
    }
    expect((await grantsOf('github')).at(-1)!.family).toBe('active');
  });
});
