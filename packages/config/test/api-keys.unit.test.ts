import { describe, expect, it } from 'vitest';
import { loadConfig, sha256Hex } from '../src/index.ts';
import { PRODUCTION_ENV, problemFor } from './helpers.ts';

const HASH = sha256Hex('a-random-key');

describe('CONDUIT_API_KEYS', () => {
  it('an entry without scopes may only read connections (least privilege by default)', () => {
    const { security } = loadConfig({ CONDUIT_API_KEYS: `reporting:${HASH}` }, { isTTY: false });
    expect(security.apiKeys).toEqual([{ name: 'reporting', scopes: ['connections:read'], sha256: HASH }]);
  });

  it('several keys load at once, so one can be rotated while the other still works', () => {
    const { security } = loadConfig(
      {
        CONDUIT_API_KEYS: `backend:tokens:read:${HASH},backend:tokens:read+connections:write:${sha256Hex('new')}`,
      },
      { isTTY: false },
    );
    expect(security.apiKeys.map((k) => k.scopes)).toEqual([
      ['tokens:read'],
      ['tokens:read', 'connections:write'],
    ]);
  });

  it('a key pasted in clear is refused without being repeated', () => {
    const line = problemFor('CONDUIT_API_KEYS', { CONDUIT_API_KEYS: 'plain-secret-key-123' });
    expect(line).toContain('entry 1 is not name:scopes:sha256hex (keys are stored hashed, never in clear)');
    expect(line).not.toContain('plain-secret-key-123');
  });

  it('a hash that is not 64 hex digits, a bad name and an unknown scope each say what to fix', () => {
    expect(problemFor('CONDUIT_API_KEYS', { CONDUIT_API_KEYS: 'app:tokens:read:abc' })).toContain(
      'key "app" does not end in the 64 hex digits',
    );
    expect(problemFor('CONDUIT_API_KEYS', { CONDUIT_API_KEYS: `my app:${HASH}` })).toContain(
      'entry 1 has the name "my app"',
    );
    expect(problemFor('CONDUIT_API_KEYS', { CONDUIT_API_KEYS: `app:tokens:write:${HASH}` })).toContain(
      'key "app" has the unknown scope "tokens:write"; expected some of connections:read, tokens:read',
    );
    expect(problemFor('CONDUIT_API_KEYS', { CONDUIT_API_KEYS: `a:${HASH},b:${HASH}` })).toContain(
      'key "b" repeats the hash of an earlier entry',
    );
  });

  it('production refuses an entry holding the published development key, whatever its name', () => {
    const line = problemFor('CONDUIT_API_KEYS', {
      ...PRODUCTION_ENV,
      CONDUIT_API_KEYS: `${PRODUCTION_ENV.CONDUIT_API_KEYS},other:${sha256Hex('dev-api-key')}`,
    });
    expect(line).toContain('holds the hash of the development key "dev-api-key", which is public');
  });
});
