import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  BUILT_IN_PROVIDERS_DIR,
  DeclarationError,
  loadCatalogue,
  loadDeclarations,
  PROVIDERS,
  providerSpec,
  useProviderFiles,
} from '../src/index.ts';

const ACME = `acme:
  displayName: Acme CRM
  endpoints:
    authorizeUrl: https://auth.acme.test/authorize
    tokenUrl: https://auth.acme.test/token
    apiBaseUrl: https://api.acme.test/v2
  clientAuth: basic
  refresh: { kind: refresh_token, rotation: always }
  accessTokenLifetimeSeconds: 2h
  identity: { kind: profile, path: /me, id: data.id, email: data.email }
`;

function problemsOf(text: string, file = 'acme.yaml'): string[] {
  try {
    loadDeclarations([{ file, text }]);
  } catch (err) {
    if (err instanceof DeclarationError) return err.message.split('\n');
    throw err;
  }
  return [];
}

describe('provider declarations', () => {
  afterAll(() => useProviderFiles([]));

  it('fills what a short declaration leaves out with the documented defaults', () => {
    const acme = loadDeclarations([{ file: 'acme.yaml', text: ACME }]).get('acme')!;
    expect(acme.accessTokenLifetimeSeconds).toBe(7200);
    expect(acme.acceptedClientAuth).toEqual(['basic']);
    expect(acme.sandboxPaths).toEqual({
      authorizeUrl: '/acme/oauth/authorize',
      tokenUrl: '/acme/oauth/token',
      apiBaseUrl: '/acme/api',
    });
    expect(acme.refresh).toEqual({
      kind: 'refresh_token',
      rotation: 'always',
      refreshTokenLifetime: { kind: 'none' },
    });
    expect(acme.rateLimit.signals).toEqual(['retry-after']);
    expect(acme.revocation.kind).toBe('none');
    expect(acme.dataSync).toBe('none');
  });

  it('names the file and line, the provider, the field and the fix of a mistake, one line each', () => {
    const lines = problemsOf(
      ACME.replace('rotation: always', 'rotation: sometime').replace(
        'clientAuth: basic',
        'clientAuth: basic\n  pcke: true',
      ),
    );
    expect(lines).toEqual([
      'acme.yaml:9: provider "acme", field "refresh.rotation": got "sometime", expected one of "always", "sometimes", "never"',
      'acme.yaml:8: provider "acme": unknown field "pcke"; remove it or check the spelling',
    ]);
  });

  it('says what is missing and what a value should look like', () => {
    const lines = problemsOf(
      ACME.replace('    tokenUrl: https://auth.acme.test/token\n', '').replace('2h', '2 hours'),
    );
    expect(lines).toContain(
      'acme.yaml:3: provider "acme", field "endpoints.tokenUrl": missing; add it (string)',
    );
    expect(
      lines.some((l) =>
        l.startsWith('acme.yaml:8: provider "acme", field "accessTokenLifetimeSeconds": expected seconds'),
      ),
    ).toBe(true);
  });

  it('refuses a bad key, a bad YAML file and an extends that names nothing', () => {
    expect(problemsOf(ACME.replace('acme:', 'Acme-CRM:'))[0]).toMatch(
      /^acme\.yaml:1: provider "Acme-CRM": a provider key is lower-case/,
    );
    expect(problemsOf('acme: [unclosed')[0]).toMatch(/^acme\.yaml:1: not valid YAML/);
    expect(problemsOf('acme:\n  extends: nobody\n')[0]).toMatch(
      /^acme\.yaml:2: provider "acme", field "extends": names "nobody", which is not declared/,
    );
  });

  it('overrides a built-in field by field with extends, and adds providers from a file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'conduit-providers-'));
    const file = join(dir, 'extra.yaml');
    writeFileSync(
      file,
      `${ACME}\nspotify:\n  extends: spotify\n  endpoints: { tokenUrl: https://proxy.internal/spotify/token }\n`,
    );
    useProviderFiles([file]);
    expect(providerSpec('acme' as 'spotify').displayName).toBe('Acme CRM');
    expect(PROVIDERS.spotify.endpoints.tokenUrl).toBe('https://proxy.internal/spotify/token');
    expect(PROVIDERS.spotify.endpoints.authorizeUrl).toBe('https://accounts.spotify.com/authorize');
    expect(PROVIDERS.spotify.clientAuth).toBe('basic');
    useProviderFiles([]);
    expect(Object.keys(PROVIDERS)).not.toContain('acme');
  });

  it('reports a file it cannot read with the way to fix it', () => {
    expect(() => loadCatalogue(['/nonexistent/acme.yaml'])).toThrow(
      /^\/nonexistent\/acme\.yaml: cannot be read \(ENOENT\); CONDUIT_PROVIDERS_FILE lists declaration files/,
    );
  });

  it('ships its built-in declarations as files that load on their own', () => {
    expect(BUILT_IN_PROVIDERS_DIR).toMatch(/packages\/core\/providers$/);
    const specs = loadCatalogue();
    for (const key of ['fathom', 'spotify', 'google', 'discord', 'github', 'github_app']) {
      expect(specs.get(key)?.key).toBe(key);
    }
  });
});

