import { describe, expect, it } from 'vitest';
import { loadConfig } from '@conduit/config';
import { endpointsOf } from '../src/context.ts';

const config = (env: NodeJS.ProcessEnv) => loadConfig(env, { isTTY: false });

describe('endpointsOf › browser-facing and internal sandbox URLs', () => {
  it('the authorize URL, opened by the browser, uses CONDUIT_SANDBOX_BROWSER_URL; the token and API URLs the internal one', () => {
    const e = endpointsOf(
      config({
        CONDUIT_SANDBOX_URL: 'http://sandbox:4000',
        CONDUIT_SANDBOX_BROWSER_URL: 'http://127.0.0.1:4000',
      }),
      'spotify',
    );
    expect(e.authorizeUrl.startsWith('http://127.0.0.1:4000/')).toBe(true);
    expect(e.tokenUrl.startsWith('http://sandbox:4000/')).toBe(true);
    expect(e.apiBaseUrl.startsWith('http://sandbox:4000/')).toBe(true);
  });

  it('without a browser URL every endpoint follows the sandbox URL, which follows its port', () => {
    const e = endpointsOf(config({ CONDUIT_SANDBOX_PORT: '4100' }), 'google');
    expect(e.authorizeUrl.startsWith('http://127.0.0.1:4100/')).toBe(true);
    expect(e.tokenUrl.startsWith('http://127.0.0.1:4100/')).toBe(true);
  });

  it('an explicit authorize URL still wins', () => {
    const e = endpointsOf(
      config({
        CONDUIT_SANDBOX_BROWSER_URL: 'http://127.0.0.1:4000',
        CONDUIT_SPOTIFY_AUTHORIZE_URL: 'https://accounts.example.com/authorize',
      }),
      'spotify',
    );
    expect(e.authorizeUrl).toBe('https://accounts.example.com/authorize');
  });
});
