// `conduit keys rotate` also re-encrypts the secrets kept outside the connection row: the tokens
// of a revocation still pending at its provider, and each connection's Fathom webhook secret.
// Finished revocations hold no ciphertext and are left alone.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TokenVault, parseKeyring } from '@conduit/core';
import { createCliHarness, randomKey, type CliHarness } from './support/cli-harness.ts';

const k1 = randomKey('k1');
const k2 = randomKey('k2');
const oldVault = new TokenVault(parseKeyring(k1));
let h: CliHarness;

beforeAll(async () => {
  h = await createCliHarness({ encryptionKeys: `${k2},${k1}` });
});

afterAll(async () => {
  await h?.close();
});

describe('cli › keys rotate › revocation tokens and webhook secrets', () => {
  it('re-encrypts them under the active key, keeping what they decrypt to', async () => {
    const conn = await h.db.connection.create({
      data: { ownerId: 'owner-rotate-secrets', provider: 'fathom', status: 'disconnected' },
    });
    const pending = await h.db.grantRevocation.create({
      data: {
        connectionId: conn.id,
        provider: 'google',
        accessTokenEnc: oldVault.encrypt('access-to-revoke'),
        refreshTokenEnc: oldVault.encrypt('refresh-to-revoke'),
      },
    });
    const finished = await h.db.grantRevocation.create({
      data: { connectionId: conn.id, provider: 'google', status: 'revoked' },
    });
    await h.db.connectionWebhook.create({
      data: {
        connectionId: conn.id,
        provider: 'fathom',
        routingId: 'rotate-secrets-route',
        externalId: 'wh_1',
        secretEnc: oldVault.encrypt('whsec_c2VjcmV0'),
      },
    });

    const run = await h.run(['keys', 'rotate']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('2 webhook secrets or pending revocations under key "k2"');
    expect(run.stdout).toContain('Every stored token is now under key "k2"');

    const r = await h.db.grantRevocation.findUniqueOrThrow({ where: { id: pending.id } });
    expect(r.accessTokenEnc).toMatch(/^v1\.k2\./);
    expect(r.refreshTokenEnc).toMatch(/^v1\.k2\./);
    expect(h.ctx.vault.decrypt(r.accessTokenEnc!)).toBe('access-to-revoke');
    expect(h.ctx.vault.decrypt(r.refreshTokenEnc!)).toBe('refresh-to-revoke');
    expect(await h.db.grantRevocation.findUniqueOrThrow({ where: { id: finished.id } })).toMatchObject({
      accessTokenEnc: null,
      refreshTokenEnc: null,
    });
    const w = await h.db.connectionWebhook.findUniqueOrThrow({ where: { connectionId: conn.id } });
    expect(w.secretEnc).toMatch(/^v1\.k2\./);
    expect(h.ctx.vault.decrypt(w.secretEnc!)).toBe('whsec_c2VjcmV0');

    // Nothing left: a second run re-encrypts nothing.
    const again = await h.run(['keys', 'rotate']);
    expect(again.stdout).not.toContain('webhook secret');
    expect(again.stdout).toContain('Re-encrypted 0 connections and 0 OAuth states');
  });
});
