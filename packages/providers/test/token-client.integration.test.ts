// The client's transport over real sockets, against a scripted node:http server: what goes on
// the wire, keep-alive reuse, every timeout, dropped connections, aborts and oversized answers.
// Provider behaviour end to end is in token-client.sandbox.integration.test.ts.
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { TokenClient } from '../src/index.ts';
import type { TokenClientOptions } from '../src/index.ts';

type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;

const SECRET = 'very-secret-value';
const REFRESH = 'refresh-token-value';
let server: Server;
let base: string;
let handler: Handler;
let connections = 0;
const sockets = new Set<Socket>();
const received: { headers: IncomingMessage['headers']; body: string; url: string | undefined }[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => {
      received.push({ headers: req.headers, body, url: req.url });
      handler(req, res, body);
    });
  });
  server.on('connection', (s: Socket) => {
    connections += 1;
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterEach(() => {
  // Hung handlers keep their sockets; drop them so the next test starts clean.
  for (const s of sockets) s.destroy();
  received.length = 0;
  connections = 0;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

function json(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

function client(overrides: Partial<TokenClientOptions> = {}): TokenClient {
  return new TokenClient({
    providers: {
      spotify: { clientId: 'cid', clientSecret: SECRET, tokenUrl: `${base}/spotify/api/token` },
      fathom: { clientId: 'cid', clientSecret: SECRET, tokenUrl: `${base}/fathom/token?tenant=1` },
      github: { clientId: 'cid', clientSecret: SECRET, tokenUrl: `${base}/github/token` },
    },
    timeouts: { connectMs: 300, headersMs: 300, bodyMs: 300 },
    rateLimitDefaultWaitMs: 60_000,
    userAgent: 'Conduit-Test/1',
    ...overrides,
  });
}

describe('TokenClient › on the wire', () => {
  it('posts a form with Basic client auth, Accept: application/json and the user agent', async () => {
    handler = (_req, res) => json(res, 200, { access_token: 'a', expires_in: 3600 });
    const tc = client();
    try {
      expect(await tc.refresh('spotify', REFRESH, { scope: 'x y' })).toEqual({
        kind: 'tokens',
        accessToken: 'a',
        expiresInSeconds: 3600,
      });
      const [req] = received;
      expect(req?.url).toBe('/spotify/api/token');
      expect(req?.headers).toMatchObject({
        'content-type': 'application/x-www-form-urlencoded',
        accept: 'application/json',
        'user-agent': 'Conduit-Test/1',
        authorization: `Basic ${Buffer.from(`cid:${SECRET}`).toString('base64')}`,
      });
      expect(Object.fromEntries(new URLSearchParams(req?.body))).toEqual({
        grant_type: 'refresh_token',
        refresh_token: REFRESH,
        scope: 'x y',
      });
    } finally {
      await tc.close();
    }
  });

  it('posts client credentials in the body for body-auth providers, keeping the URL query', async () => {
    handler = (_req, res) => json(res, 200, { access_token: 'a', refresh_token: 'b' });
    const tc = client();
    try {
      await tc.exchangeCode('fathom', {
        code: 'c0de',
        redirectUri: 'http://localhost/cb',
        codeVerifier: 'ver',
      });
      const [req] = received;
      expect(req?.url).toBe('/fathom/token?tenant=1');
      expect(req?.headers.authorization).toBeUndefined();
      expect(Object.fromEntries(new URLSearchParams(req?.body))).toEqual({
        grant_type: 'authorization_code',
        code: 'c0de',
        redirect_uri: 'http://localhost/cb',
        code_verifier: 'ver',
        client_id: 'cid',
        client_secret: SECRET,
      });
    } finally {
      await tc.close();
    }
  });

  it('reuses one keep-alive socket, error answers included (their bodies are read)', async () => {
    let n = 0;
    handler = (_req, res) => {
      n += 1;
      if (n === 2) json(res, 400, { error: 'invalid_grant' });
      else if (n === 3) json(res, 429, { retry_after: 1 }, { 'retry-after': '2' });
      else json(res, 200, { access_token: `a${n}` });
    };
    const tc = client();
    // undici frees a pooled socket a tick after the body ends; back-to-back calls in one tick would open a second.
    const call = async () => {
      const outcome = await tc.refresh('spotify', REFRESH);
      await new Promise((resolve) => setImmediate(resolve));
      return outcome;
    };
    try {
      expect(await call()).toMatchObject({ kind: 'tokens' });
      expect(await call()).toMatchObject({ kind: 'invalid_grant', status: 400 });
      expect(await call()).toEqual({ kind: 'rate_limited', waitMs: 2_000, status: 429 });
      expect(await call()).toMatchObject({ kind: 'tokens', accessToken: 'a4' });
      expect(connections).toBe(1);
    } finally {
      await tc.close();
    }
  });
});

describe('TokenClient › failures without an HTTP answer', () => {
  it('a server that never answers is a transient timeout after headersMs', async () => {
    handler = () => {};
    // A long body timeout keeps the overall deadline out of the way; undici's timers tick at ~0.5 s.
    const tc = client({ timeouts: { connectMs: 300, headersMs: 300, bodyMs: 5_000 } });
    try {
      const started = Date.now();
      const outcome = await tc.refresh('spotify', REFRESH);
      expect(outcome).toMatchObject({ kind: 'transient', cause: 'timeout' });
      expect(outcome).toHaveProperty('detail', expect.stringContaining('headers timeout'));
      expect(Date.now() - started).toBeLessThan(2_500);
    } finally {
      await tc.close();
    }
  });

  it('a body that stalls is a transient timeout after bodyMs', async () => {
    handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '100' });
      res.write('{"access_token":');
    };
    const tc = client({ timeouts: { connectMs: 300, headersMs: 5_000, bodyMs: 300 } });
    try {
      const outcome = await tc.refresh('spotify', REFRESH);
      expect(outcome).toMatchObject({ kind: 'transient', cause: 'timeout' });
      expect(outcome).toHaveProperty('detail', expect.stringContaining('body timeout'));
    } finally {
      await tc.close();
    }
  });

  it('a body that trickles past the whole deadline is a transient timeout', async () => {
    handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      const t = setInterval(() => (res.destroyed ? clearInterval(t) : res.write(' ')), 100);
    };
    const tc = client();
    try {
      const started = Date.now();
      const outcome = await tc.refresh('spotify', REFRESH);
      expect(outcome).toMatchObject({
        kind: 'transient',
        cause: 'timeout',
        detail: expect.stringContaining('900 ms'),
      });
      expect(Date.now() - started).toBeLessThan(2_000);
    } finally {
      await tc.close();
    }
  });

  it('a dropped connection is a transient network failure', async () => {
    handler = (req) => req.socket.destroy();
    const tc = client();
    try {
      expect(await tc.refresh('spotify', REFRESH)).toMatchObject({ kind: 'transient', cause: 'network' });
    } finally {
      await tc.close();
    }
  });

  it('a connection cut mid-body is a transient network failure', async () => {
    handler = (req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '100' });
      res.write('{"access_token":"a', () => req.socket.destroy());
    };
    const tc = client();
    try {
      expect(await tc.refresh('spotify', REFRESH)).toMatchObject({ kind: 'transient', cause: 'network' });
    } finally {
      await tc.close();
    }
  });

  it('a refused connection is a transient network failure', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const tc = client({
      providers: {
        spotify: { clientId: 'cid', clientSecret: SECRET, tokenUrl: `http://127.0.0.1:${port}/token` },
      },
    });
    try {
      expect(await tc.refresh('spotify', REFRESH)).toMatchObject({
        kind: 'transient',
        cause: 'network',
        detail: expect.stringContaining('ECONNREFUSED'),
      });
    } finally {
      await tc.close();
    }
  });

  it("the caller's abort signal ends the request as a transient timeout", async () => {
    handler = () => {};
    const tc = client({ timeouts: { connectMs: 5_000, headersMs: 5_000, bodyMs: 5_000 } });
    try {
      const started = Date.now();
      const outcome = await tc.refresh('spotify', REFRESH, { signal: AbortSignal.timeout(100) });
      expect(outcome).toMatchObject({
        kind: 'transient',
        cause: 'timeout',
        detail: expect.stringContaining('aborted by the caller'),
      });
      expect(Date.now() - started).toBeLessThan(1_000);
      const already = new AbortController();
      already.abort();
      expect(await tc.refresh('spotify', REFRESH, { signal: already.signal })).toMatchObject({
        kind: 'transient',
        cause: 'timeout',
      });
    } finally {
      await tc.close();
    }
  });

  it('an answer without a declared length (chunked) is read whole within the limit', async () => {
    handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"access_token":"a","exp');
      setTimeout(() => res.end('ires_in":3600}'), 5);
    };
    const tc = client({ maxResponseBytes: 1_024 });
    try {
      expect(await tc.refresh('spotify', REFRESH)).toMatchObject({ kind: 'tokens', accessToken: 'a' });
    } finally {
      await tc.close();
    }
  });

  it('an answer whose declared length is exactly the limit is read whole; one byte more is cut', async () => {
    const body = JSON.stringify({ access_token: 'a', expires_in: 3600 });
    handler = (_req, res) => json(res, 200, JSON.parse(body));
    const exact = client({ maxResponseBytes: Buffer.byteLength(body) });
    const short = client({ maxResponseBytes: Buffer.byteLength(body) - 1 });
    try {
      expect(await exact.refresh('spotify', REFRESH)).toMatchObject({ kind: 'tokens', accessToken: 'a' });
      expect(await short.refresh('spotify', REFRESH)).toMatchObject({ kind: 'transient', status: 200 });
    } finally {
      await exact.close();
      await short.close();
    }
  });

  it('an oversized answer is cut, and a cut 2xx is a transient server_error', async () => {
    handler = (_req, res) => json(res, 200, { access_token: 'a', padding: 'x'.repeat(200_000) });
    const tc = client({ maxResponseBytes: 1_024 });
    try {
      expect(await tc.refresh('spotify', REFRESH)).toMatchObject({
        kind: 'transient',
        cause: 'server_error',
        status: 200,
      });
    } finally {
      await tc.close();
    }
  });
});

