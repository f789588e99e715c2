// What one chaos run does, from the command line, and the Conduit timings it runs the apps with.
import { join } from 'node:path';
import { REFRESH_PROVIDERS } from '@conduit/jobs';
import type { ProviderKey } from '@conduit/core';

export interface ChaosOptions {
  connections: number;
  /** length of the fault phase */
  minutes: number;
  workers: number;
  killEverySeconds: number;
  /** access-token lifetimes given to the sandbox's grants, spread evenly over [min, max] */
  ttlMinSeconds: number;
  ttlMaxSeconds: number;
  webhooksPerSecond: number;
  /** share of deliveries sent twice with the same webhook-id */
  duplicateShare: number;
  /**
   * per_connection (default): each Fathom connection has its own registered webhook, deliveries go
   * to its routing id signed with its secret; operator: one route and one secret, matched by email
   */
  webhookMode: 'per_connection' | 'operator';
  faults: { rate429: number; retryAfterSeconds: number; rate5xx: number; hangRate: number };
  revokeShare: number;
  badSecretProvider: ProviderKey;
  badSecretSeconds: number;
  /** how long the system gets to converge once the faults stop */
  convergeTimeoutSeconds: number;
  seed: number;
  out: string;
  /** keep every app's log even when the run passes */
  keepLogs: boolean;
  /** fault classes left out (`--skip`, or not named by `--only`) */
  skip: ReadonlySet<FaultClass>;
  /** the windowed classes' knobs (seconds) */
  windows: {
    /** quiet time after each window, so what it caused shows before the next one starts */
    gapSeconds: number;
    pgDownSeconds: number;
    rowLockSeconds: number;
    rowLockRows: number;
    sigstopSeconds: number;
    redisOutageSeconds: number;
    hogSeconds: number;
    latencySeconds: number;
    latencyMs: number;
    jitterMs: number;
    lostAnswerSeconds: number;
    lostAnswerProvider: ProviderKey;
  };
  /** a CPU hog on every core for the whole run (`--hog`), besides the `cpu-hog` class's window */
  hogThroughout: boolean;
  /** `--set NAME=value` (repeatable): app settings overridden, for control runs */
  overrides: Readonly<Record<string, string>>;
}

/**
 * Every fault class, switchable with `--only`/`--skip`. The first three are the run's
 * long-standing mix (BASELINE_CLASSES): leaving one out makes a control run, never a pass.
 */
export const FAULT_CLASSES = [
  'sigkill',
  'redis-restart',
  'bad-secret',
  'pg-restart',
  'row-lock',
  'sigstop',
  'lost-answer',
  'latency',
  'redis-outage',
  'cpu-hog',
] as const;
export type FaultClass = (typeof FAULT_CLASSES)[number];
export const BASELINE_CLASSES: readonly FaultClass[] = ['sigkill', 'redis-restart', 'bad-secret'];

/** The classes a run leaves out, from `--only a,b` and/or `--skip c,d`; an error sentence for bad names. */
export function classesLeftOut(only: string | undefined, skip: string | undefined): Set<FaultClass> | string {
  const list = (raw: string | undefined) =>
    (raw ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
  const named = [...list(only), ...list(skip)];
  const unknown = named.filter((d) => !(FAULT_CLASSES as readonly string[]).includes(d));
  if (unknown.length > 0)
    return `--only and --skip take a comma-separated list of ${FAULT_CLASSES.join(', ')}; unknown: ${unknown.join(', ')}`;
  if (only !== undefined && list(only).length === 0) return '--only needs at least one fault class';
  const kept = only === undefined ? new Set<string>(FAULT_CLASSES) : new Set(list(only));
  for (const c of list(skip)) kept.delete(c);
  return new Set(FAULT_CLASSES.filter((c) => !kept.has(c)));
}

const LOCK_TTL_MS = 15_000;

/** providers whose every refresh rotates the refresh token: a lost answer costs the grant */
const ROTATING: readonly ProviderKey[] = ['fathom', 'discord', 'github_app'];

function flag(argv: string[], name: string): string | undefined {
  const i = argv.findIndex((a) => a === `--${name}` || a.startsWith(`--${name}=`));
  if (i < 0) return undefined;
  return argv[i]!.includes('=') ? argv[i]!.slice(argv[i]!.indexOf('=') + 1) : argv[i + 1];
}

function num(argv: string[], name: string, fallback: number, { min = 0, max = Infinity } = {}): number {
  const raw = flag(argv, name);
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < min || n > max) {
    console.error(`--${name} must be a number between ${min} and ${max}, got "${raw}"`);
    process.exit(2);
  }
  return n;
}

