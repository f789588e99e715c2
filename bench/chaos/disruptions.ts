// The fault phase: what goes wrong, and when. Through the whole phase: token-endpoint faults and
// a worker SIGKILLed (and restarted at once) every few seconds, once the previous victim is back.
// At 25 % the chosen grants are revoked. Then the windowed classes, one at a time, each followed
// by a quiet gap (schedule.ts): a bad client secret, a quick Redis restart, Postgres restarted
// fast and immediate while refreshes are answered, row locks held past the lock TTL, a worker
// SIGSTOPped past the lock TTL, answers lost after the provider rotated, latency between the
// apps and their datastores, a long Redis outage and a CPU hog on every core. Each window is
// recorded with a snapshot of the sandbox's anomaly counts and the connections' statuses at its
// start, its end and the end of its gap, so the summary can say what happened in and after it.
import { setTimeout as sleep } from 'node:timers/promises';
import type { ProviderKey } from '@conduit/core';
import type { Db } from '@conduit/db';
import type { PrivatePostgres, PrivateRedis, StopMode } from '@conduit/testing';
import pg from 'pg';
import { CpuHog } from './cpu-hog.ts';
import type { Fleet } from './fleet.ts';
import { conduitTimings, type ChaosOptions } from './options.ts';
import type { SandboxControl, SandboxReport } from './sandbox-control.ts';
import { REDIS_RESTART_DOWN_MS, planWindows, type PlannedWindow, type WindowName } from './schedule.ts';
import type { SeededConnection } from './seed.ts';
import type { TcpProxy } from './tcp-proxy.ts';

export interface Snapshot {
  /** ms since the fault phase began */
  atMs: number;
  /** the sandbox's anomaly counts, summed over providers */
  anomalies: Record<string, number>;
  /** refreshes the sandbox answered, and answers it lost (a client gone before it was processed) */
  refreshes: number;
  answersLost: number;
  /** non-revoked connections not `connected`, by status (null: the database did not answer) */
  notConnected: Record<string, number> | null;
}

export interface ClassWindow {
  name: WindowName;
  cls: PlannedWindow['cls'];
  startedAtMs: number;
  endedAtMs: number;
  /** what exactly was done (rows locked, the worker frozen, answers lost, …) */
  details: Record<string, unknown>;
  before: Snapshot;
  after: Snapshot;
  /** at the end of the quiet gap that follows (or of the phase) */
  settled: Snapshot;
}

export interface Timeline {
  /** ms since the fault phase began */
  events: Array<{ atMs: number; what: string }>;
  windows: ClassWindow[];
  revoked: number;
  /** token-endpoint errors of the bad-secret provider during the window (invalid_client, mostly) */
  badSecretRefusals: number;
}

export interface FaultContext {
  options: ChaosOptions;
  fleet: Fleet;
  redis: PrivateRedis;
  pg: PrivatePostgres;
  /** the run's own database on the private cluster (the harness's client, not through a proxy) */
  databaseUrl: string;
  /** the latency proxies in front of Postgres and Redis (absent when the `latency` class is left out) */
  proxies: { pg?: TcpProxy; redis?: TcpProxy };
  sandbox: SandboxControl;
  db: Db;
  seeded: readonly SeededConnection[];
  goodSecret: (p: ProviderKey) => string;
  lockTtlMs: number;
}

const ROTATING: readonly ProviderKey[] = ['fathom', 'discord', 'github_app'];

function anomaliesOf(report: SandboxReport): Record<string, number> {
  const out: Record<string, number> = {};
  for (const p of Object.values(report.providers))
    for (const [kind, n] of Object.entries(p!.counts)) out[kind] = (out[kind] ?? 0) + n;
  return out;
}

