// What a run amounts to: its violations, the JSON written to bench/results/chaos.json, and the
// summary printed at the end.
import { classSummaries, lostOutsideWindows, lostPer100Kills } from './class-summary.ts';
import type { Convergence } from './convergence.ts';
import type { ClassWindow } from './disruptions.ts';
import type { FinalChecks } from './invariants.ts';
import { BASELINE_CLASSES, FAULT_CLASSES, conduitTimings, type ChaosOptions } from './options.ts';
import type { Traffic } from './sandbox-control.ts';
import type { JobTrace, QueuePicture } from './stuck-jobs.ts';
import type { WebhookStats } from './webhook-sender.ts';

export interface RunRecord {
  options: ChaosOptions;
  checks: FinalChecks;
  convergence: Convergence;
  queues: QueuePicture;
  /** disruptions and kills, in ms since the fault phase began */
  timeline: Array<{ atMs: number; what: string }>;
  revoked: number;
  badSecretRefusals: number;
  kills: number;
  redisRestarts: number;
  /** long Redis outages (the `redis-outage` class) */
  redisOutages: number;
  /** private Postgres restarts, by stop mode */
  pgRestarts: { fast: number; immediate: number };
  /** the windowed fault classes as they ran */
  windows: ClassWindow[];
  /** epoch ms at which the fault phase began */
  phaseStart: number;
  /** apps that exited on their own and were started again by the fleet */
  unexpectedExits: number;
  faultSeconds: number;
  totalSeconds: number;
  duringFaults: Traffic;
  traffic: Traffic;
  webhooks: WebhookStats;
  lostWebhookJobs: JobTrace[];
  failedJobs: string[];
}

export const CREDENTIAL_ERROR_POLICY =
  'connections that refreshed during the bad-client-secret window go to error (DESIGN: invalid_client → error); ' +
  "nobody touches them: Conduit's recovery sweep (CONDUIT_ERROR_RETRY_INTERVAL_SECONDS) retries them once the " +
  'secret is restored, so they must end connected like every other non-revoked connection (else falseNeedsReauth)';

export function notConverged(c: Convergence, timeoutSeconds: number): string {
  return c.stopped === 'only-permanent-states-left'
    ? `did not converge: after ${c.seconds.toFixed(0)} s only permanent states were left (no use waiting ${timeoutSeconds} s)`
    : `did not converge within ${timeoutSeconds} s`;
}

export function violationsOf(r: RunRecord): string[] {
  const o = r.options;
  return [
    ...Object.entries(r.checks.invariants)
      .filter(([, n]) => n > 0)
      .map(([name, n]) => `${name} = ${n}`),
    ...(r.checks.nonRevokedNotConnected > 0
      ? [`nonRevokedNotConnected = ${r.checks.nonRevokedNotConnected}`]
      : []),
    ...(r.convergence.converged ? [] : [notConverged(r.convergence, o.convergeTimeoutSeconds)]),
    // A run where nothing happened proves nothing.
    ...(r.traffic.refreshes === 0 ? ['no refresh reached the sandbox'] : []),
    ...(r.kills === 0 && !o.skip.has('sigkill')
      ? ['no worker was killed (the fault phase is shorter than --kill-every)']
      : []),
    ...(r.redisRestarts !== (o.skip.has('redis-restart') ? 0 : 1)
      ? [`the private Redis restarted ${r.redisRestarts} times`]
      : []),
    ...(r.redisOutages !== (o.skip.has('redis-outage') ? 0 : 1)
      ? [`the private Redis had ${r.redisOutages} long outages`]
      : []),
    ...(['fast', 'immediate'] as const).flatMap((m) =>
      r.pgRestarts[m] !== (o.skip.has('pg-restart') ? 0 : 1)
        ? [`the private Postgres restarted -m ${m} ${r.pgRestarts[m]} times`]
        : [],
    ),
    ...FAULT_CLASSES.filter(
      (cls) => cls !== 'sigkill' && !o.skip.has(cls) && !r.windows.some((w) => w.cls === cls),
    ).map((cls) => `fault class ${cls} never ran`),
    ...r.windows.flatMap((w) =>
      typeof w.details.error === 'string'
        ? [`fault class ${w.name} failed to inject: ${w.details.error}`]
        : [],
    ),
    ...(o.webhooksPerSecond > 0 && r.webhooks.accepted === 0 ? ['no webhook delivery was accepted'] : []),
    // Leaving out a long-standing class is a control run; the newer classes can be left out to
    // look at one at a time (the JSON and the summary say which ran).
    ...(BASELINE_CLASSES.some((c) => o.skip.has(c))
      ? [`control run: left out ${BASELINE_CLASSES.filter((c) => o.skip.has(c)).join(', ')}`]
      : []),
    ...(Object.keys(o.overrides).length > 0
      ? [`control run: settings overridden (${Object.keys(o.overrides).join(', ')})`]
      : []),
  ];
}

