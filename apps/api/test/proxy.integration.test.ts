import { randomUUID } from 'node:crypto';
import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_KEY, startStack, type Stack } from './support/stack.ts';

// A stand-in provider API for what the sandbox does not imitate (echoing what arrived, huge or
// slow answers); Discord's API base points at it. Every request it gets is recorded, so a test
// can show that nothing reached a path outside the base.
interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}
const seen: Seen[] = [];
let provider: Server;
let providerUrl: string;

function startProvider(): Promise<void> {
  provider = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      seen.push({ method: req.method!, url: req.url!, headers: req.headers, body });
      if (req.url === '/api/big') {
        res.writeHead(200, { 'content-type': 'text/plain' }).end('x'.repeat(64 * 1024));
      } else if (req.url === '/api/slow') {
        setTimeout(() => res.writeHead(200).end('late'), 3_000).unref();
      } else if (req.url === '/api/moved') {
        res.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data' }).end();
      } else {
        res
          .writeHead(req.url!.startsWith('/api/created') ? 201 : 200, {
            'content-type': 'application/json',
            'x-ratelimit-remaining': '41',
            'x-ratelimit-reset-after': '1.5',
            link: '<https://discord.com/api/v10/next>; rel="next"',
            'set-cookie': 'session=provider',
            'x-internal': 'not-for-you',
          })
          .end(JSON.stringify({ method: req.method, url: req.url, body }));
      }
    });
  });
  return new Promise((resolve) =>
    provider.listen(0, '127.0.0.1', () => {
      providerUrl = `http://127.0.0.1:${(provider.address() as AddressInfo).port}`;
      resolve();
    }),
  );
}

let s: Stack;
let discordId: string;

beforeAll(async () => {
  await startProvider();
  s = await startStack({
    label: 'proxy',
    env: {
      CONDUIT_DISCORD_API_BASE_URL: `${providerUrl}/api`,
      CONDUIT_PROXY_TIMEOUT_MS: '800',
      CONDUIT_PROXY_MAX_BODY_BYTES: '2048',
      CONDUIT_PROXY_MAX_RESPONSE_BYTES: '4096',
      CONDUIT_FORCE_REFRESH_WINDOW_SECONDS: '1',
    },
  });
  // A Discord connection stored directly: its API is the stand-in above.
  const conn = await s.ctx.db.connection.create({
    data: {
      ownerId: `owner-${randomUUID()}`,
      provider: 'discord',
      accessTokenEnc: s.ctx.vault.encrypt('discord-access-token'),
      refreshTokenEnc: s.ctx.vault.encrypt('discord-refresh-token'),
      tokenExpiresAt: new Date(Date.now() + 86_400_000),
    },
  });
  discordId = conn.id;
});

afterAll(async () => {
  await s?.close();
  await new Promise((r) => provider?.close(r));
});

/** A request line exactly as written: fetch() would normalise `..` and encodings away. */
function raw(method: string, path: string, body?: string, headers: Record<string, string> = {}) {
  return new Promise<{ status: number; headers: IncomingMessage['headers']; body: string }>(
    (resolve, reject) => {
      const url = new URL(s.publicUrl);
      const req = httpRequest(
        {
          host: url.hostname,
          port: url.port,
          method,
          path,
          headers: { authorization: `Bearer ${API_KEY}`, ...headers },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () =>
            resolve({
              status: res.statusCode!,
              headers: res.headers,
              body: Buffer.concat(chunks).toString('utf8'),
            }),
          );
        },
      );
      req.on('error', reject);
      req.end(body);
    },
  );
}

async function spotifyUser() {
  const ownerId = `owner-${randomUUID()}`;
  const email = `${ownerId}@example.com`;
  const attempt = await s.connect('spotify', ownerId, { email });
  const { grants } = await s.sandboxGet<{ grants: Array<{ grantId: string; email: string }> }>(
    '/_sandbox/grants?provider=spotify',
  );
  return {
    connectionId: attempt.message!.connectionId!,
    grantId: grants.find((g) => g.email === email)!.grantId,
    email,
  };
}

