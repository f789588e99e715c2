// The floor of the refresh benchmark: the bare token exchange, with nothing around it. A plain
// undici client sends `grant_type=refresh_token` requests (the same bytes Conduit's token client
// sends: buildTokenRequest) to the sandbox's token endpoints, each grant once, `concurrency` at a
// time over `sockets` keep-alive sockets, and parses each JSON answer. It says `{"ready":true}`
// once loaded and waits for a line on stdin before the first request, so that the benchmark
// times and measures only the exchanges.
//   floor-child.ts <grants.json> <concurrency> <sockets>
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { Agent, request } from 'undici';
import { PROVIDERS, type ProviderKey } from '@conduit/core';
import { loadConfig } from '@conduit/config';
import { buildTokenRequest } from '@conduit/providers';

const [file, concurrencyArg, socketsArg] = process.argv.slice(2);
const grants = JSON.parse(readFileSync(file!, 'utf8')) as { provider: ProviderKey; refreshToken: string }[];
const config = loadConfig(process.env, { isTTY: false });
const sandboxUrl = config.providers.sandboxUrl;
if (!sandboxUrl) throw new Error('floor-child: CONDUIT_SANDBOX_URL is not set');

const requests = grants.map((g) => {
  const client = config.providers.clients[g.provider];
  if (!client.enabled) throw new Error(`floor-child: ${g.provider} is not enabled`);
  const spec = PROVIDERS[g.provider];
  const wire = buildTokenRequest(
    spec.clientAuth,
    { clientId: client.clientId, clientSecret: client.clientSecret },
    { grantType: 'refresh_token', refreshToken: g.refreshToken },
    config.providers.userAgent,
  );
  return { url: `${sandboxUrl}${spec.sandboxPaths.tokenUrl}`, ...wire };
});
const agent = new Agent({ connections: Number(socketsArg), pipelining: 1 });

process.stdout.write(`${JSON.stringify({ ready: true })}\n`);
const lines = createInterface({ input: process.stdin });
await new Promise<void>((resolve) => lines.once('line', () => resolve()));

let next = 0;
let ok = 0;
let failed = 0;
const started = performance.now();
await Promise.all(
  Array.from({ length: Number(concurrencyArg) }, async () => {
    while (next < requests.length) {
      const r = requests[next++]!;
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
const seconds = (performance.now() - started) / 1000;
process.stdout.write(`${JSON.stringify({ done: true, ok, failed, seconds })}\n`);
lines.close();
await agent.close();
process.exit(0);
