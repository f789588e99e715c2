import { describe, expect, it } from 'vitest';
import { classSummaries, lostOutsideWindows, lostPer100Kills } from './class-summary.ts';
import type { ClassWindow, Snapshot } from './disruptions.ts';
import type { LostToken } from './invariants.ts';
import { FAULT_CLASSES, classesLeftOut, parseOptions } from './options.ts';
import { planWindows } from './schedule.ts';

// The fault classes of a chaos run: which run, when, and what each one is blamed for.
describe('chaos classes › --only and --skip', () => {
  it('without either every class runs', () => {
    expect(classesLeftOut(undefined, undefined)).toEqual(new Set());
  });

  it('--only keeps the classes named, --skip drops from what is left', () => {
    expect(classesLeftOut('row-lock,sigkill', 'sigkill')).toEqual(
      new Set(FAULT_CLASSES.filter((c) => c !== 'row-lock')),
    );
    expect(classesLeftOut(undefined, 'cpu-hog')).toEqual(new Set(['cpu-hog']));
  });

  it('an unknown class is a sentence naming it and the known ones', () => {
    expect(classesLeftOut('row-locks', undefined)).toMatch(/unknown: row-locks/);
    expect(classesLeftOut('row-locks', undefined)).toMatch(/pg-restart/);
  });
});

describe('chaos classes › the schedule', () => {
  it('windows never overlap, each is followed by its gap, and the phase stretches to hold them', () => {
    const { windows, phaseMs } = planWindows(parseOptions(['--minutes', '3']));
    expect(windows.map((w) => w.name)).toEqual([
      'bad-secret',
      'redis-restart',
      'pg-restart-fast',
      'pg-restart-immediate',
      'row-lock',
      'sigstop',
      'lost-answer',
      'latency',
      'redis-outage',
      'cpu-hog',
    ]);
    for (let i = 1; i < windows.length; i++)
      expect(windows[i]!.startMs).toBe(windows[i - 1]!.startMs + windows[i - 1]!.durationMs + 10_000);
    const last = windows.at(-1)!;
    expect(phaseMs).toBe(last.startMs + last.durationMs + 10_000);
    expect(windows.find((w) => w.name === 'row-lock')!.durationMs).toBe(30_000);
    expect(windows.find((w) => w.name === 'redis-outage')!.durationMs).toBeGreaterThanOrEqual(30_000);
    expect(windows.find((w) => w.name === 'cpu-hog')!.durationMs).toBe(60_000);
  });

  it('a short run of the long-standing classes keeps its length, give or take a gap', () => {
    const { windows, phaseMs } = planWindows(
      parseOptions(['--minutes', '0.5', '--only', 'sigkill,redis-restart,bad-secret']),
    );
    expect(windows.map((w) => w.name)).toEqual(['bad-secret', 'redis-restart']);
    expect(phaseMs).toBeLessThanOrEqual(40_000);
  });

  it('windows that must outlast the lock follow the lock TTL the apps are given', () => {
    const o = parseOptions(['--set', 'CONDUIT_LOCK_TTL_MS=30000']);
    expect(o.windows.rowLockSeconds).toBe(60);
    expect(o.windows.sigstopSeconds).toBe(60);
  });

  it('deliveries use per-connection webhooks unless --webhook-mode operator asks for the global secret', () => {
    expect(parseOptions([]).webhookMode).toBe('per_connection');
    expect(parseOptions(['--webhook-mode', 'operator']).webhookMode).toBe('operator');
    expect(parseOptions(['--webhook-mode', 'per_connection']).webhookMode).toBe('per_connection');
  });
});

const snap = (atMs: number, over: Partial<Snapshot> = {}): Snapshot => ({
  atMs,
  anomalies: {},
  refreshes: 0,
  answersLost: 0,
  notConnected: {},
  ...over,
});

