import { describe, expect, it } from 'vitest';
import { createLogger, createUserIdHasher, ownerLogFields } from '../src/index.ts';
import { capture } from './capture.ts';

describe('createUserIdHasher', () => {
  const hash = createUserIdHasher('log-hash-key-for-tests');

  it('is stable: the same id always gives the same pseudonym', () => {
    expect(hash('user-123')).toBe(hash('user-123'));
    expect(createUserIdHasher('log-hash-key-for-tests')('user-123')).toBe(hash('user-123'));
  });

  it('gives "u_" and 16 hex characters, different per id', () => {
    expect(hash('user-123')).toMatch(/^u_[0-9a-f]{16}$/);
    expect(hash('user-124')).not.toBe(hash('user-123'));
  });

  it('is keyed: another key gives another pseudonym', () => {
    expect(createUserIdHasher('another-log-hash-key')('user-123')).not.toBe(hash('user-123'));
  });

  it('is the HMAC-SHA256 of the id under the key', async () => {
    const { createHmac } = await import('node:crypto');
    const expected = createHmac('sha256', 'log-hash-key-for-tests')
      .update('user-123')
      .digest('hex')
      .slice(0, 16);
    expect(hash('user-123')).toBe(`u_${expected}`);
  });

  it('never contains the raw id', () => {
    for (const id of [
      'user-123',
      'alice@example.com',
      '6f1c2d9e-2b7a-4c43-9f0e-1a2b3c4d5e6f',
      'cl9ebqhxk00003b600tymydho',
    ]) {
      expect(hash(id)).not.toContain(id);
    }
  });

  it('refuses an empty key', () => {
    expect(() => createUserIdHasher('')).toThrow(/CONDUIT_LOG_HASH_KEY/);
  });
});

describe('ownerLogFields', () => {
  it('names the owner by pseudonym, and the logged line never holds the raw id', () => {
    const hash = createUserIdHasher('log-hash-key-for-tests');
    expect(ownerLogFields(hash, 'owner-5150')).toEqual({ owner: hash('owner-5150') });
    for (const format of ['json', 'pretty'] as const) {
      const out = capture();
      createLogger({ level: 'info', format, name: 't', destination: out }).info(
        ownerLogFields(hash, 'owner-5150'),
        'x',
      );
      expect(out.text()).toContain(hash('owner-5150'));
      expect(out.text()).not.toContain('owner-5150');
    }
  });
});
