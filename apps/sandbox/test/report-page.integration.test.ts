import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../src/index.ts';
import { control, refresh, seedGrant } from './helpers.ts';

let sb: Sandbox;
beforeAll(async () => {
  sb = await startSandbox({});
});
afterAll(() => sb.close());

describe('report › a browser gets a readable page, clients the JSON at the same URL', () => {
  it('Accept: text/html gives an HTML page with the verdict and one row per provider', async () => {
    await control(sb, 'POST', '/reset');
    const res = await fetch(`${sb.url}/_sandbox/report`, { headers: { accept: 'text/html,*/*;q=0.8' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/html');
    const html = await res.text();
    expect(html).toContain('data-anomalies="0"');
    expect(html).toContain('<tr data-provider="spotify">');
    expect(html).toContain('href="?format=json"');
  });

  it('an anomaly is shown in red with its example', async () => {
    const g = await seedGrant(sb, 'discord');
    const first = await refresh(sb, 'discord', g.refreshToken!);
    expect(first.status).toBe(200);
    await refresh(sb, 'discord', g.refreshToken!); // the rotated-out token again
    const html = await (await fetch(`${sb.url}/_sandbox/report?format=html`)).text();
    expect(html).toMatch(/class="verdict bad" data-anomalies="[1-9]/);
    expect(html).toContain('reusedRefreshTokens · ');
  });

  it('fetch without Accept, and ?format=json, still get the JSON', async () => {
    for (const url of [`${sb.url}/_sandbox/report`, `${sb.url}/_sandbox/report?format=json`]) {
      const res = await fetch(url, url.endsWith('json') ? { headers: { accept: 'text/html' } } : {});
      expect(res.headers.get('content-type')).toContain('application/json');
      expect(await res.json()).toHaveProperty('providers');
    }
  });
});