async function snapshot(c: FaultContext, started: number): Promise<Snapshot> {
  const atMs = Date.now() - started;
  const report = await c.sandbox.report(false);
  const sum = (key: string) => Object.values(report.providers).reduce((n, p) => n + (p!.traffic[key] ?? 0), 0);
  let notConnected: Record<string, number> | null = null;
  const revoked = c.seeded.filter((s) => s.revoked).map((s) => s.connectionId);
  for (let attempt = 0; attempt < 2 && notConnected === null; attempt++) {
    try {
      const rows = await c.db.$queryRawUnsafe<Array<{ status: string; n: number }>>(
        `SELECT status::text, count(*)::int AS n FROM "Connection"
          WHERE status <> 'connected' AND NOT (id::text = ANY($1)) GROUP BY status`,
        revoked,
      );
      notConnected = Object.fromEntries(rows.map((r) => [r.status, r.n]));
    } catch {
      // a pooled connection the last Postgres restart broke: the pool replaces it
    }
  }
  return {
    atMs,
    anomalies: anomaliesOf(report),
    refreshes: sum('refreshes'),
    answersLost: sum('answersLost'),
    notConnected,
  };
}

export async function runFaultPhase(c: FaultContext): Promise<Timeline> {
  const { options: o, fleet, sandbox } = c;
  const started = Date.now();
  const plan = planWindows(o);
  const end = started + plan.phaseMs;
  const timeline: Timeline = { events: [], windows: [], revoked: 0, badSecretRefusals: 0 };
  const note = (what: string) => {
    timeline.events.push({ atMs: Date.now() - started, what });
    console.log(`  [${((Date.now() - started) / 1000).toFixed(1).padStart(6)} s] ${what}`);
  };
  const untilMs = async (ms: number) => {
    const wait = started + ms - Date.now();
    if (wait > 0) await sleep(wait);
  };
  note(
    `plan (${(plan.phaseMs / 1000).toFixed(0)} s): ` +
      (plan.windows.map((w) => `${w.name} at ${(w.startMs / 1000).toFixed(0)} s`).join(', ') || 'no windows'),
  );

  await sandbox.tokenFaults(o.faults);
  note(`token endpoint faults on: ${JSON.stringify(o.faults)}`);

  // One kill every few seconds, round robin, but never while the last victim is still starting:
  // a restart takes seconds on busy cores, and killing the only live worker tests nothing more.
  const killer = (async () => {
    for (let i = 0; i < 100_000 && !o.skip.has('sigkill');) {
      await sleep(Math.max(0, Math.min(o.killEverySeconds * 1000, end - Date.now())));
      if (Date.now() + 1_000 >= end) break;
      if (fleet.killsPaused) continue;
      // Not back before the phase ends (or dead: the check after the phase reports that): stop killing.
      const back = await fleet.workersReady(end - Date.now()).then(
        () => true,
        () => false,
      );
      if (!back || Date.now() + 1_000 >= end) break;
      if (fleet.killsPaused) continue;
      await fleet.killAndRestartWorker(i % o.workers);
      i++;
    }
  })();

  const script = (async () => {
    await untilMs(0.25 * o.minutes * 60_000);
    const revoked = c.seeded.filter((s) => s.revoked).map((s) => s.grantId);
    if (revoked.length > 0) await sandbox.revoke(revoked);
    timeline.revoked = revoked.length;
    note(`revoked ${revoked.length} grants`);

    let previous: ClassWindow | undefined;
    for (const w of plan.windows) {
      // A window that ran over (a slow Postgres recovery) pushes the next one back, never into it.
      await untilMs(Math.max(w.startMs, previous ? previous.endedAtMs + o.windows.gapSeconds * 1000 : 0));
      if (previous) previous.settled = await snapshot(c, started);
      const before = await snapshot(c, started);
      const startedAtMs = Date.now() - started;
      note(`${w.name}: window opens`);
      const details = await runWindow(w, c, note, timeline).catch((err: unknown) => ({
        error: err instanceof Error ? err.message : String(err),
      }));
      const endedAtMs = Date.now() - started;
      note(`${w.name}: window closes ${JSON.stringify(details)}`);
      const after = await snapshot(c, started);
      previous = { name: w.name, cls: w.cls, startedAtMs, endedAtMs, details, before, after, settled: after };
      timeline.windows.push(previous);
    }
    if (previous) {
      await untilMs(Math.min(plan.phaseMs, previous.endedAtMs + o.windows.gapSeconds * 1000));
      previous.settled = await snapshot(c, started);
    }
  })();

  await Promise.all([killer, script]);
  await untilMs(plan.phaseMs);
  return timeline;
}