/**
 * Token lifetimes scale with the fleet so that, without faults, refreshes stay well inside what
 * two workers on two cores sustain (~200/s): N / mean lifetime ≈ N / (1.5 × N/100) ≈ 67/s.
 */
function defaultTtlMin(connections: number): number {
  return Math.min(600, Math.max(20, Math.round(connections / 100)));
}

/**
 * Fathom syncs run once per interval per connection (a fifth of the fleet): ≤ ~10 a second. The
 * sync is also what re-queues transcript fetches a Redis restart lost, so convergence waits for one.
 */
export function syncIntervalSeconds(connections: number): number {
  return Math.max(30, Math.round(connections / 50));
}

export function parseOptions(argv: string[]): ChaosOptions {
  const connections = Math.round(num(argv, 'connections', 10_000, { min: 10, max: 200_000 }));
  const minutes = num(argv, 'minutes', 3, { min: 0.1, max: 120 });
  const ttlMinSeconds = num(argv, 'ttl-min', defaultTtlMin(connections), { min: 20 });
  const ttlMaxSeconds = num(argv, 'ttl-max', 2 * ttlMinSeconds, { min: ttlMinSeconds });
  const badSecretProvider = (flag(argv, 'bad-secret-provider') ?? 'discord') as ProviderKey;
  if (!REFRESH_PROVIDERS.includes(badSecretProvider) || badSecretProvider === 'fathom') {
    console.error(
      `--bad-secret-provider must be one of ${REFRESH_PROVIDERS.filter((p) => p !== 'fathom').join(', ')}`,
    );
    process.exit(2);
  }
  const skip = classesLeftOut(flag(argv, 'only'), flag(argv, 'skip'));
  if (typeof skip === 'string') {
    console.error(skip);
    process.exit(2);
  }
  const lostAnswerProvider = (flag(argv, 'lost-answer-provider') ?? 'discord') as ProviderKey;
  if (!ROTATING.includes(lostAnswerProvider)) {
    console.error(`--lost-answer-provider must be one that rotates refresh tokens: ${ROTATING.join(', ')}`);
    process.exit(2);
  }
  const overrides: Record<string, string> = {};
  argv.forEach((a, i) => {
    const pair = a === '--set' ? argv[i + 1] : a.startsWith('--set=') ? a.slice(6) : undefined;
    if (pair === undefined) return;
    const eq = pair.indexOf('=');
    if (!/^[A-Z][A-Z0-9_]*$/.test(pair.slice(0, eq))) {
      console.error(`--set takes NAME=value (an environment variable of the apps), got "${pair}"`);
      process.exit(2);
    }
    overrides[pair.slice(0, eq)] = pair.slice(eq + 1);
  });
  // the windows that must outlast the lock do so whatever lock TTL the apps run with
  const lockTtlSeconds = Number(overrides.CONDUIT_LOCK_TTL_MS ?? LOCK_TTL_MS) / 1000;
  return {
    connections,
    minutes,
    workers: Math.round(num(argv, 'workers', 2, { min: 2, max: 8 })),
    killEverySeconds: num(argv, 'kill-every', 5, { min: 1 }),
    ttlMinSeconds,
    ttlMaxSeconds,
    webhooksPerSecond: num(argv, 'webhooks-per-second', 5, { min: 0, max: 200 }),
    duplicateShare: num(argv, 'duplicate-share', 0.1, { max: 1 }),
    webhookMode: webhookModeOf(flag(argv, 'webhook-mode')),
    faults: {
      rate429: num(argv, 'rate-429', 0.2, { max: 1 }),
      retryAfterSeconds: num(argv, 'retry-after', 1, { min: 1, max: 60 }),
      rate5xx: num(argv, 'rate-5xx', 0.05, { max: 1 }),
      hangRate: num(argv, 'hang-rate', 0.02, { max: 1 }),
    },
    revokeShare: num(argv, 'revoke-share', 0.01, { max: 0.5 }),
    badSecretProvider,
    badSecretSeconds: num(argv, 'bad-secret-seconds', 5, { min: 1 }),
    convergeTimeoutSeconds: num(
      argv,
      'converge-timeout',
      Math.max(90, ttlMaxSeconds + 60, syncIntervalSeconds(connections) + 60),
      { min: 10 },
    ),
    seed: Math.round(num(argv, 'seed', 42, { max: 2 ** 31 })),
    out: flag(argv, 'out') ?? join(import.meta.dirname, '..', 'results', 'chaos.json'),
    keepLogs: argv.includes('--keep-logs'),
    skip,
    overrides,
    windows: {
      gapSeconds: num(argv, 'gap-seconds', 10, { min: 0 }),
      pgDownSeconds: num(argv, 'pg-down-seconds', 6, { min: 0 }),
      rowLockSeconds: num(argv, 'row-lock-seconds', 2 * lockTtlSeconds, { min: 1 }),
      rowLockRows: Math.round(num(argv, 'row-lock-rows', 6, { min: 1, max: 1000 })),
      sigstopSeconds: num(argv, 'sigstop-seconds', 2 * lockTtlSeconds, { min: 1 }),
      redisOutageSeconds: num(argv, 'redis-outage-seconds', 30, { min: 1 }),
      hogSeconds: num(argv, 'hog-seconds', 60, { min: 1 }),
      latencySeconds: num(argv, 'latency-seconds', 30, { min: 1 }),
      latencyMs: num(argv, 'latency-ms', 100, { max: 10_000 }),
      jitterMs: num(argv, 'jitter-ms', 50, { max: 10_000 }),
      lostAnswerSeconds: num(argv, 'lost-answer-seconds', 5, { min: 1 }),
      lostAnswerProvider,
    },
    hogThroughout: argv.includes('--hog'),
  };
}

