import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROVIDERS } from '@conduit/core';
import { ConduitClient } from '@conduit/client';
import { API_KEY, startStack, type Stack } from '../apps/api/test/support/stack.ts';
import { platformHealth } from './platform-health-check.ts';
import { refreshReport, renderReport } from './scheduled-refresh-report.ts';
import { spotifyProfileRoute } from './spotify-profile-route.ts';
import { extractYouTube } from './youtube-extraction.ts';

let s: Stack;
let conduit: ConduitClient;

beforeAll(async () => {
  s = await startStack({ label: 'examples' });
  conduit = new ConduitClient({ baseUrl: s.publicUrl, apiKey: API_KEY });
});

afterAll(async () => {
  await s?.close();
});

async function connect(
  provider: 'spotify' | 'github' | 'google',
  ownerId: string,
  extra: { teamId?: string; products?: string[] } = {},
) {
  const email = `${provider}-${ownerId}@example.com`;
  const attempt = await s.connect(provider, ownerId, { email, ...extra });
  const { grants } = await s.sandboxGet<{ grants: Array<{ grantId: string; email: string }> }>(
    `/_sandbox/grants?provider=${provider}`,
  );
  return {
    email,
    connectionId: attempt.message!.connectionId!,
    grantId: grants.find((g) => g.email === email)!.grantId,
  };
}

describe('examples › Spotify profile route', () => {
  let app: Server;
  let url: string;

  beforeAll(async () => {
    const route = spotifyProfileRoute(conduit, {
      spotifyApiBase: `${s.sandbox.url}${PROVIDERS.spotify.sandboxPaths.apiBaseUrl}`,
      userOf: (req) => req.headers['x-user'] as string | undefined,
    });
    app = createServer((req, res) => void route(req, res));
    await new Promise<void>((r) => app.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(app.address() as AddressInfo).port}/api/spotify/me`;
  });

  afterAll(async () => {
    await new Promise((r) => app.close(r));
  });

  it('shows the profile; survives Spotify refusing the token; offers a reconnect once the grant is gone', async () => {
    const ownerId = `user-${randomUUID()}`;
    const u = await connect('spotify', ownerId);
    const ok = await fetch(url, { headers: { 'x-user': ownerId } });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ email: u.email });

    await s.sandboxPost(`/_sandbox/grants/${u.grantId}/expire`, { accessToken: true });
    conduit.forgetTokens();
    const afterRefusal = await fetch(url, { headers: { 'x-user': ownerId } });
    expect(afterRefusal.status).toBe(200);

    const stranger = await fetch(url, { headers: { 'x-user': `nobody-${randomUUID()}` } });
    expect(stranger.status).toBe(409);
    expect(((await stranger.json()) as { reconnect: string }).reconnect).toContain('state=');
  });
});

describe('examples › YouTube extraction', () => {
  it("reads the user's channel and uploads through the proxy", async () => {
    const ownerId = `user-${randomUUID()}`;
    await connect('google', ownerId, { products: ['youtube'] });
    const extract = await extractYouTube(conduit, ownerId);
    expect(extract.channelId).toMatch(/^UC/);
    expect(extract.subscribers).toBe(42);
    expect(extract.uploads).toHaveLength(5);
    expect(extract.uploads[0]!.title).toContain('Video 1');
  });

  it('without the YouTube scope, says so instead of returning nothing', async () => {
    const ownerId = `user-${randomUUID()}`;
    await connect('google', ownerId);
    await expect(extractYouTube(conduit, ownerId)).rejects.toThrow(/YouTube answered 403/);
  });
});

describe('examples › platform health check', () => {
  it('says per platform whether it is usable and, if not, what to do', async () => {
    const ownerId = `user-${randomUUID()}`;
    await connect('spotify', ownerId);
    await connect('github', ownerId);
    const broken = await connect('google', ownerId);
    await s.ctx.db.connection.update({
      where: { id: broken.connectionId },
      data: { status: 'needs_reauth', statusReason: 'invalid_grant' },
    });
    const health = await platformHealth(conduit, ownerId);
    const by = Object.fromEntries(health.map((h) => [h.provider, h]));
    expect(by.spotify).toMatchObject({ usable: true, action: 'none' });
    expect(by.github).toMatchObject({ usable: true, action: 'none', tokenExpiresAt: null });
    expect(by.google).toMatchObject({ usable: false, action: 'reconnect', status: 'needs_reauth' });
  });
});

describe('examples › scheduled refresh report', () => {
  it("reports a team's connections by status and who must reconnect", async () => {
    const teamId = `team-${randomUUID()}`;
    await connect('spotify', `a-${randomUUID()}`, { teamId });
    await connect('github', `b-${randomUUID()}`, { teamId });
    const gone = await connect('spotify', `c-${randomUUID()}`, { teamId });
    await s.ctx.db.connection.update({
      where: { id: gone.connectionId },
      data: {
        status: 'needs_reauth',
        statusReason: 'invalid_grant',
        lastRefreshError: 'invalid_grant: revoked',
      },
    });
    const report = await refreshReport(conduit, teamId);
    expect(report.total).toBe(3);
    expect(report.byStatus).toEqual({ connected: 2, needs_reauth: 1 });
    expect(report.mustReconnect).toEqual([
      expect.objectContaining({ provider: 'spotify', reason: 'invalid_grant' }),
    ]);
    expect(report.lastErrors).toHaveLength(1);
    expect(renderReport(report)).toContain('Must reconnect: 1');
  });
});
