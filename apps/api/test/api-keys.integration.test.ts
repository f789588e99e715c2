import { createHash, randomUUID } from 'node:crypto';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useApiKeys } from '../src/plugins/api-keys/index.ts';
import { installProblemHandler } from '../src/problem.ts';
import { API_KEYS_ENTRY, startStack, type Stack } from './support/stack.ts';

const sha256 = (key: string) => createHash('sha256').update(key).digest('hex');
const KEYS = {
  reader: 'reader-key-0123456789abcdef',
  tokens: 'tokens-key-0123456789abcdef',
  tokensNext: 'tokens-key-next-0123456789ab',
  writer: 'writer-key-0123456789abcdef',
};

let s: Stack;
let connectionId: string;

beforeAll(async () => {
  s = await startStack({
    label: 'api-keys',
    env: {
      CONDUIT_API_KEYS: [
        API_KEYS_ENTRY,
        `reporting:${sha256(KEYS.reader)}`,
        // The same app's key twice: the old one and its replacement, both valid while rotating.
        `backend:tokens:read:${sha256(KEYS.tokens)}`,
        `backend:tokens:read:${sha256(KEYS.tokensNext)}`,
        `admin:connections:write:${sha256(KEYS.writer)}`,
      ].join(','),
    },
  });
  const attempt = await s.connect('spotify', `owner-${randomUUID()}`, { email: 'keys@example.com' });
  connectionId = attempt.message!.connectionId!;
});

afterAll(async () => {
  await s?.close();
});

const as = (key: string) => ({ authorization: `Bearer ${key}` });

describe('API keys › scopes', () => {
  it('a key configured without scopes may read connections and nothing else', async () => {
    expect((await s.api('GET', `/v1/connections/${connectionId}`, undefined, as(KEYS.reader))).status).toBe(
      200,
    );
    const token = await s.api(
      'GET',
      `/v1/connections/${connectionId}/access-token`,
      undefined,
      as(KEYS.reader),
    );
    expect(token.status).toBe(403);
    expect(token.headers.get('content-type')).toContain('application/problem+json');
    expect(token.body).toMatchObject({ code: 'insufficient_scope', requiredScope: 'tokens:read' });
    expect(JSON.stringify(token.body)).not.toContain(KEYS.reader);
    const start = await s.api('POST', '/v1/connect/spotify/start', { ownerId: 'o' }, as(KEYS.reader));
    expect(start.body).toMatchObject({ status: 403, requiredScope: 'connections:write' });
  });

  it('tokens:read reads tokens but may not list connections, start, disconnect or sync', async () => {
    expect(
      (await s.api('GET', `/v1/connections/${connectionId}/access-token`, undefined, as(KEYS.tokens))).status,
    ).toBe(200);
    expect((await s.api('GET', `/v1/connections/${connectionId}`, undefined, as(KEYS.tokens))).status).toBe(
      403,
    );
    expect(
      (await s.api('DELETE', `/v1/connections/${connectionId}`, undefined, as(KEYS.tokens))).status,
    ).toBe(403);
    expect(
      (await s.api('POST', `/v1/connections/${connectionId}/sync`, { mode: 'full' }, as(KEYS.tokens))).status,
    ).toBe(403);
  });

  it('connections:write starts connect flows but reads no token', async () => {
    expect((await s.api('POST', '/v1/connect/spotify/start', { ownerId: 'o' }, as(KEYS.writer))).status).toBe(
      200,
    );
    expect(
      (await s.api('GET', `/v1/connections/${connectionId}/access-token`, undefined, as(KEYS.writer))).status,
    ).toBe(403);
  });

  it('the old and the new key of a rotation both work; an unknown key gets 401', async () => {
    for (const key of [KEYS.tokens, KEYS.tokensNext]) {
      expect(
        (await s.api('GET', `/v1/connections/${connectionId}/access-token`, undefined, as(key))).status,
      ).toBe(200);
    }
    const unknown = await s.api('GET', `/v1/connections/${connectionId}/access-token`, undefined, as('nope'));
    expect(unknown.status).toBe(401);
    expect(unknown.body).toMatchObject({ code: 'unauthorized' });
    expect(unknown.headers.get('www-authenticate')).toContain('Bearer');
  });

  it('x-api-key works as well as Authorization: Bearer', async () => {
    expect(
      (
        await s.api('GET', `/v1/connections/${connectionId}`, undefined, {
          authorization: '',
          'x-api-key': KEYS.reader,
        })
      ).status,
    ).toBe(200);
  });
});

describe('API keys › routes', () => {
  it('a route in an API-key scope that names no scope stops the server from starting', async () => {
    const app = Fastify();
    installProblemHandler(app);
    const start = async () => {
      await app.register(async (scoped) => {
        useApiKeys(scoped, []);
        scoped.get('/v1/forgotten', async () => 'open');
      });
      await app.ready();
    };
    await expect(start()).rejects.toThrow(/GET \/v1\/forgotten: an API-key route must name its scope/);
    await app.close().catch(() => undefined);
  });
});
