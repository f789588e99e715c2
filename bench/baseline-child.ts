// One process of a benchmark baseline, run side by side with the real thing:
//   queue <queue> <concurrency>: a BullMQ worker whose jobs do nothing (the queue's ceiling)
//   db <concurrency> <ops> <offset> <rows>: single-row compare-and-set updates through the same Prisma driver
//                           adapter as the refresh path (the database's ceiling)
// Each loads, connects and prepares first, then says `{"ready":true}` on stdout and waits for a
// line on stdin: the benchmark starts its clock at that line, so process start-up, tsx and module
// loading are never inside a ceiling.
import { createInterface } from 'node:readline';
import { Worker } from 'bullmq';
import { createDb } from '@conduit/db';
import { createRedis, queueKeyPrefix } from '@conduit/jobs';

const [mode, ...rest] = process.argv.slice(2);

async function readyThenGo(): Promise<void> {
  process.stdout.write(`${JSON.stringify({ ready: true })}\n`);
  const lines = createInterface({ input: process.stdin });
  await new Promise<void>((resolve) => lines.once('line', () => resolve()));
  lines.close();
}

if (mode === 'queue') {
  const [name, concurrency] = rest;
  const clusterNodes = process.env.REDIS_CLUSTER_NODES?.split(',').map((n) => {
    const [host, port] = n.split(':');
    return { host: host!, port: Number(port) };
  });
  const redis = createRedis({ url: process.env.REDIS_URL || 'redis://127.0.0.1:6379', clusterNodes });
  const worker = new Worker(name!, async () => 'ok', {
    connection: redis,
    prefix: queueKeyPrefix(process.env.CONDUIT_QUEUE_PREFIX!, name!),
    concurrency: Number(concurrency),
    removeOnComplete: { count: 0 },
    autorun: false,
  });
  await worker.waitUntilReady();
  process.once('SIGTERM', () => void worker.close().then(() => process.exit(0)));
  await readyThenGo();
  void worker.run();
} else if (mode === 'db') {
  const [concurrency, ops, offset, rows] = rest.map(Number);
  const db = createDb({ databaseUrl: process.env.DATABASE_URL!, poolSize: 10 });
  const ids = (
    await db.connection.findMany({
      select: { id: true, version: true },
      orderBy: { id: 'asc' },
      skip: offset,
      take: rows!,
    })
  ).map((r) => ({ ...r }));
  // Open the pool's connections before the clock starts, as a running worker's are.
  await Promise.all(Array.from({ length: 10 }, () => db.$queryRaw`SELECT 1`));
  await readyThenGo();
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency! }, async () => {
      while (next < ops!) {
        const row = ids[next++ % ids.length]!;
        // The same statement shape as the refresh path's compare-and-set, through the same client.
        const count = await db.$executeRaw`
          UPDATE "Connection" SET "lastRefreshError" = NULL, "version" = "version" + 1, "updatedAt" = now()
          WHERE id = ${row.id}::uuid AND "version" = ${row.version}`;
        if (count === 1) row.version++;
      }
    }),
  );
  process.stdout.write(
    JSON.stringify({ done: true, ops, seconds: (performance.now() - started) / 1000 }) + '\n',
  );
  await db.$disconnect();
  process.exit(0);
}
