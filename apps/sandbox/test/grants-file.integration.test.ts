import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startSandbox } from '../src/index.ts';
import { WHO_AM_I, api, control, refresh, seedGrant } from './helpers.ts';

const dir = mkdtempSync(join(tmpdir(), 'conduit-sandbox-grants-'));
const grantsFile = join(dir, 'sandbox-grants.json');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('sandbox › grants file: a restart keeps every grant a client holds', () => {
  it('the refresh and access tokens issued before the restart still work after it, and the family rules hold', async () => {
    const before = await startSandbox({ grantsFile });
    const discord = await seedGrant(before, 'discord');
    const rotated = await refresh(before, 'discord', discord.refreshToken!);
    const current = rotated.body.refresh_token!;
    const google = await seedGrant(before, 'google', { email: 'kept@example.com' });
    await before.close();

    const after = await startSandbox({ grantsFile });
    try {
      expect(after.restoredGrants).toBe(2);
      // the current refresh token of a rotating family refreshes, and rotates on
      const again = await refresh(after, 'discord', current);
      expect(again.status).toBe(200);
      expect(again.body.refresh_token).toBeTruthy();
      // an access token issued before the restart still reaches the API
      expect((await api(after, 'google', WHO_AM_I.google!, google.accessToken)).status).toBe(200);
      // the same email is still the same account, and new grants get new ids
      const next = await seedGrant(after, 'google', { email: 'kept@example.com' });
      expect(next.accountId).toBe(google.accountId);
      expect(next.grantId).not.toBe(google.grantId);
      expect(await control(after, 'GET', `/grants/${discord.grantId}`)).toMatchObject({ family: 'active' });
    } finally {
      await after.close();
    }
  });

  it('without a grants file the sandbox starts empty, as tests and benchmarks expect', async () => {
    const sb = await startSandbox();
    try {
      expect(sb.restoredGrants).toBe(0);
      expect(await control(sb, 'GET', '/grants')).toMatchObject({ total: 0 });
    } finally {
      await sb.close();
    }
  });
});