/**
 * The violations left once the tokens that died in flight with a SIGKILLed worker (and what they
 * cause: the reuse that revokes the family, the connection's needs_reauth, its webhooks that can
 * no longer be processed, a convergence that cannot come) are set aside. Everything else still
 * counts. `npm test`'s short run asserts this list is empty; the full run reports both lists and
 * fails on `violations`.
 */
export function violationsBeyondDiedInFlight(r: RunRecord): string[] {
  const d = r.checks.diedInFlight;
  const inv = r.checks.invariants;
  const strandedConcurrent = strandedConcurrentRefreshes(r);
  const adjusted: RunRecord = {
    ...r,
    checks: {
      ...r.checks,
      invariants: {
        ...inv,
        lostTokens: inv.lostTokens - d.lostTokens,
        reusedTokens: Math.max(0, inv.reusedTokens - d.reusedTokens),
        falseNeedsReauth: inv.falseNeedsReauth - d.falseNeedsReauth,
        lostWebhooks: inv.lostWebhooks - d.lostWebhooks,
        concurrentRefreshes: Math.max(0, inv.concurrentRefreshes - strandedConcurrent),
      },
      nonRevokedNotConnected: r.checks.nonRevokedNotConnected - d.falseNeedsReauth,
    },
  };
  const c = r.convergence;
  const onlyDiedInFlightLeft =
    c.stopped === 'only-permanent-states-left' &&
    (c.last.nonRevokedNotConnected.needs_reauth ?? 0) <= d.falseNeedsReauth &&
    (c.last.webhooksByStatus.failed ?? 0) + c.last.webhooksWaitingOnReauth <= d.lostWebhooks;
  if (onlyDiedInFlightLeft) adjusted.convergence = { ...c, converged: true };
  return violationsOf(adjusted);
}

/**
 * Concurrent refreshes the provider saw inside a `sigstop` or `lost-answer` window. Both classes
 * leave, by construction, a request at the provider whose sender is frozen past its lease or has
 * given up on it; the next lease holder's request then meets it there. That is the "holder stalls
 * past the lease after sending" row of docs/refresh-safety.md: inherent, so counted and set aside
 * like the deaths in flight, and only inside those windows.
 */
export function strandedConcurrentRefreshes(r: RunRecord): number {
  return classSummaries({
    windows: r.windows,
    lostTokens: r.checks.allLostTokens,
    unprocessedReceivedAt: r.checks.unprocessedReceivedAt,
    phaseStart: r.phaseStart,
  })
    .filter((c) => c.cls === 'sigstop' || c.cls === 'lost-answer')
    .reduce((n, c) => n + (c.inWindow.anomalies.concurrentRefreshes ?? 0), 0);
}

/** Tokens lost with a SIGKILLed worker: those lost in flight but for the lost-answer and sigstop classes. */
function killedInFlight(d: RunRecord['checks']['diedInFlight']): number {
  return d.lostTokens - d.answerLost - d.stalledInFlight;
}

export function resultJson(r: RunRecord, violations: string[]): Record<string, unknown> {
  const o = r.options;
  const c = r.checks;
  const { connectionIds, ...diedInFlight } = c.diedInFlight;
  return {
    passed: violations.length === 0,
    violations,
    violationsBeyondDiedInFlight: violationsBeyondDiedInFlight(r),
    ...c.invariants,
    lostPer100Kills: lostPer100Kills(killedInFlight(c.diedInFlight), r.kills),
    concurrentRefreshesStranded: strandedConcurrentRefreshes(r),
    classesRun: FAULT_CLASSES.filter((x) => !o.skip.has(x)),
    classesLeftOut: [...o.skip],
    hogThroughout: o.hogThroughout,
    classes: classSummaries({
      windows: r.windows,
      lostTokens: c.allLostTokens,
      unprocessedReceivedAt: c.unprocessedReceivedAt,
      phaseStart: r.phaseStart,
    }),
    lostTokensOutsideWindows: lostOutsideWindows({
      windows: r.windows,
      lostTokens: c.allLostTokens,
      phaseStart: r.phaseStart,
    }).length,
    lostTokensAnswerLost: c.allLostTokens.filter((t) => t.answerLost).length,
    convergenceSeconds: r.convergence.converged ? Number(r.convergence.seconds.toFixed(1)) : null,
    diedInFlight: { ...diedInFlight, connectionIds: connectionIds.slice(0, 20) },
    ...(r.convergence.permanentOnlyFromSeconds !== undefined && {
      convergenceSecondsExceptPermanent: Number(r.convergence.permanentOnlyFromSeconds.toFixed(1)),
    }),
    credentialErrors: c.credentialErrors,
    credentialErrorPolicy: CREDENTIAL_ERROR_POLICY,
    nonRevokedNotConnected: c.nonRevokedNotConnected,
    finalStatuses: c.finalStatuses,
    config: {
      connections: o.connections,
      workers: o.workers,
      tokenLifetimesSeconds: [o.ttlMinSeconds, o.ttlMaxSeconds],
      timings: conduitTimings(o),
      seed: o.seed,
    },
    faultMix: {
      tokenEndpoint: o.faults,
      revokedGrants: r.revoked,
      revokeShare: o.revokeShare,
      badClientSecret: {
        provider: o.badSecretProvider,
        seconds: o.badSecretSeconds,
        tokenRequestsRefused: r.badSecretRefusals,
      },
      workerSigkillEverySeconds: o.killEverySeconds,
      redisRestarts: r.redisRestarts,
      windows: o.windows,
      cpuHogThroughout: o.hogThroughout,
      webhooksPerSecond: o.webhooksPerSecond,
      duplicateShare: o.duplicateShare,
      webhookMode: o.webhookMode,
      skipped: [...o.skip],
    },
    durations: {
      faultPhaseStartedAt: new Date(r.phaseStart).toISOString(),
      faultPhaseSeconds: r.faultSeconds,
      convergenceTimeoutSeconds: o.convergeTimeoutSeconds,
      totalSeconds: r.totalSeconds,
    },
    happened: {
      workerKills: r.kills,
      redisOutages: r.redisOutages,
      pgRestarts: r.pgRestarts,
      unexpectedExits: r.unexpectedExits,
      webhooks: { ...r.webhooks, processingMs: c.webhookProcessingMs },
      transcriptsStored: c.transcriptsStored,
      sandboxTrafficDuringFaults: r.duringFaults,
      sandboxTraffic: r.traffic,
      sandboxAnomalies: c.sandboxAnomalies,
      queuesAtEnd: r.queues.counts,
      lastConvergencePicture: r.convergence.last,
      timeline: r.timeline,
    },
    lostTokenExamples: c.lostTokenExamples,
    lostWebhookExamples: c.lostWebhookExamples,
    lostWebhookJobs: r.lostWebhookJobs,
    failedJobExamples: r.failedJobs,
    anomalyExamples: c.anomalyExamples,
    stuckJobExamples: r.queues.examples,
  };
}

