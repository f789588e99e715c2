// Every timing and limit of the refresh and sync machinery. Defaults are the production
// values; development uses the same ones so what you test is what runs.
import { integer } from '../kinds.ts';
import { variable } from '../variable.ts';
import type { EnvReader, Variable } from '../variable.ts';

// Node timers overflow past 2^31-1 ms (they then fire at once), so timer values stay below it.
const MAX_TIMER_MS = 2_147_483_647;
const UNITS = {
  MS: { noun: 'a number of milliseconds', max: MAX_TIMER_MS },
  SECONDS: { noun: 'a number of seconds', max: Math.floor(MAX_TIMER_MS / 1000) },
  HOURS: { noun: 'a number of hours', max: Number.MAX_SAFE_INTEGER },
  DAYS: { noun: 'a number of days', max: Number.MAX_SAFE_INTEGER },
} as const;

function timing(name: string, fallback: number, description: string, { min = 1 } = {}): Variable<number> {
  const unit = Object.entries(UNITS).find(([suffix]) => name.endsWith(`_${suffix}`))?.[1];
  return variable({
    name,
    group: 'timings',
    description,
    schema: integer({
      min,
      max: unit?.max ?? Number.MAX_SAFE_INTEGER,
      noun: unit?.noun ?? 'a whole number',
      example: fallback,
    }),
    development: String(fallback),
    production: String(fallback),
  });
}

