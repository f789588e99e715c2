import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProviderKey } from '@conduit/core';
import { createFathomWorkers, createRefreshDeps, createTokenClient } from '@conduit/runtime';
import { startSandbox, type Sandbox } from '@conduit/sandbox';
import { createCliHarness, type CliHarness } from './support/cli-harness.ts';

const BIN = join(import.meta.dirname, '../bin/conduit.js');
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

async function seedGranted(provider: ProviderKey, owner: string, extra: Record<string, unknown> = {}) {
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
      tokenExpiresAt: new Date(Date.now() + 42 * 60_000 + 20_000),
      ...extra,
    },
  });
  return { conn, grant: g };
}

/** The real `conduit` binary, as an operator runs it. */
function spawnCli(args: string[], env: NodeJS.ProcessEnv = h.env) {
  return new Promise<{ code: number | null; stdout: string; stderr: string; ms: number }>(
    (resolve, reject) => {
      const started = performance.now();
      const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stdout, stderr, ms: performance.now() - started }));
    },
  );
}

beforeAll(async () => {
  sandbox = await startSandbox({ port: 0 });
  h = await createCliHarness({ env: { CONDUIT_SANDBOX_URL: sandbox.url } });
});

afterAll(async () => {
  await h?.close();
  await sandbox?.close();
});

describe('cli › --help and --version', () => {
  it('--help answers in under a second, without loading the commands (best of 3)', async () => {
    const runs = [];
    for (let i = 0; i < 3; i++) runs.push(await spawnCli(['--help'], { PATH: process.env.PATH }));
    for (const r of runs) expect(r.code).toBe(0);
    expect(runs[0]!.stdout).toMatch(/disconnect \[options\] <connectionId>/);
    expect(Math.min(...runs.map((r) => r.ms))).toBeLessThan(1_000);
  });

  it('--version prints the version alone on stdout', async () => {
    const r = await h.run(['--version']);
    expect(r).toEqual({ code: 0, stdout: '0.1.0\n', stderr: '' });
  });

  it('the help of a group lists its new commands', async () => {
    expect((await h.run(['connections', '--help'])).stdout).toMatch(/get \[options\] <connectionId>/);
    expect((await h.run(['webhooks', '--help'])).stdout).toMatch(/list \[options\]/);
  });
});