/**
 * The timings the apps run with: every wait shortened so a minute holds many refresh cycles, but
 * locks keep room for a starved event loop (two busy cores, eight processes): a job lock that
 * lapses while its worker is merely slow makes BullMQ run the job twice and, at the second
 * stall, fail it.
 */
export function conduitTimings(o: ChaosOptions): Record<string, string> {
  return { ...chaosTimings(o), ...o.overrides };
}

function chaosTimings(o: ChaosOptions): Record<string, string> {
  return {
    CONDUIT_REFRESH_BUFFER_SECONDS: '10',
    CONDUIT_REFRESH_SWEEP_INTERVAL_SECONDS: '2',
    // well inside the buffer, as in production (120 s of 300 s): a job lost with Redis is queued
    // again before its token lapses
    CONDUIT_REFRESH_REQUEUE_AFTER_SECONDS: '4',
    CONDUIT_LOCK_TTL_MS: String(LOCK_TTL_MS),
    CONDUIT_REFRESH_COMMIT_BUDGET_MS: '3000',
    // a worker the fleet restarts during a Redis or Postgres outage waits it out, as a supervised one would
    CONDUIT_DATASTORE_WAIT_SECONDS: '600',
    CONDUIT_LOCK_RETRY_DELAY_MS: '500',
    CONDUIT_HTTP_CONNECT_TIMEOUT_MS: '1000',
    CONDUIT_HTTP_HEADERS_TIMEOUT_MS: '2000',
    CONDUIT_HTTP_BODY_TIMEOUT_MS: '2000',
    CONDUIT_JOB_LOCK_MS: '10000',
    CONDUIT_JOB_STALLED_INTERVAL_MS: '5000',
    CONDUIT_RETRY_ATTEMPTS: '3',
    CONDUIT_RETRY_BASE_MS: '200',
    CONDUIT_RETRY_MAX_MS: '2000',
    CONDUIT_RATE_LIMIT_DEFAULT_WAIT_SECONDS: '2',
    CONDUIT_REFRESH_COOLDOWN_SECONDS: '5',
    CONDUIT_INVALID_CLIENT_PAUSE_SECONDS: '3',
    CONDUIT_ERROR_RETRY_INTERVAL_SECONDS: '10',
    CONDUIT_SYNC_INTERVAL_SECONDS: String(syncIntervalSeconds(o.connections)),
    CONDUIT_SHUTDOWN_GRACE_SECONDS: '10',
  };
}

function webhookModeOf(value: string | undefined): ChaosOptions['webhookMode'] {
  if (value === undefined || value === 'per_connection' || value === 'operator') {
    return value ?? 'per_connection';
  }
  console.error(`--webhook-mode must be per_connection or operator, not "${value}"`);
  process.exit(2);
}
