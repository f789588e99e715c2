import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig, loadDotEnv, REPOSITORY_ROOT } from '../src/index.ts';

const dev = (env: NodeJS.ProcessEnv) => loadConfig(env, { isTTY: false });

describe('loadConfig › ports derive the URLs', () => {
  it('CONDUIT_API_PORT moves CONDUIT_PUBLIC_URL, so OAuth redirects follow the api', () => {
    expect(dev({ CONDUIT_API_PORT: '3100' }).api.publicUrl).toBe('http://127.0.0.1:3100');
  });

  it('CONDUIT_SANDBOX_PORT moves CONDUIT_SANDBOX_URL, so provider traffic follows the sandbox', () => {
    const config = dev({ CONDUIT_SANDBOX_PORT: '4100' });
    expect(config.providers.sandboxUrl).toBe('http://127.0.0.1:4100');
    expect(config.providers.sandboxBrowserUrl).toBe('http://127.0.0.1:4100');
  });

  it('the local datastore ports move DATABASE_URL and REDIS_URL while those are unset', () => {
    const config = dev({ CONDUIT_LOCAL_POSTGRES_PORT: '5544', CONDUIT_LOCAL_REDIS_PORT: '6380' });
    expect(config.database.url).toBe('postgresql://postgres@127.0.0.1:5544/conduit');
    expect(config.database.urlIsSet).toBe(false);
    expect(config.redis.url).toBe('redis://127.0.0.1:6380');
    expect(config.redis.urlIsSet).toBe(false);
  });

  it('a URL that is set wins over its port', () => {
    const config = dev({ CONDUIT_API_PORT: '3100', CONDUIT_PUBLIC_URL: 'https://conduit.example.com' });
    expect(config.api.publicUrl).toBe('https://conduit.example.com');
    expect(dev({ DATABASE_URL: 'postgresql://db/x' }).database.urlIsSet).toBe(true);
  });

  it('a port that is not a number is one problem, not a second one about the URL built from it', () => {
    expect(() => dev({ CONDUIT_API_PORT: 'abc' })).toThrow(/CONDUIT_API_PORT/);
    try {
      dev({ CONDUIT_API_PORT: 'abc' });
    } catch (error) {
      expect((error as { problems: string[] }).problems).toHaveLength(1);
    }
  });

  it('the browser-facing sandbox URL can differ from the one the apps use (docker compose)', () => {
    const config = dev({
      CONDUIT_SANDBOX_URL: 'http://sandbox:4000',
      CONDUIT_SANDBOX_BROWSER_URL: 'http://127.0.0.1:4000/',
    });
    expect(config.providers.sandboxUrl).toBe('http://sandbox:4000');
    expect(config.providers.sandboxBrowserUrl).toBe('http://127.0.0.1:4000');
  });

  it('CONDUIT_DATA_DIR is taken from the repository root unless absolute', () => {
    expect(dev({}).runtime.dataDir).toBe(join(REPOSITORY_ROOT, '.conduit'));
    expect(dev({ CONDUIT_DATA_DIR: '/var/lib/conduit' }).runtime.dataDir).toBe('/var/lib/conduit');
  });
});

describe('loadDotEnv', () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('adds what the file sets, and the environment wins over the file', () => {
    dir = mkdtempSync(join(tmpdir(), 'conduit-dotenv-'));
    const file = join(dir, '.env');
    writeFileSync(file, 'CONDUIT_API_PORT=3100\n# a comment\nLOG_LEVEL="debug"\n');
    const env: NodeJS.ProcessEnv = { LOG_LEVEL: 'warn' };
    expect(loadDotEnv(env, file)).toEqual(['CONDUIT_API_PORT']);
    expect(env).toEqual({ LOG_LEVEL: 'warn', CONDUIT_API_PORT: '3100' });
    expect(dev(env).api.publicUrl).toBe('http://127.0.0.1:3100');
  });

  it('no .env file is no change', () => {
    const env: NodeJS.ProcessEnv = {};
    expect(loadDotEnv(env, '/nonexistent/.env')).toEqual([]);
    expect(env).toEqual({});
  });
});