/** Keyed by the config property: the variable name in camelCase, without CONDUIT_. */
export const TIMING_VARIABLES = {
  refreshBufferSeconds: timing(
    'CONDUIT_REFRESH_BUFFER_SECONDS',
    300,
    'Refresh an access token this long before it expires.',
    { min: 0 },
  ),
  refreshSweepIntervalSeconds: timing(
    'CONDUIT_REFRESH_SWEEP_INTERVAL_SECONDS',
    60,
    'How often the scheduler sweeps for connections due a refresh — the safety net behind per-connection jobs.',
  ),
  refreshSweepBatchSize: timing(
    'CONDUIT_REFRESH_SWEEP_BATCH_SIZE',
    1000,
    'Most connections one sweep page enqueues.',
  ),
  refreshJobBatchSize: timing(
    'CONDUIT_REFRESH_JOB_BATCH_SIZE',
    50,
    'Most due connections one sweep refresh job carries: their leases are taken, their token requests made and their answers stored together, so the per-job and per-statement costs are shared. 1 makes a job per connection.',
  ),
  refreshBatchWindowMs: timing(
    'CONDUIT_REFRESH_BATCH_WINDOW_MS',
    1000,
    'One refresh job holds connections that fall due within this long of each other, and runs when the last of them is due.',
    { min: 0 },
  ),
  refreshBatchParallelism: timing(
    'CONDUIT_REFRESH_BATCH_PARALLELISM',
    10,
    'Token requests one refresh job has in flight at once.',
  ),
  refreshRequeueAfterSeconds: timing(
    'CONDUIT_REFRESH_REQUEUE_AFTER_SECONDS',
    120,
    'A connection a sweep queued for refresh is not queued again for this long, unless it was refreshed meanwhile; then it is, in case its job was lost. Must be below CONDUIT_REFRESH_BUFFER_SECONDS.',
  ),
  refreshTokenWindowDays: timing(
    'CONDUIT_REFRESH_TOKEN_WINDOW_DAYS',
    7,
    'Exercise a refresh token that lapses within this many days, so long-lived refresh tokens never expire unused.',
    { min: 0 },
  ),
  retryAttempts: timing(
    'CONDUIT_RETRY_ATTEMPTS',
    3,
    'Attempts for a transient failure (5xx, timeout, network) before the job gives up; 429 waits do not use attempts.',
  ),
  retryBaseMs: timing(
    'CONDUIT_RETRY_BASE_MS',
    1000,
    'First retry delay after a transient failure; doubles per attempt, with jitter.',
  ),
  retryMaxMs: timing('CONDUIT_RETRY_MAX_MS', 30_000, 'Longest single retry delay.'),
  rateLimitDefaultWaitSeconds: timing(
    'CONDUIT_RATE_LIMIT_DEFAULT_WAIT_SECONDS',
    60,
    'Wait after a 429 that carries no Retry-After; the whole provider lane slows down meanwhile.',
  ),
  refreshCooldownSeconds: timing(
    'CONDUIT_REFRESH_COOLDOWN_SECONDS',
    900,
    'After a refresh fails transiently, the sweep leaves the connection alone for this long.',
    { min: 0 },
  ),
  transientFailureLimitHours: timing(
    'CONDUIT_TRANSIENT_FAILURE_LIMIT_HOURS',
    24,
    'A connection that has failed only transiently for this long is marked as failed and reported to operators.',
  ),
  lockTtlMs: timing(
    'CONDUIT_LOCK_TTL_MS',
    60_000,
    "Lifetime of a connection's refresh lease (kept in its Postgres row and renewed while the refresh runs); must exceed the three HTTP timeouts plus CONDUIT_REFRESH_COMMIT_BUDGET_MS, so a lease outlives the call it guards and the write of its answer.",
  ),
  refreshCommitBudgetMs: timing(
    'CONDUIT_REFRESH_COMMIT_BUDGET_MS',
    10_000,
    'A refresh token is presented only while its lease has at least the token request plus this long left, for storing the answer before anyone else may take the lease.',
  ),
  refreshCommitRetryMaxMs: timing(
    'CONDUIT_REFRESH_COMMIT_RETRY_MAX_MS',
    5_000,
    'Longest pause between attempts to store refreshed tokens while Postgres is unreachable or a row lock blocks the write; the write is retried until it lands.',
  ),
  refreshRescueTtlSeconds: timing(
    'CONDUIT_REFRESH_RESCUE_TTL_SECONDS',
    604_800,
    "How long the encrypted rescue copy of a provider's answer stays in Redis if its holder died before storing it; the next lease holder stores it instead of presenting the rotated-out token.",
  ),
  refreshRescueTimeoutMs: timing(
    'CONDUIT_REFRESH_RESCUE_TIMEOUT_MS',
    2000,
    "How long one read or write of a refresh's rescue copy in Redis may take before Redis counts as unavailable for it: a read that runs out presents nothing (the job looks again later), a write that runs out leaves the answer only in the process until it is stored. Must be below CONDUIT_REFRESH_COMMIT_BUDGET_MS.",
  ),
  lockRetryDelayMs: timing(
    'CONDUIT_LOCK_RETRY_DELAY_MS',
    1000,
    'Delay before a job that found its connection locked tries again.',
    {
      min: 0,
    },
  ),
  httpConnectTimeoutMs: timing(
    'CONDUIT_HTTP_CONNECT_TIMEOUT_MS',
    5000,
    'Provider HTTP: time allowed to open a connection.',
  ),
  httpHeadersTimeoutMs: timing(
    'CONDUIT_HTTP_HEADERS_TIMEOUT_MS',
    15_000,
    'Provider HTTP: time allowed for the response headers.',
  ),
  httpBodyTimeoutMs: timing(
    'CONDUIT_HTTP_BODY_TIMEOUT_MS',
    15_000,
    'Provider HTTP: longest pause allowed while the body arrives.',
  ),
  invalidClientPauseThreshold: timing(
    'CONDUIT_INVALID_CLIENT_PAUSE_THRESHOLD',
    3,
    "After this many invalid_client answers in a row, pause the provider's refresh lane: its credentials are wrong and retrying cannot help.",
  ),
  invalidClientPauseSeconds: timing(
    'CONDUIT_INVALID_CLIENT_PAUSE_SECONDS',
    300,
    'How long such a pause lasts before refreshes are tried again.',
  ),
  refreshConcurrency: timing(
    'CONDUIT_REFRESH_CONCURRENCY',
    10,
    'Refreshes (token requests and the writes of their answers) one worker process runs at once per provider lane, whether they come as batch jobs, single jobs or inline calls.',
  ),
  syncConcurrency: timing('CONDUIT_SYNC_CONCURRENCY', 5, 'Sync jobs run at once per worker.'),
  syncIntervalSeconds: timing(
    'CONDUIT_SYNC_INTERVAL_SECONDS',
    3600,
    "How often each connection's data is synced.",
  ),
  syncOverlapSeconds: timing(
    'CONDUIT_SYNC_OVERLAP_SECONDS',
    300,
    'Each sync re-reads this far back before its cursor, so items that arrived late are not missed.',
    { min: 0 },
  ),
  fathomRequestsPerMinute: timing(
    'CONDUIT_FATHOM_REQUESTS_PER_MINUTE',
    60,
    'Most Fathom API calls per minute, across all workers.',
  ),
  notifyPollMs: timing(
    'CONDUIT_NOTIFY_POLL_MS',
    1000,
    'How often the notification outbox is checked for new rows.',
  ),
  notifyMaxAttempts: timing(
    'CONDUIT_NOTIFY_MAX_ATTEMPTS',
    12,
    'Delivery attempts of one notification before it is marked dead and shown on the health page; retries back off from 15 s, doubling with jitter up to 2 h apart (about 5 hours in all at the default).',
  ),
  notifyTimeoutMs: timing(
    'CONDUIT_NOTIFY_TIMEOUT_MS',
    10_000,
    'Longest one notification delivery may take, from connecting to the end of the answer; a slower receiver counts as a failed attempt.',
  ),
  revocationPollMs: timing(
    'CONDUIT_REVOCATION_POLL_MS',
    5000,
    'How often the worker checks the revocation outbox for grants still to revoke at their provider after a disconnect.',
  ),
  revocationMaxAttempts: timing(
    'CONDUIT_REVOCATION_MAX_ATTEMPTS',
    10,
    'Attempts to revoke one grant at its provider (the first, right after the disconnect, included) before it is given up, logged as an error and counted in conduit_revocations_total{result="gave_up"}.',
  ),
  revocationRetryBaseMs: timing(
    'CONDUIT_REVOCATION_RETRY_BASE_MS',
    30_000,
    'First delay before a failed revocation is tried again; doubles per attempt, with jitter, up to CONDUIT_REVOCATION_RETRY_MAX_MS.',
  ),
  revocationRetryMaxMs: timing(
    'CONDUIT_REVOCATION_RETRY_MAX_MS',
    3_600_000,
    'Longest delay between two attempts to revoke a grant.',
  ),
  revocationMaxAgeHours: timing(
    'CONDUIT_REVOCATION_MAX_AGE_HOURS',
    72,
    'A revocation still failing this long after the disconnect is given up at its next failure, whatever attempts are left.',
  ),
  disconnectedRetentionDays: timing(
    'CONDUIT_DISCONNECTED_RETENTION_DAYS',
    30,
    "How long a disconnected connection's synced data (meetings, transcripts, webhook deliveries) is kept before the retention sweep deletes it; 0 keeps it until purged by hand (DELETE /v1/connections/:id?purge=true or conduit purge). The connection row and its status events stay, without secrets.",
    { min: 0 },
  ),
  errorRetryIntervalSeconds: timing(
    'CONDUIT_ERROR_RETRY_INTERVAL_SECONDS',
    3600,
    'Connections in error (a bad client secret, a day of transient failures) are tried again this often, so they recover once the cause is fixed.',
  ),
  jobLockMs: timing(
    'CONDUIT_JOB_LOCK_MS',
    30_000,
    'How long a worker holds a job before BullMQ may consider it stalled (renewed while the worker lives).',
  ),
  stalledIntervalMs: timing(
    'CONDUIT_JOB_STALLED_INTERVAL_MS',
    30_000,
    'How often workers look for jobs whose worker died, and put them back in the queue.',
  ),
  shutdownGraceSeconds: timing(
    'CONDUIT_SHUTDOWN_GRACE_SECONDS',
    30,
    'On SIGTERM, how long running jobs and requests get to finish before the process exits.',
  ),
} satisfies Record<string, Variable<number>>;

