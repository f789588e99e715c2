import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../src/index.ts';
import { WHO_AM_I, api, seedGrant } from './helpers.ts';

let sb: Sandbox;
beforeAll(async () => {
  sb = await startSandbox();
});
afterAll(() => sb.close());

describe('who am I › connect flows identify the account', () => {
  it.each([
    ['spotify', { id: expect.any(String), email: 'ada@example.com', display_name: 'Ada', type: 'user' }],
    ['google', { sub: expect.stringMatching(/^\d{21}$/), email: 'ada@example.com', email_verified: true }],
    [
      'discord',
      {
        id: expect.stringMatching(/^\d{17,20}$/),
        email: 'ada@example.com',
        verified: true,
        discriminator: '0',
      },
    ],
    ['github', { login: 'ada', id: expect.any(Number), email: 'ada@example.com', type: 'User' }],
    ['github_app', { login: 'ada', id: expect.any(Number), email: 'ada@example.com' }],
  ] as const)('%s', async (provider, shape) => {
    const g = await seedGrant(sb, provider, { email: 'ada@example.com' });
    const me = await api(sb, provider, WHO_AM_I[provider]!, g.accessToken);
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject(shape);
    expect(me.body).toMatchObject({
      [provider === 'google' ? 'sub' : 'id']: provider.startsWith('github')
        ? Number(g.accountId)
        : g.accountId,
    });
  });

  it('GitHub’s OAuth app and App see the same user for the same email', async () => {
    const a = await seedGrant(sb, 'github', { email: 'same@example.com' });
    const b = await seedGrant(sb, 'github_app', { email: 'same@example.com' });
    expect(a.accountId).toBe(b.accountId);
  });

  it('GitHub also takes "Authorization: token <t>"', async () => {
    const g = await seedGrant(sb, 'github');
    const res = await fetch(`${sb.url}/github/api/user`, {
      headers: { authorization: `token ${g.accessToken}` },
    });
    expect(res.status).toBe(200);
  });
});

describe('who am I › 401 on bad tokens, in each provider’s words', () => {
  it.each([
    ['spotify', { error: { status: 401, message: 'Invalid access token' } }],
    ['google', { error: 'invalid_request', error_description: 'Invalid Credentials' }],
    ['discord', { message: '401: Unauthorized', code: 0 }],
    [
      'github',
      { message: 'Bad credentials', documentation_url: 'https://docs.github.com/rest', status: '401' },
    ],
  ] as const)('%s', async (provider, body) => {
    const res = await api(sb, provider, WHO_AM_I[provider]!, 'not-a-token');
    expect(res.status).toBe(401);
    expect(res.body).toEqual(body);
  });

  it('Spotify says when the token expired', async () => {
    const g = await seedGrant(sb, 'spotify');
    await fetch(`${sb.url}/_sandbox/grants/${g.grantId}/expire`, { method: 'POST' });
    const res = await api(sb, 'spotify', '/me', g.accessToken);
    expect(res.body).toEqual({ error: { status: 401, message: 'The access token expired' } });
  });
});
