import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/index.ts';
import { PRODUCTION_ENV, problemFor } from './helpers.ts';

describe('loadConfig › CONDUIT_APP_ORIGIN', () => {
  it("is '*' in development and an origin, normalised, when set", () => {
    expect(loadConfig({}, { isTTY: false }).api.appOrigin).toBe('*');
    expect(
      loadConfig({ CONDUIT_APP_ORIGIN: 'https://App.Example.com:443/' }, { isTTY: false }).api.appOrigin,
    ).toBe('https://app.example.com');
    expect(loadConfig({ CONDUIT_APP_ORIGIN: 'http://localhost:5173' }, { isTTY: false }).api.appOrigin).toBe(
      'http://localhost:5173',
    );
  });

  it('refuses anything that is not an origin', () => {
    for (const value of [
      'https://app.example.com/settings',
      'app.example.com',
      'ftp://app.example.com',
      'https://a.example?x=1',
    ]) {
      expect(problemFor('CONDUIT_APP_ORIGIN', { CONDUIT_APP_ORIGIN: value })).toContain('is not an origin');
    }
  });

  it("is required in production, where '*' is refused", () => {
    const { CONDUIT_APP_ORIGIN: _, ...withoutOrigin } = PRODUCTION_ENV;
    expect(problemFor('CONDUIT_APP_ORIGIN', withoutOrigin)).toMatch(/required when NODE_ENV=production/);
    expect(problemFor('CONDUIT_APP_ORIGIN', { ...PRODUCTION_ENV, CONDUIT_APP_ORIGIN: '*' })).toContain(
      'would post connect results to any page',
    );
    expect(loadConfig(PRODUCTION_ENV, { isTTY: false }).api.appOrigin).toBe('https://app.example.com');
  });
});