export type TimingsConfig = { readonly [K in keyof typeof TIMING_VARIABLES]: number };

export const timingVariables: Variable<number>[] = Object.values(TIMING_VARIABLES);

export function readTimings(r: EnvReader): TimingsConfig {
  const t = Object.fromEntries(
    Object.entries(TIMING_VARIABLES).map(([key, v]) => [key, r.read(v)]),
  ) as unknown as TimingsConfig;
  const v = TIMING_VARIABLES;
  const http = [v.httpConnectTimeoutMs, v.httpHeadersTimeoutMs, v.httpBodyTimeoutMs];
  if (!r.failed(v.lockTtlMs, v.refreshCommitBudgetMs, ...http)) {
    const httpTotal = t.httpConnectTimeoutMs + t.httpHeadersTimeoutMs + t.httpBodyTimeoutMs;
    const needed = httpTotal + t.refreshCommitBudgetMs;
    if (t.lockTtlMs <= needed) {
      r.problem(
        v.lockTtlMs,
        `${t.lockTtlMs} ms does not exceed ${[...http, v.refreshCommitBudgetMs].map((h) => h.name).join(' + ')} (${needed} ms); a lease must outlive the HTTP call it guards and the write of its answer, so raise it above ${needed} (e.g. ${Math.max(60_000, 2 * needed)}) or lower the others`,
      );
    }
  }
  if (
    !r.failed(v.refreshRescueTimeoutMs, v.refreshCommitBudgetMs) &&
    t.refreshRescueTimeoutMs >= t.refreshCommitBudgetMs
  ) {
    // The rescue copy goes out beside the write of the answer, inside the lease's commit budget:
    // one that may take longer can still be on its way when the next holder looks for it.
    r.problem(
      v.refreshRescueTimeoutMs,
      `${t.refreshRescueTimeoutMs} ms is not below ${v.refreshCommitBudgetMs.name} (${t.refreshCommitBudgetMs} ms); the rescue copy of an answer must be written (or given up) while the lease still guards it, so lower it below ${t.refreshCommitBudgetMs} (e.g. ${Math.max(1, Math.min(2000, Math.floor(t.refreshCommitBudgetMs / 5)))}) or raise the budget`,
    );
  }
  if (
    !r.failed(v.revocationRetryBaseMs, v.revocationRetryMaxMs) &&
    t.revocationRetryBaseMs > t.revocationRetryMaxMs
  ) {
    r.problem(
      v.revocationRetryBaseMs,
      `${t.revocationRetryBaseMs} ms is above ${v.revocationRetryMaxMs.name} (${t.revocationRetryMaxMs} ms); the first retry delay cannot exceed the cap, so lower it or raise the cap`,
    );
  }
  if (!r.failed(v.retryBaseMs, v.retryMaxMs) && t.retryBaseMs > t.retryMaxMs) {
    r.problem(
      v.retryBaseMs,
      `${t.retryBaseMs} ms is above ${v.retryMaxMs.name} (${t.retryMaxMs} ms); the first retry delay cannot exceed the cap, so lower it or raise the cap`,
    );
  }
  if (
    !r.failed(v.refreshRequeueAfterSeconds, v.refreshBufferSeconds) &&
    t.refreshBufferSeconds > 0 &&
    t.refreshRequeueAfterSeconds >= t.refreshBufferSeconds
  ) {
    // A sweep job that finds its connection fresh leaves the claim in place; the connection is
    // only queued again once the claim is this old, so it must be younger than the buffer.
    r.problem(
      v.refreshRequeueAfterSeconds,
      `${t.refreshRequeueAfterSeconds} s is not below ${v.refreshBufferSeconds.name} (${t.refreshBufferSeconds} s); a connection whose refresh job was lost would be queued again only after its token had lapsed, so lower it below ${t.refreshBufferSeconds} (e.g. ${Math.max(1, Math.floor(t.refreshBufferSeconds * 0.4))})`,
    );
  }
  return t;
}