describe('proxy › forwarding', () => {
  it("calls the provider's API with the connection's token and hands its answer back", async () => {
    const u = await spotifyUser();
    const res = await s.api('GET', `/v1/proxy/${u.connectionId}/me`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ email: u.email, type: 'user' });
  });

  it('on a 401 it forces one refresh and retries once', async () => {
    const u = await spotifyUser();
    // The sandbox stops honouring the token while Conduit still thinks it valid.
    await s.sandboxPost(`/_sandbox/grants/${u.grantId}/expire`, { accessToken: true });
    const res = await s.api('GET', `/v1/proxy/${u.connectionId}/me`);
    expect(res.status).toBe(200);
    expect(res.headers.get('conduit-proxy-retried')).toBe('true');
    expect((await s.sandboxGet<{ refreshes: number }>(`/_sandbox/grants/${u.grantId}`)).refreshes).toBe(1);
  });

  it("passes the provider's status, body and rate-limit headers back (a 429 with its Retry-After)", async () => {
    const u = await spotifyUser();
    await s.sandboxPost('/_sandbox/faults', {
      provider: 'spotify',
      endpoint: 'api',
      rate429: 1,
      retryAfterSeconds: 7,
    });
    try {
      const res = await s.api('GET', `/v1/proxy/${u.connectionId}/me`);
      expect(res.status).toBe(429);
      expect(res.headers.get('retry-after')).toBe('7');
    } finally {
      await fetch(`${s.sandbox.url}/_sandbox/faults`, { method: 'DELETE' });
    }
  });

  it("forwards method, query and body; injects the token; drops the caller's credentials and cookies", async () => {
    seen.length = 0;
    const res = await raw('POST', `/v1/proxy/${discordId}/created?a=1&b=%20x`, '{"hello":"world"}', {
      'content-type': 'application/json',
      cookie: 'app-session=secret',
      'x-api-key': API_KEY,
      'conduit-provider-x-audit-log-reason': 'because',
    });
    expect(res.status).toBe(201);
    expect(JSON.parse(res.body)).toEqual({
      method: 'POST',
      url: '/api/created?a=1&b=%20x',
      body: '{"hello":"world"}',
    });
    expect(res.headers['x-ratelimit-remaining']).toBe('41');
    expect(res.headers['x-ratelimit-reset-after']).toBe('1.5');
    expect(res.headers.link).toContain('rel="next"');
    expect(res.headers['set-cookie']).toBeUndefined();
    expect(res.headers['x-internal']).toBeUndefined();
    const got = seen.at(-1)!;
    expect(got.headers.authorization).toBe('Bearer discord-access-token');
    expect(got.headers['x-audit-log-reason']).toBe('because');
    expect(got.headers.cookie).toBeUndefined();
    expect(got.headers['x-api-key']).toBeUndefined();
    for (const method of ['PUT', 'PATCH', 'DELETE']) {
      expect(JSON.parse((await raw(method, `/v1/proxy/${discordId}/things/1`)).body).method).toBe(method);
    }
  });

  it('never follows a redirect: the Location goes back to the caller', async () => {
    seen.length = 0;
    const res = await raw('GET', `/v1/proxy/${discordId}/moved`);
    expect(res.status).toBe(302);
    expect(res.headers.location).toBe('http://169.254.169.254/latest/meta-data');
    expect(seen).toHaveLength(1);
  });
});

describe('proxy › limits', () => {
  it('a request body over CONDUIT_PROXY_MAX_BODY_BYTES is refused with 413 and never sent', async () => {
    seen.length = 0;
    const res = await raw('POST', `/v1/proxy/${discordId}/created`, 'x'.repeat(4096), {
      'content-type': 'text/plain',
    });
    expect(res.status).toBe(413);
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(seen).toHaveLength(0);
  });

  it('an answer over CONDUIT_PROXY_MAX_RESPONSE_BYTES is 502 provider_response_too_large', async () => {
    const res = await raw('GET', `/v1/proxy/${discordId}/big`);
    expect(res.status).toBe(502);
    expect(JSON.parse(res.body)).toMatchObject({ code: 'provider_response_too_large' });
  });

  it('a provider slower than CONDUIT_PROXY_TIMEOUT_MS is 504 provider_timeout', async () => {
    const started = Date.now();
    const res = await raw('GET', `/v1/proxy/${discordId}/slow`);
    expect(res.status).toBe(504);
    expect(JSON.parse(res.body)).toMatchObject({ code: 'provider_timeout' });
    expect(Date.now() - started).toBeLessThan(2_500);
  });
});

describe('proxy › never any host or path outside the provider API base (SSRF)', () => {
  it.each([
    '../admin/health',
    '..%2f..%2fadmin',
    '%2e%2e/%2e%2e/admin',
    'x/../../../admin',
    '%2F%2Fevil.example/x',
    '/evil.example/x',
    'https://evil.example/x',
    'http:%2F%2Fevil.example',
    '..\\..\\admin',
    '%5c%5cevil.example',
    './x',
    '',
  ])('/v1/proxy/<id>/%s is refused with 400 invalid_path and reaches nothing', async (path) => {
    seen.length = 0;
    const res = await raw('GET', `/v1/proxy/${discordId}/${path}`);
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body)).toMatchObject({ code: 'invalid_path' });
    expect(seen).toHaveLength(0);
  });

  it('"@" in the path stays a path: the request still goes to the API base host', async () => {
    seen.length = 0;
    const res = await raw('GET', `/v1/proxy/${discordId}/@evil.example/x`);
    expect(res.status).toBe(200);
    expect(seen.map((r) => r.url)).toEqual(['/api/@evil.example/x']);
    const me = await raw('GET', `/v1/proxy/${discordId}/users/@me`);
    expect(JSON.parse(me.body).url).toBe('/api/users/@me');
  });
});

describe('proxy › errors', () => {
  it('404 not_found for an unknown connection, 409 needs_reauth when the grant is gone', async () => {
    expect(JSON.parse((await raw('GET', `/v1/proxy/${randomUUID()}/me`)).body)).toMatchObject({
      code: 'not_found',
    });
    const u = await spotifyUser();
    await s.sandboxPost(`/_sandbox/grants/${u.grantId}/revoke`);
    const res = await s.api('GET', `/v1/proxy/${u.connectionId}/me`);
    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({
      code: 'needs_reauth',
      reconnectUrl: `${s.publicUrl}/v1/connect/spotify/start`,
    });
  });
});
