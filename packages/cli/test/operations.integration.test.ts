import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProviderKey } from '@conduit/core';
import { QUEUE_NAMES, type SyncJobData, type TranscriptJobData } from '@conduit/jobs';
import { startSandbox, type Sandbox } from '@conduit/sandbox';
import { createCliHarness, type CliHarness } from './support/cli-harness.ts';

let h: CliHarness;
let sandbox: Sandbox;

async function sandboxPost<T>(path: string, body: unknown = {}): Promise<T> {
  const res = await fetch(`${sandbox.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`sandbox ${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

async function seedGranted(provider: ProviderKey, owner: string) {
  const { grants } = await sandboxPost<{
    grants: Array<{ grantId: string; accessToken: string; refreshToken: string; accountId: string }>;
  }>('/_sandbox/grants', { provider, count: 1 });
  const g = grants[0]!;
  const conn = await h.db.connection.create({
    data: {
      ownerId: owner,
      provider,
      externalAccountId: g.accountId,
      accessTokenEnc: h.ctx.vault.encrypt(g.accessToken),
      refreshTokenEnc: h.ctx.vault.encrypt(g.refreshToken),
      tokenExpiresAt: new Date(Date.now() + 3_600_000),
    },
  });
  return { conn, grant: g };
}

beforeAll(async () => {
  sandbox = await startSandbox({ port: 0 });
  h = await createCliHarness({ env: { CONDUIT_SANDBOX_URL: sandbox.url } });
});

afterAll(async () => {
  await h?.close();
  await sandbox?.close();
});

describe('cli › refresh', () => {
  it('refreshes one connection inline through the refresh path and prints the outcome', async () => {
    const { conn, grant } = await seedGranted('discord', 'owner-refresh');
    const r = await h.run(['refresh', conn.id]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      new RegExp(`^Refreshed connection ${conn.id}; the new access token expires in [^(]+ \\(\\S+Z\\)\\.`),
    );
    const after = await h.db.connection.findUniqueOrThrow({ where: { id: conn.id } });
    expect(after.version).toBe(conn.version + 1);
    const state = (await (await fetch(`${sandbox.url}/_sandbox/grants/${grant.grantId}`)).json()) as {
      refreshToken: string;
    };
    expect(h.ctx.vault.decrypt(after.refreshTokenEnc!)).toBe(state.refreshToken);
    expect(r.stdout).not.toContain(state.refreshToken);
  });

  it('a revoked grant moves the connection to needs_reauth and exits 1 saying so', async () => {
    const { conn, grant } = await seedGranted('spotify', 'owner-revoked');
    await sandboxPost(`/_sandbox/grants/${grant.grantId}/revoke`);
    const r = await h.run(['refresh', conn.id]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      new RegExp(`^conduit: the provider refused the refresh, so connection ${conn.id} is now needs_reauth`),
    );
    expect((await h.db.connection.findUniqueOrThrow({ where: { id: conn.id } })).status).toBe('needs_reauth');
    expect(
      await h.db.notification.count({ where: { connectionId: conn.id, type: 'connection.needs_reauth' } }),
    ).toBe(1);
  });

  it('an unknown connection is a one-sentence error and exit 1', async () => {
    const r = await h.run(['refresh', '3f1c2a9e-5b7d-4c1e-9a8f-2d6b4e0c7a15']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('conduit: no connection has id 3f1c2a9e-5b7d-4c1e-9a8f-2d6b4e0c7a15.\n');
  });
});

describe('cli › sync', () => {
  it('queues a sync-fathom job with the manual reason, deduplicated per connection', async () => {
    const { conn } = await seedGranted('fathom', 'owner-sync');
    const r = await h.run(['sync', conn.id, '--full', '--limit', '5', '--no-follow']);
    expect(r.code).toBe(0);
    const jobId = /job (\S+) for/.exec(r.stdout)?.[1];
    expect(jobId).toBeDefined();
    const job = await h.ctx.queues.get(QUEUE_NAMES.syncFathom).getJob(jobId!);
    expect(job!.data).toEqual({
      connectionId: conn.id,
      mode: 'full',
      limit: 5,
      reason: 'manual',
    } satisfies SyncJobData);
    expect(job!.opts.deduplication?.id).toBe(`sync:${conn.id}`);

    const again = await h.run(['sync', conn.id]);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain(`is already queued as job ${jobId}`);
    expect(await h.ctx.queues.get(QUEUE_NAMES.syncFathom).count()).toBe(1);
  });

  it('refuses a connection of another provider', async () => {
    const { conn } = await seedGranted('google', 'owner-nosync');
    const r = await h.run(['sync', conn.id]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      `conduit: connection ${conn.id} is a google connection; only fathom connections sync.\n`,
    );
  });
});

describe('cli › webhooks replay', () => {
  it('resets a delivery found by its sender id to received and queues its transcript job', async () => {
    const { conn } = await seedGranted('fathom', 'owner-replay');
    const d = await h.db.webhookDelivery.create({
      data: {
        provider: 'fathom',
        deliveryId: 'msg_2xR3replay',
        sentAt: new Date(),
        payload: { recording_id: 987654, title: 'Weekly' },
        connectionId: conn.id,
        status: 'failed',
        attempts: 3,
        processedAt: new Date(),
        error: 'transcript fetch failed: HTTP 500',
      },
    });
    const r = await h.run(['webhooks', 'replay', 'msg_2xR3replay']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const after = await h.db.webhookDelivery.findUniqueOrThrow({ where: { id: d.id } });
    expect(after).toMatchObject({ status: 'received', processedAt: null, error: null });
    const jobId = /transcript job (\S+) /.exec(r.stdout)?.[1];
    const job = await h.ctx.queues.get(QUEUE_NAMES.transcripts).getJob(jobId!);
    expect(job!.data).toEqual({
      connectionId: conn.id,
      recordingId: 987654,
      deliveryId: d.id,
    } satisfies TranscriptJobData);

    // Conduit's own id finds it too.
    const byId = await h.run(['webhooks', 'replay', d.id]);
    expect(byId.code).toBe(0);
  });

  it('an unknown delivery, or one that matched no connection, is a clear error', async () => {
    const none = await h.run(['webhooks', 'replay', 'msg_nothing']);
    expect(none.code).toBe(1);
    expect(none.stderr).toBe('conduit: no webhook delivery has id or delivery id "msg_nothing".\n');

    await h.db.webhookDelivery.create({
      data: {
        provider: 'fathom',
        deliveryId: 'msg_orphan',
        sentAt: new Date(),
        payload: { recording_id: 1 },
        status: 'unmatched',
      },
    });
    const orphan = await h.run(['webhooks', 'replay', 'msg_orphan']);
    expect(orphan.code).toBe(1);
    expect(orphan.stderr).toMatch(/^conduit: delivery \S+ \(status unmatched\) matched no connection/);
  });
});