describe('TokenClient › secrets', () => {
  it('no outcome carries the client secret or the refresh token, whatever the server echoes', async () => {
    const echo: Handler = (_req, res, body) =>
      json(res, 400, { error: 'invalid_request', error_description: 'no', echoed: body });
    const outcomes = [];
    const tc = client({ maxResponseBytes: 1_024 });
    try {
      for (const h of [
        echo,
        (_req: IncomingMessage, res: ServerResponse, body: string) => json(res, 500, { echoed: body }),
        (_req: IncomingMessage, res: ServerResponse, body: string) => json(res, 200, { echoed: body }),
        (_req: IncomingMessage, res: ServerResponse, body: string) => {
          res.writeHead(200, { 'content-type': 'text/html' });
          res.end(`<pre>${body}</pre>`);
        },
        (req: IncomingMessage) => req.socket.destroy(),
        () => {},
      ] satisfies Handler[]) {
        handler = h;
        outcomes.push(await tc.refresh('fathom', REFRESH));
      }
    } finally {
      await tc.close();
    }
    const text = JSON.stringify(outcomes);
    expect(text).not.toContain(SECRET);
    expect(text).not.toContain(REFRESH);
  });

  it('configuration errors name the field, never the secret', () => {
    expect(() =>
      client({ providers: { spotify: { clientId: 'cid', clientSecret: SECRET, tokenUrl: 'not a url' } } }),
    ).toThrow(/options\.providers\.spotify\.tokenUrl is not an absolute http\(s\) URL/);
    expect(() =>
      client({
        providers: { spotify: { clientId: 'cid', clientSecret: SECRET, tokenUrl: `http://u:${SECRET}@h/t` } },
      }),
    ).toThrow(expect.objectContaining({ message: expect.not.stringContaining(SECRET) }));
    expect(() =>
      client({ providers: { spotify: { clientId: 'cid', clientSecret: '', tokenUrl: base } } }),
    ).toThrow(/clientSecret is empty/);
    expect(() => client({ timeouts: { connectMs: 0, headersMs: 1, bodyMs: 1 } })).toThrow(
      /timeouts\.connectMs/,
    );
  });
});

describe('TokenClient › misuse throws', () => {
  it('a provider that is not enabled', async () => {
    const tc = client();
    try {
      await expect(tc.refresh('discord', REFRESH)).rejects.toThrow(
        /"discord" is not enabled; enabled: spotify, fathom, github/,
      );
    } finally {
      await tc.close();
    }
  });
  it('refreshing a provider whose tokens cannot be refreshed (catalogue refresh.kind none)', async () => {
    const tc = client();
    try {
      await expect(tc.refresh('github', REFRESH)).rejects.toThrow(/cannot be refreshed/);
      await expect(tc.refresh('spotify', '')).rejects.toThrow(/empty/);
    } finally {
      await tc.close();
    }
  });
  it('use after close()', async () => {
    const tc = client();
    await tc.close();
    await tc.close();
    await expect(tc.refresh('spotify', REFRESH)).rejects.toThrow(/after close/);
  });
});
