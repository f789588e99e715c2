// The rules floor of the refresh benchmark: what DESIGN.md's refresh-safety rules cost by
// themselves. It refreshes real rows with Conduit's own mandatory pieces and nothing else: the
// batch lease (RefreshStore.takeLeases, one statement), the stored refresh token decrypted and the
// new tokens encrypted (TokenVault), the bare token exchange (the floor's undici request), the
// rescue copy in Redis beside the commit and its drop after (RescueSlots), the grouped
// compare-and-set (RefreshCommits over RefreshStore.storeRefreshed) and the lease's end. Left
// out: the queue (BullMQ), log lines, metrics, lane slots, the gate, retry classification and
// lease renewal timers. Its CPU per refresh, with the sandbox's, Postgres's and Redis's, bounds
// from below what any path that keeps those rules with these statements can cost.
//   rules-floor-child.ts <ids.json> <batchRunners> <batchParallelism> <sockets> <warmup>
// says `{"ready":true}` after refreshing the first `warmup` ids, then refreshes in bursts, one per
// `go <count>` line on stdin, as the floor's child does.
import { readFileSync } from 'node:fs';
import { pino } from 'pino';
import { Agent, request } from 'undici';
import { parseKeyring, providerSpec, TokenVault, type ProviderKey } from '@conduit/core';
import { clientConfig, loadConfig } from '@conduit/config';
import { createDb, RefreshStore, type ConnectionRow, type RefreshedTokens } from '@conduit/db';
import { createRedis, RefreshCommits, RescueSlots } from '@conduit/jobs';
import { buildTokenRequest } from '@conduit/providers';
import { serveBursts } from './bursts.ts';

const [file, runnersArg, parallelismArg, socketsArg, warmupArg] = process.argv.slice(2);
const ids = JSON.parse(readFileSync(file!, 'utf8')) as string[];
const config = loadConfig(process.env, { isTTY: false });
const sandboxUrl = config.providers.sandboxUrl;
if (!sandboxUrl) throw new Error('rules-floor-child: CONDUIT_SANDBOX_URL is not set');
const t = config.timings;
const db = createDb({ databaseUrl: config.database.url, poolSize: config.database.poolSize });
const store = new RefreshStore(db);
const silent = pino({ level: 'silent' });
const commits = new RefreshCommits(store, silent, { retryMaxMs: t.refreshCommitRetryMaxMs });
const redis = createRedis(config.redis);
const rescue = new RescueSlots(
  redis,
  `${config.redis.queuePrefix}:rescue`,
  t.refreshRescueTtlSeconds * 1000,
  t.refreshRescueTimeoutMs,
);
const vault = new TokenVault(
  parseKeyring(config.security.encryptionKeys.map((k) => `${k.id}:${k.key}`).join(',')),
);
const agent = new Agent({ connections: Number(socketsArg), pipelining: 1 });
const owner = `rules-floor-${process.pid}`;

const targets = new Map<ProviderKey, { url: string; clientId: string; clientSecret: string }>();
function target(provider: ProviderKey) {
  let tg = targets.get(provider);
  if (!tg) {
    const c = clientConfig(config.providers, provider);
    if (!c.enabled) throw new Error(`rules-floor-child: ${provider} is not enabled`);
    tg = {
      url: `${sandboxUrl}${providerSpec(provider).sandboxPaths.tokenUrl}`,
      clientId: c.clientId,
      clientSecret: c.clientSecret,
    };
    targets.set(provider, tg);
  }
  return tg;
}

/** One row: decrypt, exchange, encrypt, rescue copy beside the grouped commit, drop. */
async function refreshRow(row: ConnectionRow): Promise<boolean> {
  const provider = row.provider as ProviderKey;
  const spec = providerSpec(provider);
  const tg = target(provider);
  const wire = buildTokenRequest(
    spec.clientAuth,
    { clientId: tg.clientId, clientSecret: tg.clientSecret },
    { grantType: 'refresh_token', refreshToken: vault.decrypt(row.refreshTokenEnc!) },
    config.providers.userAgent,
  );
  const res = await request(tg.url, {
    method: 'POST',
    headers: wire.headers,
    body: wire.body,
    dispatcher: agent,
  });
  const body = (await res.body.json()) as {
    access_token?: string;
    refresh_token?: string;
    expires_in?: number;
  };
  if (res.statusCode !== 200 || typeof body.access_token !== 'string') return false;
  const tokens: RefreshedTokens = {
    accessTokenEnc: vault.encrypt(body.access_token),
    ...(typeof body.refresh_token === 'string' && { refreshTokenEnc: vault.encrypt(body.refresh_token) }),
    tokenExpiresAt:
      typeof body.expires_in === 'number' ? new Date(Date.now() + body.expires_in * 1000) : null,
    tokenLifetimeSeconds: body.expires_in ?? null,
  };
  const kept = rescue.put(row.id, row.version, tokens).then(
    () => true,
    () => false,
  );
  const stored = await commits.store({ conn: row, tokens, at: new Date(), leaseOwner: owner });
  void kept.then((k) => k && rescue.drop(row.id, row.version));
  return stored;
}

async function refreshBatch(batch: string[]): Promise<{ ok: number; failed: number }> {
  const { taken, busy, notFound } = await store.takeLeases(batch, owner, t.lockTtlMs);
  let ok = 0;
  let failed = busy.length + notFound.length;
  let next = 0;
  await Promise.all(
    Array.from({ length: Number(parallelismArg) }, async () => {
      while (next < taken.length) {
        const { row } = taken[next++]!;
        if (await refreshRow(row).catch(() => false)) ok++;
        else failed++;
      }
    }),
  );
  await store.releaseLeases(
    taken.map((l) => l.row.id),
    owner,
  );
  return { ok, failed };
}

async function run(list: string[]): Promise<{ ok: number; failed: number }> {
  const size = t.refreshJobBatchSize;
  const batches: string[][] = [];
  for (let i = 0; i < list.length; i += size) batches.push(list.slice(i, i + size));
  let next = 0;
  let ok = 0;
  let failed = 0;
  await Promise.all(
    Array.from({ length: Number(runnersArg) }, async () => {
      while (next < batches.length) {
        const r = await refreshBatch(batches[next++]!);
        ok += r.ok;
        failed += r.failed;
      }
    }),
  );
  return { ok, failed };
}

const warmup = Math.min(Number(warmupArg ?? 0), ids.length);
const warm = await run(ids.slice(0, warmup));
if (warm.failed > 0) throw new Error(`rules-floor-child: ${warm.failed} failed refreshes while warming up`);
process.stdout.write(`${JSON.stringify({ ready: true })}\n`);
// Each `go <count>` line refreshes the next `count` ids (all that are left without a count) and
// answers with a `{"burst":true,…}` line, so that the benchmark can run these bursts side by side
// with the floor's; stdin's end ends the process.
await serveBursts(ids, warmup, run);
await agent.close();
await db.$disconnect();
redis.disconnect();
process.exit(0);
