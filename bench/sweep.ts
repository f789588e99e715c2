// `npm run bench -- sweep [--rows N=1000000] [--batch B=1000] [--due-percent P=1]`
// Time to select one batch of due connections among N rows, and the plan Postgres uses: an
// index range scan on (status, tokenExpiresAt, id) whose cost follows the batch, not the table.
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { ConnectionRepository, createDb } from '@conduit/db';
import { arg, machine } from './support.ts';

const ADMIN_URL =
  process.env.CONDUIT_TEST_ADMIN_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';

function dbUrl(name: string): string {
  const u = new URL(ADMIN_URL);
  u.pathname = `/${name}`;
  return u.toString();
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

interface PlanNode {
  'Node Type': string;
  'Index Name'?: string;
  'Actual Rows'?: number;
  'Shared Hit Blocks'?: number;
  'Shared Read Blocks'?: number;
  Plans?: PlanNode[];
}

function flatten(node: PlanNode): PlanNode[] {
  return [node, ...(node.Plans ?? []).flatMap(flatten)];
}

export async function run(argv: string[]): Promise<void> {
  const rows = arg(argv, 'rows', 1_000_000);
  const batch = arg(argv, 'batch', 1000);
  const duePercent = arg(argv, 'due-percent', 1);
  const name = 'conduit_bench_sweep';
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  await admin.end();
  const migrate = spawnSync('npm', ['run', '--silent', 'db:migrate'], {
    env: { ...process.env, DATABASE_URL: dbUrl(name) },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  if (migrate.status !== 0) throw new Error('migrating the benchmark database failed');

  const db = createDb({ databaseUrl: dbUrl(name), poolSize: 2 });
  const repo = new ConnectionRepository(db);
  const dueEvery = Math.max(1, Math.round(100 / duePercent));
  console.log(`inserting ${rows.toLocaleString()} connections (${duePercent}% due)…`);
  const t0 = performance.now();
  // Due rows expire within the next few minutes; the rest spread over the next 30 days;
  // 10% are in statuses the sweep never looks at.
  await db.$executeRawUnsafe(`
    INSERT INTO "Connection" (id, "ownerId", provider, status, "tokenExpiresAt", scopes, "updatedAt")
    SELECT gen_random_uuid(), 'bench-' || g,
           (ARRAY['fathom','spotify','google','discord','github_app'])[1 + g % 5]::text,
           (CASE WHEN g % 10 = 3 THEN 'needs_reauth' ELSE 'connected' END)::"ConnectionStatus",
           CASE WHEN g % ${dueEvery} = 0 THEN now() + (g % 300) * interval '1 second'
                ELSE now() + interval '1 hour' + (g % 43200) * interval '1 minute' END,
           '{}', now()
    FROM generate_series(1, ${rows}) g`);
  await db.$executeRawUnsafe('ANALYZE "Connection"');
  const insertSeconds = (performance.now() - t0) / 1000;
  const dueBefore = new Date(Date.now() + 6 * 60_000);
  const [{ due }] = await db.$queryRawUnsafe<[{ due: number }]>(
    `SELECT count(*)::int AS due FROM "Connection" WHERE status = 'connected' AND "tokenExpiresAt" < $1`,
    dueBefore,
  );

  // Warm once, then time the first batch and a deep keyset page.
  await repo.listDueForRefresh({ status: 'connected', dueBefore, limit: batch });
  const times: number[] = [];
  let last: { tokenExpiresAt: Date | null; id: string } | undefined;
  for (let i = 0; i < 21; i++) {
    const s = performance.now();
    const page = await repo.listDueForRefresh({ status: 'connected', dueBefore, limit: batch });
    times.push(performance.now() - s);
    last = page[page.length - 1];
  }
  const deepTimes: number[] = [];
  for (let i = 0; i < 11; i++) {
    const s = performance.now();
    await repo.listDueForRefresh({
      status: 'connected',
      dueBefore,
      after: last ? { tokenExpiresAt: last.tokenExpiresAt!, id: last.id } : undefined,
      limit: batch,
    });
    deepTimes.push(performance.now() - s);
  }
  const plan = (await repo.explainDueForRefresh({ status: 'connected', dueBefore, limit: batch })) as Array<{
    Plan: PlanNode;
    'Execution Time': number;
  }>;
  const nodes = flatten(plan[0]!.Plan);
  const scan = nodes.find((n) => n['Node Type'].includes('Scan'))!;
  await db.$disconnect();

  const result = {
    rows,
    due,
    batch,
    selectMs: Number(median(times).toFixed(3)),
    nextPageSelectMs: Number(median(deepTimes).toFixed(3)),
    executionMs: plan[0]!['Execution Time'],
    plan: nodes.map((n) => n['Node Type']).join(' → '),
    index: scan['Index Name'] ?? null,
    rowsExamined: scan['Actual Rows'] ?? null,
    buffers: (scan['Shared Hit Blocks'] ?? 0) + (scan['Shared Read Blocks'] ?? 0),
    seqScan: nodes.some((n) => n['Node Type'] === 'Seq Scan'),
    insertSeconds: Number(insertSeconds.toFixed(1)),
    ...machine(),
    command: `npm run bench -- sweep --rows ${rows} --batch ${batch}`,
  };
  const dir = join(import.meta.dirname, 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'sweep.json'), JSON.stringify(result, null, 2) + '\n');
  console.log(
    `sweep: one batch of ${batch} among ${rows.toLocaleString()} rows (${due.toLocaleString()} due) in ${result.selectMs} ms ` +
      `(next page ${result.nextPageSelectMs} ms); plan ${result.plan} on ${result.index}, ${result.buffers} buffers`,
  );
  if (result.seqScan || !result.index) {
    console.error('sweep: the plan is not an index scan');
    process.exitCode = 1;
  }
  const cleanup = new pg.Client({ connectionString: ADMIN_URL });
  await cleanup.connect();
  await cleanup.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  await cleanup.end();
}