export function summary(r: RunRecord): string[] {
  const inv = r.checks.invariants;
  const t = r.traffic;
  const classes = classSummaries({
    windows: r.windows,
    lostTokens: r.checks.allLostTokens,
    unprocessedReceivedAt: r.checks.unprocessedReceivedAt,
    phaseStart: r.phaseStart,
  });
  const per100 = lostPer100Kills(killedInFlight(r.checks.diedInFlight), r.kills);
  return [
    `invariants: lostTokens ${inv.lostTokens} (${killedInFlight(r.checks.diedInFlight)} died in flight with a SIGKILLed worker, ${r.checks.diedInFlight.answerLost} answered only after their client gave up in the lost-answer class, ${r.checks.diedInFlight.stalledInFlight} held unread by a worker SIGSTOPped past its lease), ` +
      `reusedTokens ${inv.reusedTokens}, concurrentRefreshes ${inv.concurrentRefreshes}, ` +
      `falseNeedsReauth ${inv.falseNeedsReauth}, missedRevocations ${inv.missedRevocations}, ` +
      `lostWebhooks ${inv.lostWebhooks}, duplicateTranscripts ${inv.duplicateTranscripts}, stuckJobs ${inv.stuckJobs}; ` +
      `convergence ${r.convergence.converged ? `${r.convergence.seconds.toFixed(1)} s` : 'never'}`,
    `happened: ${t.refreshes} refreshes (${r.duringFaults.refreshes} during the faults; ${t.rateLimited} 429s, ` +
      `${t.fault5xx} 5xx, ${t.faultHangs} hangs), ${r.kills} worker SIGKILLs, ${r.redisRestarts} Redis restart, ` +
      `${r.revoked} revocations, ${r.checks.credentialErrors} credential errors, ` +
      `${r.webhooks.accepted} webhooks accepted (${r.webhooks.duplicatesSent} sent twice)` +
      (r.unexpectedExits > 0 ? `, ${r.unexpectedExits} app exits on their own (restarted)` : ''),
    `lostPer100Kills: ${per100 ?? 'n/a (no kills)'} (${killedInFlight(r.checks.diedInFlight)} tokens died in flight over ${r.kills} SIGKILLs)` +
      (r.options.hogThroughout ? '; a CPU hog loaded every core throughout' : ''),
    ...(r.options.skip.size > 0 ? [`classes left out: ${[...r.options.skip].join(', ')}`] : []),
    ...classes.map(
      (c) =>
        `  ${c.window.padEnd(21)} ${c.fromSeconds.toFixed(0).padStart(4)}–${c.toSeconds.toFixed(0).padEnd(4)} s: ` +
        (c.violations.join('; ') || 'nothing went wrong in or after it') +
        ` (${c.inWindow.refreshes} refreshes in it)`,
    ),
    ...(r.checks.diedInFlight.lostTokens > 0
      ? [
          `died in flight: ${r.checks.diedInFlight.lostTokens} rotated token(s) were answered to a worker that was ` +
            'SIGKILLed (or SIGSTOPped past its lease) before it stored them; violations beyond those: ' +
            (violationsBeyondDiedInFlight(r).join('; ') || 'none'),
        ]
      : []),
  ];
}
