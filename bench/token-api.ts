// `npm run bench -- token-api [--seconds S=5] [--connections C=10]`
// The application API on this machine, in one process with the sandbox (the api test stack):
// reads of an access token (by id, by owner), the proxy to the sandbox's Spotify /me, and, side by
// side as the baseline, the connection's safe view (one SELECT). Then a client stuck in a 401 loop:
// forced reads back to back for 10 s, and how many refreshes reached the provider.
import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import autocannon from 'autocannon';
import setupTemplate from '../packages/testing/src/global-setup.ts';
import { API_KEY, startStack } from '../apps/api/test/support/stack.ts';
import { arg, machine, ROOT } from './support.ts';

export async function run(argv: string[]): Promise<void> {
  const seconds = arg(argv, 'seconds', 5);
  const connections = arg(argv, 'connections', 10);
  process.env.LOG_LEVEL ??= 'silent';
  await setupTemplate();
  const s = await startStack({ label: 'bench-token-api' });
  try {
    const ownerId = `bench-${randomUUID()}`;
    const email = `${ownerId}@example.com`;
    const id = (await s.connect('spotify', ownerId, { email })).message!.connectionId!;
    const { grants } = await s.sandboxGet<{ grants: Array<{ grantId: string; email: string }> }>(
      '/_sandbox/grants?provider=spotify',
    );
    const grantId = grants.find((g) => g.email === email)!.grantId;
    const load = async (path: string) => {
      const r = await autocannon({
        url: `${s.publicUrl}${path}`,
        connections,
        duration: seconds,
        requests: [{ method: 'GET', headers: { authorization: `Bearer ${API_KEY}` } }],
      });
      return {
        perSecond: Math.round(r.requests.average),
        p50Ms: r.latency.p50,
        p99Ms: r.latency.p99,
        non2xx: r.non2xx,
      };
    };
    const baseline = await load(`/v1/connections/${id}`);
    const routes = {
      tokenById: await load(`/v1/connections/${id}/access-token`),
      tokenByOwner: await load(`/v1/owners/${ownerId}/connections/spotify/access-token`),
      proxyMe: await load(`/v1/proxy/${id}/me`),
    };
    const refreshesAt = async () =>
      (await s.sandboxGet<{ refreshes: number }>(`/_sandbox/grants/${grantId}`)).refreshes;
    const before = await refreshesAt();
    const started = Date.now();
    let forcedReads = 0;
    while (Date.now() - started < 10_000) {
      await s.api('GET', `/v1/connections/${id}/access-token?forceRefresh=true`);
      forcedReads++;
    }
    const result = {
      machine: machine(),
      seconds,
      connections,
      baselineSafeView: baseline,
      routes,
      ratioToBaseline: Object.fromEntries(
        Object.entries(routes).map(([k, v]) => [
          k,
          Math.round((v.perSecond / baseline.perSecond) * 100) / 100,
        ]),
      ),
      forcedRefreshLoop: {
        forcedReads,
        refreshesAtProvider: (await refreshesAt()) - before,
        windowSeconds: s.config.integration.forceRefreshWindowSeconds,
      },
    };
    mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
    writeFileSync(join(ROOT, 'bench/results/token-api.json'), `${JSON.stringify(result, null, 2)}\n`);
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  } finally {
    await s.close();
  }
}
