// The floor of the refresh benchmark: the bare token exchange, with nothing around it. A plain
// undici client sends `grant_type=refresh_token` requests (the same bytes Conduit's token client
// sends: buildTokenRequest) to the sandbox's token endpoints, each grant once, `concurrency` at a
// time over `sockets` keep-alive sockets, and parses each JSON answer. The first `warmup` grants
// are exchanged before it says `{"ready":true}` (JIT-compiled code on both sides, as in a worker
// that has run a while); then it exchanges in bursts, one per line on stdin, so that the
// benchmark measures only the bursts, and can run them between pauses of the system it measures.
//   floor-child.ts <grants.json> <concurrency> <sockets> <warmup>
import { readFileSync } from 'node:fs';
import { Agent, request } from 'undici';
import { providerSpec, type ProviderKey } from '@conduit/core';
import { clientConfig, loadConfig } from '@conduit/config';
import { buildTokenRequest } from '@conduit/providers';
import { serveBursts } from './bursts.ts';

const [file, concurrencyArg, socketsArg, warmupArg] = process.argv.slice(2);
const grants = JSON.parse(readFileSync(file!, 'utf8')) as { provider: ProviderKey; refreshToken: string }[];
const config = loadConfig(process.env, { isTTY: false });
const sandboxUrl = config.providers.sandboxUrl;
if (!sandboxUrl) throw new Error('floor-child: CONDUIT_SANDBOX_URL is not set');

const requests = grants.map((g) => {
  const client = clientConfig(config.providers, g.provider);
  if (!client.enabled) throw new Error(`floor-child: ${g.provider} is not enabled`);
  const spec = providerSpec(g.provider);
  const wire = buildTokenRequest(
    spec.clientAuth,
    { clientId: client.clientId, clientSecret: client.clientSecret },
    { grantType: 'refresh_token', refreshToken: g.refreshToken },
    config.providers.userAgent,
  );
  return { url: `${sandboxUrl}${spec.sandboxPaths.tokenUrl}`, ...wire };
});
const agent = new Agent({ connections: Number(socketsArg), pipelining: 1 });

async function exchange(list: typeof requests): Promise<{ ok: number; failed: number }> {
  let next = 0;
  let ok = 0;
  let failed = 0;
  await Promise.all(
    Array.from({ length: Number(concurrencyArg) }, async () => {
      while (next < list.length) {
        const r = list[next++]!;
        try {
          const res = await request(r.url, {
            method: 'POST',
            headers: r.headers,
            body: r.body,
            dispatcher: agent,
          });
          const body = (await res.body.json()) as { access_token?: unknown };
          if (res.statusCode === 200 && typeof body.access_token === 'string') ok++;
          else failed++;
        } catch {
          failed++;
        }
      }
    }),
  );
  return { ok, failed };
}

const warmup = Math.min(Number(warmupArg ?? 0), requests.length);
const warm = await exchange(requests.slice(0, warmup));
if (warm.failed > 0) throw new Error(`floor-child: ${warm.failed} failed exchanges while warming up`);
process.stdout.write(`${JSON.stringify({ ready: true })}\n`);
// Each `go <count>` line exchanges the next `count` grants (all that are left without a count)
// and answers with a `{"burst":true,…}` line; stdin's end ends the process.
await serveBursts(requests, warmup, exchange);
await agent.close();
process.exit(0);