const lost = (atMs: number, over: Partial<LostToken> = {}): LostToken => ({
  connectionId: `c${atMs}`,
  provider: 'discord',
  grantId: `g${atMs}`,
  status: 'needs_reauth',
  sandboxFamily: 'revoked',
  sandboxLastRefreshAt: new Date(1_000_000 + atMs).toISOString(),
  sandboxAnswered: 'Conduit-chaos/worker-0.1',
  killedMsAfterAnswer: null,
  stoppedMsAfterAnswer: null,
  diedInFlight: false,
  stalledInFlight: false,
  answerLost: false,
  ...over,
});

describe('chaos classes › what each window is blamed for', () => {
  const rowLock: ClassWindow = {
    name: 'row-lock',
    cls: 'row-lock',
    startedAtMs: 10_000,
    endedAtMs: 40_000,
    details: { connectionIds: ['c15000', 'locked-but-fine'] },
    before: snap(10_000, { anomalies: { reusedRefreshTokens: 2, earlyRequests: 5 }, refreshes: 100 }),
    after: snap(40_000, { anomalies: { reusedRefreshTokens: 3, earlyRequests: 9 }, refreshes: 180 }),
    settled: snap(50_000, { anomalies: { reusedRefreshTokens: 3, earlyRequests: 9 }, refreshes: 200 }),
  };

  it('a token is pinned on the window in which it was last rotated, and on the rows it locked', () => {
    const [s] = classSummaries({
      windows: [rowLock],
      lostTokens: [lost(15_000), lost(45_000, { diedInFlight: true }), lost(70_000)],
      unprocessedReceivedAt: [new Date(1_000_000 + 20_000).toISOString(), null],
      phaseStart: 1_000_000,
    });
    expect(s!.inWindow).toMatchObject({
      lostTokens: 1,
      refreshes: 80,
      lostWebhooks: 1,
      anomalies: { reusedRefreshTokens: 1, earlyRequests: 4 },
    });
    expect(s!.afterWindow).toMatchObject({ lostTokens: 1, diedInFlight: 1, anomalies: {} });
    expect(s!.lostOfTargets).toBe(1);
    expect(s!.violations).toEqual([
      '1 token(s) lost in the window (0 died in flight with a SIGKILLed worker, 0 answered after their client had gone, 0 held unread by a worker stopped past its lease)',
      'reusedRefreshTokens +1 in the window',
      '1 accepted webhook(s) received in the window never processed',
      '1 token(s) lost after it (1 died in flight with a SIGKILLed worker, 0 answered after their client had gone, 0 held unread by a worker stopped past its lease)',
      '1 of the tokens it aimed at were lost',
    ]);
  });

  it('a quiet window says nothing went wrong; losses outside every window are the background faults', () => {
    const quiet = {
      ...rowLock,
      after: { ...rowLock.after, anomalies: rowLock.before.anomalies },
      settled: { ...rowLock.settled, anomalies: rowLock.before.anomalies },
    };
    const [s] = classSummaries({
      windows: [quiet],
      lostTokens: [lost(70_000)],
      unprocessedReceivedAt: [],
      phaseStart: 1_000_000,
    });
    expect(s!.violations).toEqual([]);
    expect(
      lostOutsideWindows({
        windows: [rowLock],
        lostTokens: [lost(70_000), lost(5_000)],
        phaseStart: 1_000_000,
      }).map((t) => t.connectionId),
    ).toEqual(['c70000', 'c5000']);
  });

  it('a frozen worker is blamed for the tokens the sandbox answered to it, whenever they were lost', () => {
    const [s] = classSummaries({
      windows: [
        { ...rowLock, name: 'sigstop', cls: 'sigstop', details: { agent: 'Conduit-chaos/worker-1.3' } },
      ],
      lostTokens: [lost(90_000, { sandboxAnswered: 'Conduit-chaos/worker-1.3' })],
      unprocessedReceivedAt: [],
      phaseStart: 1_000_000,
    });
    expect(s!.lostOfTargets).toBe(1);
  });
});

describe('chaos classes › lost tokens per 100 SIGKILLs', () => {
  it('is the tokens that died in flight per hundred kills, and n/a without kills', () => {
    expect(lostPer100Kills(11, 35)).toBe(31.4);
    expect(lostPer100Kills(0, 35)).toBe(0);
    expect(lostPer100Kills(0, 0)).toBeNull();
  });
});