describe('the seeds’ next providers, as declared (docs/providers.md)', () => {
  const specs = loadCatalogue();
  const spec = (key: string) => specs.get(key)!;

  it('declares all eight next to the first six', () => {
    for (const key of ['slack', 'zoom', 'typeform', 'twitter', 'linkedin', 'reddit', 'twitch', 'github']) {
      expect(spec(key).key).toBe(key);
    }
  });

  it('keeps their documented wire facts', () => {
    expect(spec('slack').tokenErrors.errorsWithHttp200).toBe(true);
    expect(spec('slack').tokenErrors.codes.invalid_refresh_token).toBe('invalid_grant');
    expect(spec('slack').scopes.separator).toBe(',');
    expect(spec('slack').accessTokenLifetimeSeconds).toBe(43_200);
    expect(spec('zoom').clientAuth).toBe('basic');
    expect(spec('zoom').tokenErrors.descriptions['Invalid Token!']).toBe('invalid_grant');
    expect(spec('typeform').scopes.default).toContain('offline');
    expect(spec('twitter').pkce).toBe(true);
    expect(spec('twitter').scopes.default).toContain('offline.access');
    expect(spec('twitter').rateLimit.signals).toContainEqual({
      header: 'x-rate-limit-reset',
      format: 'epoch-seconds',
    });
    expect(spec('linkedin').refresh).toMatchObject({
      refreshTokenLifetime: { kind: 'absolute_from_consent', seconds: 365 * 86_400 },
    });
    expect(spec('reddit').authorizeParams).toEqual({ duration: 'permanent' });
    expect(spec('reddit').rateLimit.signals).toContainEqual({
      header: 'x-ratelimit-reset',
      format: 'delta-seconds',
    });
    expect(spec('twitch').revocation).toMatchObject({ kind: 'rfc7009', clientAuth: 'client_id' });
    expect(spec('twitch').tokenErrors.descriptions['Invalid refresh token']).toBe('invalid_grant');
    expect(spec('github').refresh).toEqual({ kind: 'none' });
  });
});

describe('the README’s worked example', () => {
  it('is a 20–30 line declaration that loads as it is shown', () => {
    const file = new URL('../../../examples/providers/acme-crm.yaml', import.meta.url).pathname;
    const text = readFileSync(file, 'utf8');
    expect(text.trimEnd().split('\n').length).toBeLessThanOrEqual(30);
    const acme = loadCatalogue([file]).get('acme_crm')!;
    expect(acme.refresh).toMatchObject({ rotation: 'always' });
    expect(acme.rateLimit.signals).toContainEqual({ header: 'x-acme-retry-in', format: 'delta-seconds' });
  });
});
