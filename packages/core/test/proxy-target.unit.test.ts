import { describe, expect, it } from 'vitest';
import { proxyTarget } from '../src/index.ts';

const BASE = 'https://api.spotify.com/v1';
const ok = (raw: string, base = BASE) => {
  const t = proxyTarget(base, raw);
  if (!t.ok) throw new Error(`refused ${raw}: ${t.reason}`);
  return t.url.href;
};
const refused = (raw: string, base = BASE) => {
  const t = proxyTarget(base, raw);
  return t.ok ? `allowed ${t.url.href}` : t.reason;
};

describe('proxy target › paths below the API base', () => {
  it('joins the path and query to the base, keeping the base path', () => {
    expect(ok('me')).toBe('https://api.spotify.com/v1/me');
    expect(ok('me/player/recently-played?limit=5&after=1')).toBe(
      'https://api.spotify.com/v1/me/player/recently-played?limit=5&after=1',
    );
    expect(ok('users/@me', 'https://discord.com/api/v10')).toBe('https://discord.com/api/v10/users/@me');
    expect(ok('search?q=a%20b%2Fc')).toBe('https://api.spotify.com/v1/search?q=a%20b%2Fc');
    expect(ok('user', 'https://api.github.com')).toBe('https://api.github.com/user');
    expect(ok('files/a%20b.txt')).toBe('https://api.spotify.com/v1/files/a%20b.txt');
  });

  it('a trailing slash in the base or the path is kept as given', () => {
    expect(ok('me', 'https://api.spotify.com/v1/')).toBe('https://api.spotify.com/v1/me');
    expect(ok('me/')).toBe('https://api.spotify.com/v1/me/');
  });
});

describe('proxy target › never another host or a path outside the base (SSRF)', () => {
  it.each([
    ['..', 'a "." or ".." segment'],
    ['../admin', 'a "." or ".." segment'],
    ['me/../../admin', 'a "." or ".." segment'],
    ['./me', 'a "." or ".." segment'],
    ['%2e%2e/admin', 'an encoded "/", "\\" or "."'],
    ['%2E%2E%2Fadmin', 'an encoded "/", "\\" or "."'],
    ['me%2f..%2f..%2fadmin', 'an encoded "/", "\\" or "."'],
    ['me%5c..%5cadmin', 'an encoded "/", "\\" or "."'],
    ['..\\admin', 'backslash'],
    ['\\\\evil.example/x', 'backslash'],
    ['/evil.example/x', 'starts with "/"'],
    ['//evil.example/x', 'starts with "/"'],
    ['https://evil.example/x', 'absolute URL'],
    ['http:evil.example', 'absolute URL'],
    ['a//b', 'empty segment'],
    ['me x', 'space'],
    ['me\n', 'control character'],
    ['me#frag', 'characters a URL path may not'],
    ['me%zz', 'not a percent-encoding'],
    ['', 'name the provider path'],
  ])('%s is refused (%s)', (raw, reason) => {
    expect(refused(raw)).toContain(reason);
  });

  it('"@" cannot become userinfo: the host stays the base host', () => {
    expect(ok('@evil.example/x', 'https://api.github.com')).toBe('https://api.github.com/@evil.example/x');
    expect(ok('user@evil.example')).toBe('https://api.spotify.com/v1/user@evil.example');
  });

  it('a query cannot carry the request elsewhere', () => {
    expect(ok('me?next=https://evil.example/')).toBe(
      'https://api.spotify.com/v1/me?next=https://evil.example/',
    );
  });

  it('an over-long path is refused', () => {
    expect(refused('a'.repeat(5000))).toContain('longer than');
  });
});
