import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TokenVault, parseKeyring } from '@conduit/core';
import { MaintenanceRepository } from '@conduit/db';
import { killAllTracked, killTree, spawnTracked } from '@conduit/testing';
import { createCliHarness, randomKey, type CliHarness } from './support/cli-harness.ts';

const BIN = join(import.meta.dirname, '../bin/conduit.js');
const ROWS = 10_000;
const OAUTH_STATES = 200;

const k1 = randomKey('k1');
const k2 = randomKey('k2');
/** The keyring before the rotation: only k1. */
const oldVault = new TokenVault(parseKeyring(k1));
/** After: k2 first (active), k1 kept to read what is not rotated yet. */
const newVault = new TokenVault(parseKeyring(`${k2},${k1}`));

let h: CliHarness;

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs `conduit keys rotate` as its own process; `killAt` SIGKILLs it once progress reaches that percentage. */
function rotate(args: string[], killAt?: number): Promise<Exit & { killedAt?: number }> {
  return new Promise((resolve, reject) => {
    const child = spawnTracked(process.execPath, [BIN, 'keys', 'rotate', ...args], {
      env: h.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let killedAt: number | undefined;
    child.stdout!.on('data', (d: Buffer) => (stdout += d));
    child.stderr!.on('data', (d: Buffer) => {
      stderr += d;
      if (killAt === undefined || killedAt !== undefined) return;
      const pcts = [...stderr.matchAll(/\((\d+)%\)/g)].map((m) => Number(m[1]));
      const reached = pcts.find((p) => p >= killAt);
      if (reached !== undefined) {
        killedAt = reached;
        void killTree(child);
      }
    });
    child.on('error', reject);
    child.on('close', (code, signal) =>
      resolve({ code, signal, stdout, stderr, ...(killedAt !== undefined && { killedAt }) }),
    );
  });
}

beforeAll(async () => {
  h = await createCliHarness({ encryptionKeys: `${k2},${k1}` });
  const rows = Array.from({ length: ROWS }, (_, i) => ({
    ownerId: `owner-${i}`,
    provider: (['spotify', 'google', 'discord'] as const)[i % 3]!,
    accessTokenEnc: oldVault.encrypt(`access-${i}`),
    // every tenth row has no refresh token: its NULL must stay NULL
    refreshTokenEnc: i % 10 === 0 ? null : oldVault.encrypt(`refresh-${i}`),
    tokenExpiresAt: new Date(Date.now() + 3_600_000),
  }));
  // One INSERT … SELECT FROM unnest(arrays): about six times faster here than createMany.
  await h.db.$executeRaw`
    INSERT INTO "Connection" (id, "ownerId", provider, "accessTokenEnc", "refreshTokenEnc", "tokenExpiresAt", "updatedAt")
    SELECT gen_random_uuid(), owner, provider::text, access, refresh, expires, now()
    FROM unnest(
      ${rows.map((r) => r.ownerId)}::text[], ${rows.map((r) => r.provider)}::text[],
      ${rows.map((r) => r.accessTokenEnc)}::text[], ${rows.map((r) => r.refreshTokenEnc)}::text[],
      ${rows.map((r) => r.tokenExpiresAt)}::timestamp[]
    ) AS u(owner, provider, access, refresh, expires)`;
  await h.db.oAuthState.createMany({
    data: Array.from({ length: OAUTH_STATES }, (_, i) => ({
      stateHash: `state-${i}`,
      provider: 'spotify' as const,
      ownerId: `owner-${i}`,
      codeVerifierEnc: i % 4 === 0 ? null : oldVault.encrypt(`verifier-${i}`),
      redirectUri: 'http://127.0.0.1/callback',
      expiresAt: new Date(Date.now() + 600_000),
    })),
  });
}, 120_000);

afterAll(async () => {
  await killAllTracked();
  await h?.close();
});

async function underOldKey(): Promise<number> {
  const repo = new MaintenanceRepository(h.db);
  return (await repo.countConnectionsNotUnder('k2')) + (await repo.countOAuthStatesNotUnder('k2'));
}

describe('cli › keys rotate', () => {
  it('re-encrypts 10,000 rows, survives a SIGKILL halfway, and finishes on the rerun', async () => {
    const total = ROWS + OAUTH_STATES * 0.75;
    expect(await underOldKey()).toBe(total);

    const killed = await rotate(['--batch', '100'], 50);
    expect(killed.signal).toBe('SIGKILL');
    expect(killed.killedAt).toBeGreaterThanOrEqual(50);
    const left = await underOldKey();
    // Killed part-way: some rows moved, some did not.
    expect(left, killed.stderr).toBeGreaterThan(0);
    expect(left, killed.stderr).toBeLessThan(total / 2 + 100);

    const rerun = await rotate([]);
    expect(rerun.stderr).not.toContain('conduit:');
    expect(rerun.code).toBe(0);
    expect(rerun.stdout).toMatch(/Re-encrypted \d+ connections and \d+ OAuth states under key "k2"\./);
    expect(rerun.stdout).toContain('Every stored token is now under key "k2"');
    expect(rerun.stderr).toMatch(/keys rotate: \d+\/\d+ rows \(100%\)/);
    expect(await underOldKey()).toBe(0);

    const connections = await h.db.connection.findMany({
      select: { ownerId: true, accessTokenEnc: true, refreshTokenEnc: true, version: true },
    });
    expect(connections).toHaveLength(ROWS);
    for (const c of connections) {
      const i = Number(c.ownerId.slice('owner-'.length));
      expect(newVault.keyIdOf(c.accessTokenEnc!)).toBe('k2');
      expect(newVault.decrypt(c.accessTokenEnc!)).toBe(`access-${i}`);
      if (i % 10 === 0) expect(c.refreshTokenEnc).toBeNull();
      else {
        expect(newVault.keyIdOf(c.refreshTokenEnc!)).toBe('k2');
        expect(newVault.decrypt(c.refreshTokenEnc!)).toBe(`refresh-${i}`);
      }
      // Re-encryption leaves the compare-and-set version alone (see writeConnectionCiphertexts).
      expect(c.version).toBe(0);
    }
    // Only k2 is needed from now on.
    const k2Only = new TokenVault(parseKeyring(k2));
    for (const s of await h.db.oAuthState.findMany()) {
      const i = Number(s.ownerId.slice('owner-'.length));
      if (i % 4 === 0) expect(s.codeVerifierEnc).toBeNull();
      else expect(k2Only.decrypt(s.codeVerifierEnc!)).toBe(`verifier-${i}`);
    }

    const third = await h.run(['keys', 'rotate']);
    expect(third.code).toBe(0);
    expect(third.stdout).toContain('Re-encrypted 0 connections and 0 OAuth states under key "k2".');
  }, 120_000);

  it('never overwrites tokens written meanwhile: a lost compare-and-set leaves the row for the next run', async () => {
    const repo = new MaintenanceRepository(h.db);
    const row = await h.db.connection.create({
      data: {
        ownerId: 'racer',
        provider: 'discord',
        accessTokenEnc: oldVault.encrypt('old-access'),
        refreshTokenEnc: oldVault.encrypt('old-refresh'),
      },
    });
    const [read] = await repo.listConnectionsNotUnder({ activeKeyId: 'k2', limit: 10 });
    expect(read!.id).toBe(row.id);
    // A refresh (with the old keyring) stores rotated tokens between our read and our write.
    await h.db.connection.update({
      where: { id: row.id },
      data: {
        accessTokenEnc: oldVault.encrypt('new-access'),
        refreshTokenEnc: oldVault.encrypt('new-refresh'),
        version: { increment: 1 },
      },
    });
    const written = await repo.writeConnectionCiphertexts([
      {
        id: read!.id,
        version: read!.version,
        accessTokenEnc: newVault.reencrypt(read!.accessTokenEnc!),
        refreshTokenEnc: newVault.reencrypt(read!.refreshTokenEnc!),
      },
    ]);
    expect(written.size).toBe(0);
    const kept = await h.db.connection.findUniqueOrThrow({ where: { id: row.id } });
    expect(newVault.decrypt(kept.refreshTokenEnc!)).toBe('new-refresh');

    const r = await h.run(['keys', 'rotate']);
    expect(r.code).toBe(0);
    const after = await h.db.connection.findUniqueOrThrow({ where: { id: row.id } });
    expect(newVault.keyIdOf(after.refreshTokenEnc!)).toBe('k2');
    expect(newVault.decrypt(after.refreshTokenEnc!)).toBe('new-refresh');
    expect(newVault.decrypt(after.accessTokenEnc!)).toBe('new-access');
  });

  it('reports a ciphertext no key opens, leaves it as it is and exits 1', async () => {
    const stranger = new TokenVault(parseKeyring(randomKey('k0')));
    const row = await h.db.connection.create({
      data: { ownerId: 'lost', provider: 'google', accessTokenEnc: stranger.encrypt('x') },
    });
    const r = await h.run(['keys', 'rotate']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`Connection ${row.id} was left as it is`);
    expect(r.stderr).toContain('key "k0"');
    expect(r.stderr).toContain('1 row is still under an older key');
    expect(r.stdout + r.stderr).not.toMatch(/access-|refresh-|verifier-/);
    await h.db.connection.delete({ where: { id: row.id } });
  });
});
