// Disconnect revokes the grant at the provider where the catalogue says it can (RFC 7009 for
// Google and Discord, GitHub's delete-grant for OAuth apps and Apps), and nowhere else; the
// disconnect itself never depends on it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROVIDER_KEYS, type ProviderKey, providerSpec } from '@conduit/core';
import { startStack, type Stack } from './support/stack.ts';

let s: Stack;

beforeAll(async () => {
  s = await startStack({ label: 'revocation' });
});

afterAll(async () => {
  await s?.close();
});

interface GrantState {
  grantId: string;
  family: 'active' | 'revoked';
  revokedReason: string | null;
}

async function grantsOf(provider: ProviderKey): Promise<GrantState[]> {
  return (await s.sandboxGet<{ grants: GrantState[] }>(`/_sandbox/grants?provider=${provider}`)).grants;
}

describe('disconnect › the grant is revoked at the provider, where the provider offers it', () => {
  // Every declared provider whose connect flow names the account by a profile (Fathom's needs meetings).
  const profiled = PROVIDER_KEYS.filter((p) => providerSpec(p).identity.kind === 'profile');
  it.each(profiled)('%s', async (provider) => {
    const attempt = await s.connect(provider, `owner-revoke-${provider}`);
    expect(attempt.message).toMatchObject({ status: 'connected' });
    const [grant] = await grantsOf(provider);
    expect(grant!.family).toBe('active');

    const res = await s.api('DELETE', `/v1/connections/${attempt.message!.connectionId!}`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'disconnected' });

    const [after] = await grantsOf(provider);
    if (providerSpec(provider).revocation.kind === 'none') {
      expect(after!.family).toBe('active');
    } else {
      expect(after).toMatchObject({ family: 'revoked', revokedReason: 'revoked_by_client' });
    }
  });

  it('a revocation the provider fails (5xx) does not block the disconnect', async () => {
    const attempt = await s.connect('discord', 'owner-revoke-unreachable');
    await s.sandboxPost('/_sandbox/faults', { provider: 'discord', endpoint: 'token', rate5xx: 1 });
    try {
      const res = await s.api('DELETE', `/v1/connections/${attempt.message!.connectionId!}`);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ status: 'disconnected' });
      const grants = await grantsOf('discord');
      expect(grants[grants.length - 1]!.family).toBe('active');
    } finally {
      await fetch(`${s.sandbox.url}/_sandbox/faults`, { method: 'DELETE' });
    }
  });
});
