import { describe, expect, it } from 'vitest';
import type { Convergence, StatusPicture } from './convergence.ts';
import type { ClassWindow, Snapshot } from './disruptions.ts';
import type { DiedInFlight, FinalChecks } from './invariants.ts';
import { parseOptions } from './options.ts';
import { resultJson, violationsBeyondDiedInFlight, violationsOf, type RunRecord } from './result.ts';

// The verdict of a chaos run: which losses are the inherent SIGKILL-in-flight ones, and that
// nothing else ever hides behind them.
const picture = (over: Partial<StatusPicture> = {}): StatusPicture => ({
  nonRevokedNotConnected: {},
  expiredAccessTokens: 0,
  revokedNotNeedsReauth: {},
  acceptedWebhooks: 10,
  webhooksByStatus: { processed: 10 },
  webhooksWaitingOnReauth: 0,
  ...over,
});

const diedInFlight = (d: Partial<DiedInFlight> = {}): DiedInFlight => ({
  lostTokens: 0,
  reusedTokens: 0,
  falseNeedsReauth: 0,
  lostWebhooks: 0,
  connectionIds: [],
  answerLost: 0,
  stalledInFlight: 0,
  ...d,
});

const snap = (atMs: number, over: Partial<Snapshot> = {}): Snapshot => ({
  atMs,
  anomalies: {},
  refreshes: 0,
  answersLost: 0,
  notConnected: {},
  ...over,
});
const ran = (name: ClassWindow['name'], cls: ClassWindow['cls'], fromMs = 0, toMs = 1_000): ClassWindow => ({
  name,
  cls,
  startedAtMs: fromMs,
  endedAtMs: toMs,
  details: {},
  before: snap(fromMs),
  after: snap(toMs),
  settled: snap(toMs + 10_000),
});

function record(
  checks: Partial<FinalChecks> & Pick<FinalChecks, 'invariants'>,
  convergence: Convergence,
): RunRecord {
  const traffic = {
    tokenRequests: 100,
    refreshes: 90,
    rateLimited: 5,
    fault5xx: 2,
    faultHangs: 1,
    apiCalls: 10,
  };
  return {
    options: parseOptions(['--converge-timeout', '90', '--only', 'sigkill,redis-restart,bad-secret']),
    checks: {
      diedInFlight: diedInFlight(),
      credentialErrors: 0,
      nonRevokedNotConnected: 0,
      finalStatuses: {},
      lostTokenExamples: [],
      allLostTokens: [],
      unprocessedReceivedAt: [],
      lostWebhookExamples: [],
      webhookProcessingMs: { p50: 1, p99: 2, max: 3 },
      sandboxAnomalies: {},
      anomalyExamples: {},
      transcriptsStored: 10,
      ...checks,
    },
    convergence,
    queues: { stuck: 0, examples: [], counts: {} },
    timeline: [],
    revoked: 1,
    badSecretRefusals: 1,
    kills: 5,
    redisRestarts: 1,
    redisOutages: 0,
    pgRestarts: { fast: 0, immediate: 0 },
    windows: [ran('bad-secret', 'bad-secret'), ran('redis-restart', 'redis-restart', 11_000, 13_000)],
    phaseStart: 0,
    unexpectedExits: 0,
    faultSeconds: 30,
    totalSeconds: 60,
    duringFaults: traffic,
    traffic,
    webhooks: {
      deliveries: 10,
      accepted: 10,
      duplicatesSent: 1,
      duplicatesTakenAsNew: 0,
      refusedForGood: 0,
      attemptsRefused: 0,
    } as RunRecord['webhooks'],
    lostWebhookJobs: [],
    failedJobs: [],
  };
}

const clean = {
  lostTokens: 0,
  reusedTokens: 0,
  concurrentRefreshes: 0,
  falseNeedsReauth: 0,
  missedRevocations: 0,
  lostWebhooks: 0,
  duplicateTranscripts: 0,
  stuckJobs: 0,
};
const converged: Convergence = { converged: true, seconds: 4, last: picture() };
const stuckOnPermanent = (needsReauth: number, failed = 0, waiting = 0): Convergence => ({
  converged: false,
  seconds: 40,
  stopped: 'only-permanent-states-left',
  permanentOnlyFromSeconds: 20,
  last: picture({
    nonRevokedNotConnected: { needs_reauth: needsReauth },
    webhooksByStatus: {
      processed: 10 - failed - waiting,
      ...(failed > 0 && { failed }),
      ...(waiting > 0 && { received: waiting }),
    },
    webhooksWaitingOnReauth: waiting,
  }),
});