async function runWindow(
  w: PlannedWindow,
  c: FaultContext,
  note: (what: string) => void,
  timeline: Timeline,
): Promise<Record<string, unknown>> {
  const o = c.options;
  switch (w.name) {
    case 'bad-secret': {
      const refused = async () =>
        (await c.sandbox.report(false)).providers[o.badSecretProvider]?.traffic.tokenErrors ?? 0;
      const before = await refused();
      await c.sandbox.setClientSecret(o.badSecretProvider, 'chaos-wrong-secret');
      note(`${o.badSecretProvider}: client secret no longer matches`);
      try {
        await sleep(o.badSecretSeconds * 1000);
      } finally {
        await c.sandbox.setClientSecret(o.badSecretProvider, c.goodSecret(o.badSecretProvider));
      }
      timeline.badSecretRefusals = (await refused()) - before;
      return { provider: o.badSecretProvider, tokenRequestsRefused: timeline.badSecretRefusals };
    }
    case 'redis-restart':
      await c.redis.restart(REDIS_RESTART_DOWN_MS);
      return { downSeconds: REDIS_RESTART_DOWN_MS / 1000, persisted: false };
    case 'pg-restart-fast':
      return pgRestart(c, 'fast', note);
    case 'pg-restart-immediate':
      return pgRestart(c, 'immediate', note);
    case 'row-lock':
      return rowLock(c, note);
    case 'sigstop': {
      c.fleet.killsPaused = true;
      try {
        // the victim must be a live, ready worker, not one still starting after a SIGKILL
        await c.fleet.workersReady(60_000);
        const slot = timeline.windows.filter((x) => x.cls === 'sigstop').length % o.workers;
        const agent = c.fleet.workerAgents[slot]!;
        const pid = c.fleet.freeze(slot);
        try {
          await sleep(o.windows.sigstopSeconds * 1000);
        } finally {
          c.fleet.thaw(slot);
        }
        return {
          worker: slot,
          pid,
          agent,
          stoppedSeconds: o.windows.sigstopSeconds,
          lockTtlSeconds: c.lockTtlMs / 1000,
        };
      } finally {
        c.fleet.killsPaused = false;
      }
    }
    case 'lost-answer':
      return lostAnswer(c, note);
    case 'latency': {
      const rule = { latencyMs: o.windows.latencyMs, jitterMs: o.windows.jitterMs };
      const proxies = [c.proxies.pg, c.proxies.redis].filter((p): p is TcpProxy => p !== undefined);
      for (const p of proxies) p.setLatency(rule);
      try {
        await sleep(o.windows.latencySeconds * 1000);
      } finally {
        for (const p of proxies) p.clearLatency();
      }
      return { ...rule, eachWay: true, to: ['postgres', 'redis'], seconds: o.windows.latencySeconds };
    }
    case 'redis-outage':
      // down long enough for every client to give up waiting
      await c.redis.restart(o.windows.redisOutageSeconds * 1000);
      return { downSeconds: o.windows.redisOutageSeconds, persisted: false };
    case 'cpu-hog': {
      const hog = CpuHog.start();
      try {
        await sleep(o.windows.hogSeconds * 1000);
      } finally {
        await hog.stop();
      }
      return { busyLoops: hog.pids.length, seconds: o.windows.hogSeconds };
    }
  }
}

async function parkedCount(sandbox: SandboxControl): Promise<number> {
  // the rotating providers' holds of a pg-restart window
  return (await sandbox.holds()).reduce((n, h) => n + h.parked, 0);
}

/**
 * Postgres goes down while refreshes are being answered: the rotating providers' token endpoints
 * are held until requests are parked (at most 1.5 s, inside the apps' 2 s header timeout), Postgres
 * is stopped, the held requests are answered (the workers now hold new tokens and no database),
 * and Postgres comes back `pgDownSeconds` later.
 */