describe('cli › connections get', () => {
  it('shows one connection with relative times and no token', async () => {
    const { conn, grant } = await seedGranted('spotify', 'owner-get');
    const r = await h.run(['connections', 'get', conn.id]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(new RegExp(`^id +${conn.id}$`, 'm'));
    expect(r.stdout).toMatch(/^access token expires +in 42 min \(\d{4}-\d\d-\d\dT/m);
    expect(r.stdout).toMatch(/^refresh token +present/m);
    expect(r.stdout).toContain(h.ctx.hashOwner('owner-get'));
    expect(r.stdout).not.toContain('owner-get');
    expect(r.stdout).not.toContain(grant.accessToken);
    expect(r.stdout).not.toContain(grant.refreshToken);
    const json = JSON.parse((await h.run(['connections', 'get', conn.id, '--json'])).stdout);
    expect(json).toMatchObject({ id: conn.id, status: 'connected', hasRefreshToken: true });
    expect(JSON.stringify(json)).not.toContain('Enc');
  });

  it('an unknown id is one sentence and exit 1; a malformed one exit 2', async () => {
    const unknown = await h.run(['connections', 'get', '3f1c2a9e-5b7d-4c1e-9a8f-2d6b4e0c7a15']);
    expect(unknown).toEqual({
      code: 1,
      stdout: '',
      stderr: 'conduit: no connection has id 3f1c2a9e-5b7d-4c1e-9a8f-2d6b4e0c7a15.\n',
    });
    expect((await h.run(['connections', 'get', 'abc'])).code).toBe(2);
  });
});

describe('cli › disconnect', () => {
  it('asks for --yes, then wipes the tokens and records the change', async () => {
    const { conn } = await seedGranted('google', 'owner-disconnect');
    const asked = await h.run(['disconnect', conn.id]);
    expect(asked.code).toBe(2);
    expect(asked.stderr).toContain('run it again with --yes');
    expect((await h.db.connection.findUniqueOrThrow({ where: { id: conn.id } })).status).toBe('connected');

    const done = await h.run(['disconnect', conn.id, '--yes']);
    expect(done).toMatchObject({ code: 0, stderr: '' });
    expect(done.stdout).toBe(
      `Connection ${conn.id} (google) is disconnected (was connected); its tokens are wiped; the grant is revoked at google.\n`,
    );
    expect(await h.db.grantRevocation.findMany({ where: { connectionId: conn.id } })).toMatchObject([
      { status: 'revoked', accessTokenEnc: null, refreshTokenEnc: null },
    ]);
    const row = await h.db.connection.findUniqueOrThrow({ where: { id: conn.id } });
    expect(row).toMatchObject({ status: 'disconnected', accessTokenEnc: null, refreshTokenEnc: null });
    expect(await h.db.connectionEvent.count({ where: { connectionId: conn.id, to: 'disconnected' } })).toBe(
      1,
    );
    expect((await h.run(['disconnect', conn.id, '--yes'])).stdout).toContain('was already disconnected');
  });
});

describe('cli › purge', () => {
  it("asks for --yes, refuses a connection still in use, then deletes a disconnected one's synced data", async () => {
    const { conn } = await seedGranted('fathom', 'owner-purge', { externalEmail: 'purge@acme.test' });
    const meeting = await h.db.meeting.create({
      data: {
        connectionId: conn.id,
        recordingId: 77_000_001n,
        title: 'Kick-off',
        providerCreatedAt: new Date(),
        raw: {},
      },
    });
    await h.db.transcript.create({ data: { meetingId: meeting.id, segments: [] } });
    await h.db.webhookDelivery.create({
      data: {
        provider: 'fathom',
        deliveryId: 'msg_purge',
        sentAt: new Date(),
        payload: { recording_id: 77_000_001 },
        connectionId: conn.id,
      },
    });

    const asked = await h.run(['purge', conn.id]);
    expect(asked.code).toBe(2);
    expect(asked.stderr).toContain('run it again with --yes');
    const inUse = await h.run(['purge', conn.id, '--yes']);
    expect(inUse).toEqual({
      code: 1,
      stdout: '',
      stderr: `conduit: connection ${conn.id} is connected, and only a disconnected connection is purged; disconnect it first (conduit disconnect ${conn.id} --yes).\n`,
    });
    expect(await h.db.meeting.count({ where: { connectionId: conn.id } })).toBe(1);

    expect((await h.run(['disconnect', conn.id, '--yes'])).code).toBe(0);
    const done = await h.run(['purge', conn.id, '--yes']);
    expect(done).toEqual({
      code: 0,
      stdout: `Connection ${conn.id} is purged: 1 meetings, 1 transcripts, 1 webhook deliveries and 0 webhooks deleted; its status history is kept.\n`,
      stderr: '',
    });
    expect(await h.db.meeting.count({ where: { connectionId: conn.id } })).toBe(0);
    expect(await h.db.webhookDelivery.count({ where: { connectionId: conn.id } })).toBe(0);
    const row = await h.db.connection.findUniqueOrThrow({ where: { id: conn.id } });
    expect(row).toMatchObject({ status: 'disconnected', externalEmail: null, accessTokenEnc: null });
    expect(row.purgedAt).toBeInstanceOf(Date);
    expect(await h.db.connectionEvent.count({ where: { connectionId: conn.id } })).toBe(1);
    const json = JSON.parse((await h.run(['purge', conn.id, '--yes', '--json'])).stdout);
    expect(json).toMatchObject({ connectionId: conn.id, meetings: 0, transcripts: 0, webhookDeliveries: 0 });
    expect((await h.run(['purge', '3f1c2a9e-5b7d-4c1e-9a8f-2d6b4e0c7a15', '--yes'])).stderr).toBe(
      'conduit: no connection has id 3f1c2a9e-5b7d-4c1e-9a8f-2d6b4e0c7a15.\n',
    );
  });
});

describe('cli › webhooks list', () => {
  it('lists stored deliveries newest first with the ids replay takes, filtered by status', async () => {
    const { conn } = await seedGranted('fathom', 'owner-webhooks');
    const old = await h.db.webhookDelivery.create({
      data: {
        provider: 'fathom',
        deliveryId: 'msg_old',
        sentAt: new Date(Date.now() - 3 * 3_600_000),
        receivedAt: new Date(Date.now() - 3 * 3_600_000),
        payload: { recording_id: 1 },
        connectionId: conn.id,
        status: 'processed',
      },
    });
    const fresh = await h.db.webhookDelivery.create({
      data: {
        provider: 'fathom',
        deliveryId: 'msg_new',
        sentAt: new Date(),
        payload: { recording_id: 2 },
        status: 'failed',
        error: 'transcript not ready after 5 attempts',
      },
    });
    const r = await h.run(['webhooks', 'list']);
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^id +provider +webhook-id +received +status +attempts +connection +error$/);
    expect(lines[2]).toMatch(new RegExp(`^${fresh.id} +fathom +msg_new +just now +failed`));
    expect(lines[3]).toMatch(new RegExp(`^${old.id} +fathom +msg_old +3 h ago +processed`));
    const failed = await h.run(['webhooks', 'list', '--status', 'failed', '--json']);
    expect(JSON.parse(failed.stdout).map((d: { id: string }) => d.id)).toEqual([fresh.id]);
    const bad = await h.run(['webhooks', 'list', '--status', 'lost']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe(
      'conduit: --status must be one of received, processed, unmatched, failed, not "lost".\n',
    );
  });
});

describe('cli › connections list fits the terminal', () => {
  it('at 140 columns every line fits, the reason is cut with …, ids stay whole, times are relative', async () => {
    const { conn } = await seedGranted('discord', 'owner-wide', {
      status: 'needs_reauth',
      statusReason: `invalid_grant: ${'the refresh token was revoked by the user at the provider; '.repeat(4)}`,
    });
    const r = await h.run(['connections', 'list', '--status', 'needs_reauth'], h.ctx, { width: 140 });
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    for (const l of lines) expect(l.length).toBeLessThanOrEqual(140);
    const row = lines.find((l) => l.startsWith(conn.id))!;
    expect(row).toMatch(/invalid_grant: the.*…$/);
    expect(row).toContain('in 42 min');
  });
});

describe('cli › stdout carries only results', () => {
  it('the real binary with LOG_LEVEL=debug prints the table and the sentence on stdout, logs (if any) on stderr', async () => {
    const { conn } = await seedGranted('spotify', 'owner-stdout');
    const env = { ...h.env, LOG_LEVEL: 'debug', LOG_FORMAT: 'json' };
    const list = await spawnCli(['connections', 'list', '--provider', 'spotify'], env);
    expect(list.code).toBe(0);
    const lines = list.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^id +provider +status/);
    expect(lines[1]).toMatch(/^─+/);
    for (const l of lines.slice(2)) expect(l).toMatch(/^[0-9a-f-]{36} +spotify /);

    const refreshed = await spawnCli(['refresh', conn.id], env);
    expect(refreshed.code).toBe(0);
    expect(refreshed.stdout.trimEnd().split('\n')).toHaveLength(1);
    expect(refreshed.stdout).toMatch(new RegExp(`^Refreshed connection ${conn.id}`));
    for (const l of refreshed.stderr.split('\n').filter(Boolean))
      expect(l.startsWith('{') || l.startsWith('conduit')).toBe(true);
  });
});

describe('cli › sync --full follows the job to its end', () => {
  it('queues the job, reports progress on stderr while a real worker syncs, and ends with the counts', async () => {
    const { conn, grant } = await seedGranted('fathom', 'owner-follow');
    await sandboxPost('/_sandbox/fathom/meetings', { grantId: grant.grantId, count: 25 });
    const refresh = createRefreshDeps(h.ctx, createTokenClient(h.ctx.config));
    const fathom = createFathomWorkers(h.ctx, refresh);
    expect(fathom.workers.length).toBeGreaterThan(0);
    try {
      const r = await h.run(['sync', conn.id, '--full', '--poll-ms', '50']);
      expect(r.code).toBe(0);
      const out = r.stdout.trimEnd().split('\n');
      expect(out[0]).toMatch(/^Queued full sync job \S+ for connection /);
      expect(out[1]).toMatch(
        new RegExp(
          `^Sync job \\S+ of connection ${conn.id} succeeded: \\d+ pages?, 25 meetings seen, 25 new\\.$`,
        ),
      );
      expect(r.stderr).toMatch(/^sync: (waiting|active|completed), /m);
      expect(r.stderr).toMatch(/25 meetings seen, 25 new$/m);
      expect(await h.db.meeting.count({ where: { connectionId: conn.id } })).toBe(25);
    } finally {
      await Promise.all(fathom.workers.map((w) => w.close()));
      await fathom.close();
    }
  });

  it('--no-follow only queues it', async () => {
    const { conn } = await seedGranted('fathom', 'owner-nofollow');
    const r = await h.run(['sync', conn.id, '--full', '--no-follow']);
    expect(r.code).toBe(0);
    expect(r.stdout.trimEnd().split('\n')).toHaveLength(1);
  });
});