describe('chaos verdict', () => {
  it('a clean run has no violation either way', () => {
    const r = record({ invariants: clean }, converged);
    expect(violationsOf(r)).toEqual([]);
    expect(violationsBeyondDiedInFlight(r)).toEqual([]);
  });

  it('tokens that died in flight stay violations, and nothing is left beyond them', () => {
    const r = record(
      {
        invariants: { ...clean, lostTokens: 2, reusedTokens: 3, falseNeedsReauth: 2, lostWebhooks: 2 },
        nonRevokedNotConnected: 2,
        diedInFlight: diedInFlight({
          lostTokens: 2,
          reusedTokens: 3,
          falseNeedsReauth: 2,
          lostWebhooks: 2,
          connectionIds: ['a', 'b'],
        }),
      },
      // of their deliveries, one failed and one waits for the user to reconnect
      stuckOnPermanent(2, 1, 1),
    );
    expect(violationsOf(r)).toEqual([
      'lostTokens = 2',
      'reusedTokens = 3',
      'falseNeedsReauth = 2',
      'lostWebhooks = 2',
      'nonRevokedNotConnected = 2',
      'did not converge: after 40 s only permanent states were left (no use waiting 90 s)',
    ]);
    expect(violationsBeyondDiedInFlight(r)).toEqual([]);
  });

  it('a token held unread by a worker stopped past its lease is set aside like one that died, and not counted as a kill', () => {
    const r = record(
      {
        invariants: { ...clean, lostTokens: 2, reusedTokens: 2, falseNeedsReauth: 2 },
        nonRevokedNotConnected: 2,
        diedInFlight: diedInFlight({
          lostTokens: 2,
          reusedTokens: 2,
          falseNeedsReauth: 2,
          connectionIds: ['a', 'b'],
          stalledInFlight: 2,
        }),
      },
      stuckOnPermanent(2),
    );
    expect(violationsBeyondDiedInFlight(r)).toEqual([]);
    expect(resultJson(r, violationsOf(r))).toMatchObject({ lostPer100Kills: 0 });
  });

  it('a delivery left waiting on a connection the kills did not cause is not excused', () => {
    const r = record(
      {
        invariants: { ...clean, lostTokens: 1, reusedTokens: 1, falseNeedsReauth: 1, lostWebhooks: 2 },
        nonRevokedNotConnected: 1,
        diedInFlight: diedInFlight({
          lostTokens: 1,
          reusedTokens: 1,
          falseNeedsReauth: 1,
          lostWebhooks: 1,
          connectionIds: ['a'],
        }),
      },
      stuckOnPermanent(1, 0, 2),
    );
    expect(violationsBeyondDiedInFlight(r)).toEqual([
      'lostWebhooks = 1',
      'did not converge: after 40 s only permanent states were left (no use waiting 90 s)',
    ]);
  });

  it('a loss the kills do not explain is still reported', () => {
    const r = record(
      {
        invariants: { ...clean, lostTokens: 3, reusedTokens: 3, falseNeedsReauth: 3 },
        nonRevokedNotConnected: 3,
        diedInFlight: diedInFlight({
          lostTokens: 2,
          reusedTokens: 2,
          falseNeedsReauth: 2,
          connectionIds: ['a', 'b'],
        }),
      },
      stuckOnPermanent(3),
    );
    expect(violationsBeyondDiedInFlight(r)).toEqual([
      'lostTokens = 1',
      'reusedTokens = 1',
      'falseNeedsReauth = 1',
      'nonRevokedNotConnected = 1',
      'did not converge: after 40 s only permanent states were left (no use waiting 90 s)',
    ]);
  });

  it('never excuses what a kill cannot cause: concurrent refreshes, stuck jobs, a timeout', () => {
    const r = record(
      {
        invariants: { ...clean, lostTokens: 1, concurrentRefreshes: 1, stuckJobs: 2 },
        diedInFlight: diedInFlight({ lostTokens: 1, connectionIds: ['a'] }),
      },
      { converged: false, seconds: 90, stopped: 'timeout', last: picture({ expiredAccessTokens: 4 }) },
    );
    expect(violationsBeyondDiedInFlight(r)).toEqual([
      'concurrentRefreshes = 1',
      'stuckJobs = 2',
      'did not converge within 90 s',
    ]);
  });
  it('sets aside concurrent refreshes only inside the sigstop and lost-answer windows, where a stranded request is the fault', () => {
    const stranded = (cls: 'sigstop' | 'lost-answer', n: number, fromMs: number): ClassWindow => ({
      ...ran(cls, cls, fromMs, fromMs + 1_000),
      before: snap(fromMs, { anomalies: { concurrentRefreshes: 0 } }),
      after: snap(fromMs + 1_000, { anomalies: { concurrentRefreshes: n } }),
    });
    const r = record({ invariants: { ...clean, concurrentRefreshes: 4 } }, converged);
    const longStanding = r.windows;
    r.windows = [...longStanding, stranded('sigstop', 1, 20_000), stranded('lost-answer', 2, 40_000)];
    expect(violationsBeyondDiedInFlight(r)).toEqual(['concurrentRefreshes = 1']);
    r.windows = [...longStanding, stranded('sigstop', 1, 20_000), stranded('lost-answer', 3, 40_000)];
    expect(violationsBeyondDiedInFlight(r)).toEqual([]);
  });
});