async function pgRestart(c: FaultContext, mode: StopMode, note: (what: string) => void) {
  for (const p of ROTATING) await c.sandbox.hold(p, false);
  const heldFrom = Date.now();
  let parked = 0;
  try {
    while (Date.now() - heldFrom < 1_500 && (parked = await parkedCount(c.sandbox)) < 3) await sleep(50);
    const t = Date.now();
    await c.pg.stop(mode);
    note(`postgres: stopped -m ${mode} in ${Date.now() - t} ms with ${parked} refreshes held`);
  } finally {
    await c.sandbox.releaseHolds();
  }
  const t = Date.now();
  await sleep(c.options.windows.pgDownSeconds * 1000);
  await c.pg.restart(mode, 0).catch(async (err: unknown) => {
    note(`postgres: start failed (${err instanceof Error ? err.message : String(err)}); trying once more`);
    await c.pg.restart(mode, 1_000);
  });
  return {
    mode,
    refreshesHeldThenAnsweredWhileDown: parked,
    downSeconds: Number(((Date.now() - t) / 1000).toFixed(1)),
  };
}

/**
 * `BEGIN; SELECT … FOR UPDATE` on the connections due next (rotating providers, due within the
 * window), then `pg_sleep` past the lock TTL, from a client of the harness's own.
 */
async function rowLock(c: FaultContext, note: (what: string) => void) {
  const o = c.options;
  const client = new pg.Client({ connectionString: c.databaseUrl });
  client.on('error', () => undefined);
  await client.connect();
  try {
    const revoked = c.seeded.filter((s) => s.revoked).map((s) => s.connectionId);
    const { rows } = await client.query<{ id: string }>(
      `SELECT id FROM "Connection"
        WHERE status = 'connected' AND provider::text = ANY($1) AND NOT (id::text = ANY($2))
          AND "tokenExpiresAt" > now() + make_interval(secs => $3)
        ORDER BY "tokenExpiresAt" LIMIT $4`,
      [ROTATING, revoked, Number(conduitBuffer(c)), o.windows.rowLockRows],
    );
    const ids = rows.map((r) => r.id);
    const t = Date.now();
    await client.query('BEGIN');
    await client.query(`SELECT id FROM "Connection" WHERE id = ANY($1::uuid[]) FOR UPDATE`, [ids]);
    note(
      `row-lock: ${ids.length} rows locked (waited ${Date.now() - t} ms), holding ${o.windows.rowLockSeconds} s`,
    );
    await client.query('SELECT pg_sleep($1)', [o.windows.rowLockSeconds]);
    await client.query('COMMIT');
    return {
      rows: ids.length,
      connectionIds: ids,
      heldSeconds: o.windows.rowLockSeconds,
      lockTtlSeconds: c.lockTtlMs / 1000,
    };
  } finally {
    await client.end().catch(() => undefined);
  }
}

function conduitBuffer(c: FaultContext): string {
  return conduitTimings(c.options).CONDUIT_REFRESH_BUFFER_SECONDS!;
}

/**
 * The provider rotates, then its answer is lost: the token endpoint of one rotating provider is
 * held with `processAbandoned` for at least `lostAnswerSeconds` and until the client of every
 * parked refresh has given up (at most 30 s more: a starved worker's timeout fires late); on
 * release the sandbox processes each one, rotating the refresh token, and the answer goes nowhere.
 */
async function lostAnswer(c: FaultContext, note: (what: string) => void) {
  const provider = c.options.windows.lostAnswerProvider;
  const lost = async () => (await c.sandbox.report(false)).providers[provider]?.traffic.answersLost ?? 0;
  const before = await lost();
  await c.sandbox.hold(provider, true);
  let held = { parked: 0, clientsGone: 0 };
  const from = Date.now();
  try {
    await sleep(c.options.windows.lostAnswerSeconds * 1000);
    for (;;) {
      held = (await c.sandbox.holds())
        .filter((h) => h.provider === provider)
        .reduce((a, h) => ({ parked: a.parked + h.parked, clientsGone: a.clientsGone + h.clientsGone }), {
          parked: 0,
          clientsGone: 0,
        });
      if ((held.parked > 0 && held.clientsGone === held.parked) || Date.now() - from > 30_000) break;
      await sleep(250);
    }
  } finally {
    await c.sandbox.releaseHolds();
  }
  await sleep(500);
  const answersLost = (await lost()) - before;
  note(
    `lost-answer: ${provider}: ${held.parked} refreshes held (${held.clientsGone} of their clients gone), ` +
      `${answersLost} processed after their client had gone`,
  );
  return {
    provider,
    heldSeconds: Number(((Date.now() - from) / 1000).toFixed(1)),
    parked: held.parked,
    clientsGone: held.clientsGone,
    answersLost,
  };
}
