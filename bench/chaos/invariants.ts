// The invariants, counted once the apps have stopped (nothing is refreshing any more): Conduit's
// database, decrypted with the run's key, against the sandbox's own account of every grant.
import type { TokenVault } from '@conduit/core';
import type { Db } from '@conduit/db';
import type { SandboxReport } from './sandbox-control.ts';
import type { SeededConnection } from './seed.ts';

export interface Invariants {
  /** non-revoked connections whose stored refresh token is not the one the sandbox accepts now */
  lostTokens: number;
  /** rotated-out refresh tokens presented again (sandbox) */
  reusedTokens: number;
  /** a refresh of a grant while another refresh of it was in flight (sandbox) */
  concurrentRefreshes: number;
  /** non-revoked connections left in needs_reauth or error */
  falseNeedsReauth: number;
  /** revoked grants whose connection is not needs_reauth */
  missedRevocations: number;
  /** deliveries answered 2xx that are not in the inbox as processed */
  lostWebhooks: number;
  /** transcripts or meetings stored twice, or a redelivery taken as new */
  duplicateTranscripts: number;
  stuckJobs: number;
}

export interface LostToken {
  connectionId: string;
  provider: string;
  grantId: string;
  status: string;
  sandboxFamily: string;
  sandboxLastRefreshAt: string | null;
  /** the process the sandbox's last successful refresh answered (its User-Agent) */
  sandboxAnswered: string | null;
  /**
   * when that process was SIGKILLed, in ms after the sandbox answered it (negative: its request
   * was on the wire when it died, and the sandbox still processed it); null: it was never killed
   */
  killedMsAfterAnswer: number | null;
  /**
   * when that process was SIGSTOPped for longer than its lease, in ms after the sandbox answered
   * it; null: it was not, within one lock TTL of the answer
   */
  stoppedMsAfterAnswer: number | null;
  /** the provider's answer died with a SIGKILLed worker before it could be stored, or was held unread by a stopped one */
  diedInFlight: boolean;
  /** the answer sat unread in a worker SIGSTOPped past its lease (DESIGN.md: a stall after sending) */
  stalledInFlight: boolean;
  /** the sandbox processed the last refresh after its client had gone (the `lost-answer` class) */
  answerLost: boolean;
}

/**
 * Tokens the provider issued to a worker process that was SIGKILLed before it could store them
 * (the sandbox's last answer for the grant went to a killed process, at most one lock TTL before
 * its death). With rotation and no grace period no client can keep these: the only copy of the
 * new refresh token died with the process. Every count here is also in the invariants above.
 */
export interface DiedInFlight {
  lostTokens: number;
  /** the presentations of their stale tokens (the first one revoked each family) */
  reusedTokens: number;
  /** those connections ending needs_reauth or error */
  falseNeedsReauth: number;
  /** accepted deliveries of those connections left unprocessed (needs_reauth stops the fetch) */
  lostWebhooks: number;
  connectionIds: string[];
  /**
   * of `lostTokens`: rotated while the `lost-answer` class made the provider answer only after its
   * client had given up — an answer no client could receive (docs/refresh-safety.md), not a kill
   */
  answerLost: number;
  /**
   * of `lostTokens`: answered to a worker that the `sigstop` class stopped, past its lease, before
   * it had read the answer; the next holder could only present the old token (DESIGN.md's "holder
   * stalls past the lease after sending": inherent without a provider grace window), not a kill
   */
  stalledInFlight: number;
}

/**
 * Ms from the answer to the stop of the process that received it, when that process was stopped
 * for longer than the lease within one lease of the answer (a live worker stores an answer well
 * within its lease; one stopped later than that had every chance to); null otherwise.
 */
export function stoppedMsAfterAnswer(
  answeredAt: number | null,
  spans: ReadonlyArray<{ fromMs: number; toMs: number }> | undefined,
  lockTtlMs: number,
): number | null {
  if (answeredAt === null || !spans) return null;
  const span = spans.find(
    (w) => w.fromMs >= answeredAt && w.fromMs - answeredAt <= lockTtlMs && w.toMs - w.fromMs > lockTtlMs,
  );
  return span ? span.fromMs - answeredAt : null;
}

export interface FinalChecks {
  invariants: Invariants;
  diedInFlight: DiedInFlight;
  /** connections moved to `error` during the run (the bad-client-secret window) */
  credentialErrors: number;
  nonRevokedNotConnected: number;
  finalStatuses: Record<string, number>;
  lostTokenExamples: LostToken[];
  /** every lost token (the examples are the first 20): the per-class summary pins each on a window */
  allLostTokens: LostToken[];
  /** when each accepted but unprocessed delivery was received (null: not in the inbox) */
  unprocessedReceivedAt: Array<string | null>;
  lostWebhookExamples: Array<{
    deliveryId: string;
    status: string;
    error: string | null;
    receivedAt: string | null;
    /** the status of the connection the delivery was matched to */
    connectionStatus: string | null;
    connectionId: string | null;
    recordingId: number;
    /** the work was done (the transcript is stored) but the delivery was never marked processed */
    transcriptStored: boolean;
  }>;
  /** time from a delivery's receipt to its transcript stored, in ms */
  webhookProcessingMs: { p50: number | null; p99: number | null; max: number | null };
  sandboxAnomalies: Record<string, number>;
  anomalyExamples: Record<string, string[]>;
  transcriptsStored: number;
}

export async function finalChecks(a: {
  db: Db;
  vault: TokenVault;
  report: SandboxReport;
  seeded: readonly SeededConnection[];
  acceptedIds: readonly string[];
  duplicatesTakenAsNew: number;
  stuckJobs: number;
  /** each SIGKILLed worker process's User-Agent → when it was killed */
  killedAgents: ReadonlyMap<string, number>;
  /** each SIGSTOPped worker process's User-Agent → the spans it was stopped for */
  stoppedAgents?: ReadonlyMap<string, ReadonlyArray<{ fromMs: number; toMs: number }>>;
  lockTtlMs: number;
  runStartedAt: Date;
  /** epoch-ms spans of the `lost-answer` class: the provider answers only after its client gave up */
  answerLostWindows?: ReadonlyArray<{ fromMs: number; toMs: number }>;
}): Promise<FinalChecks> {
  const grants = new Map((a.report.grants?.items ?? []).map((g) => [g.grantId, g]));
  const rows = await a.db.connection.findMany({ select: { id: true, status: true, refreshTokenEnc: true } });
  const byId = new Map(rows.map((r) => [r.id, r]));
  const finalStatuses: Record<string, number> = {};
  let lostTokens = 0;
  const diedInFlight: DiedInFlight = {
    lostTokens: 0,
    reusedTokens: 0,
    falseNeedsReauth: 0,
    lostWebhooks: 0,
    connectionIds: [],
    answerLost: 0,
    stalledInFlight: 0,
  };
  let falseNeedsReauth = 0;
  let missedRevocations = 0;
  let nonRevokedNotConnected = 0;
  const allLostTokens: LostToken[] = [];
  for (const c of a.seeded) {
    const row = byId.get(c.connectionId);
    const status = row?.status ?? 'missing';
    finalStatuses[status] = (finalStatuses[status] ?? 0) + 1;
    if (c.revoked) {
      if (status !== 'needs_reauth') missedRevocations++;
      continue;
    }
    if (status !== 'connected') nonRevokedNotConnected++;
    if (status === 'needs_reauth' || status === 'error') falseNeedsReauth++;
    const grant = grants.get(c.grantId);
    const stored = row?.refreshTokenEnc ? a.vault.decrypt(row.refreshTokenEnc) : null;
    if (!grant || grant.refreshToken === null || stored !== grant.refreshToken) {
      lostTokens++;
      const answeredAt = grant?.lastRefreshAt ? Date.parse(grant.lastRefreshAt) : null;
      const holder = grant?.lastRefreshClient ?? null;
      const killedAt = holder === null ? undefined : a.killedAgents.get(holder);
      const killedMsAfterAnswer =
        killedAt === undefined || answeredAt === null ? null : killedAt - answeredAt;
      // A live worker stores an answer within its lock; one that was killed later than that had
      // every chance to, and losing it is Conduit's fault.
      const killed = killedMsAfterAnswer !== null && killedMsAfterAnswer <= a.lockTtlMs;
      // Only inside the lost-answer class is an answer nobody received excused: elsewhere it means
      // Conduit gave up on an answer too early, and that counts.
      const undeliverable =
        (grant?.lastAnswerLost ?? false) &&
        answeredAt !== null &&
        (a.answerLostWindows ?? []).some((w) => answeredAt >= w.fromMs && answeredAt <= w.toMs + a.lockTtlMs);
      const stoppedMs = stoppedMsAfterAnswer(
        answeredAt,
        holder === null ? undefined : a.stoppedAgents?.get(holder),
        a.lockTtlMs,
      );
      const stalled = !killed && !undeliverable && stoppedMs !== null;
      const died = killed || undeliverable || stalled;
      if (undeliverable && !killed) diedInFlight.answerLost++;
      if (stalled) diedInFlight.stalledInFlight++;
      if (died) {
        diedInFlight.lostTokens++;
        diedInFlight.connectionIds.push(c.connectionId);
        diedInFlight.reusedTokens += grant?.reuses ?? 0;
        if (status === 'needs_reauth' || status === 'error') diedInFlight.falseNeedsReauth++;
      }
      allLostTokens.push({
        connectionId: c.connectionId,
        provider: c.provider,
        grantId: c.grantId,
        status,
        sandboxFamily: grant?.family ?? 'unknown',
        sandboxLastRefreshAt: grant?.lastRefreshAt ?? null,
        sandboxAnswered: holder,
        killedMsAfterAnswer,
        stoppedMsAfterAnswer: stoppedMs,
        diedInFlight: died,
        stalledInFlight: stalled,
        answerLost: grant?.lastAnswerLost ?? false,
      });
    }
  }

  const deliveries = await a.db.webhookDelivery.findMany({
    where: { provider: 'fathom', deliveryId: { in: [...a.acceptedIds] } },
    select: {
      deliveryId: true,
      status: true,
      error: true,
      receivedAt: true,
      processedAt: true,
      connectionId: true,
      payload: true,
    },
  });
  const delays = deliveries
    .filter((d) => d.processedAt !== null)
    .map((d) => d.processedAt!.getTime() - d.receivedAt.getTime())
    .sort((x, y) => x - y);
  const pct = (q: number) => delays[Math.min(delays.length - 1, Math.floor(q * delays.length))] ?? null;
  const inbox = new Map(deliveries.map((d) => [d.deliveryId, d]));
  const unprocessed = a.acceptedIds.filter((id) => inbox.get(id)?.status !== 'processed');
  const tokenDied = new Set(diedInFlight.connectionIds);
  diedInFlight.lostWebhooks = unprocessed.filter((id) => {
    const connectionId = inbox.get(id)?.connectionId;
    return connectionId != null && tokenDied.has(connectionId);
  }).length;
  const lostWebhookExamples = unprocessed.slice(0, 20).map((id) => {
    const d = inbox.get(id);
    return {
      deliveryId: id,
      status: d?.status ?? 'missing',
      error: d?.error ?? null,
      receivedAt: d?.receivedAt.toISOString() ?? null,
      connectionStatus: d?.connectionId ? (byId.get(d.connectionId)?.status ?? 'missing') : null,
      connectionId: d?.connectionId ?? null,
      recordingId: Number((d?.payload as { recording_id?: unknown } | undefined)?.recording_id ?? 0),
      transcriptStored: false,
    };
  });
  for (const w of lostWebhookExamples) {
    if (!w.connectionId) continue;
    w.transcriptStored =
      (await a.db.transcript.count({
        where: { meeting: { connectionId: w.connectionId, recordingId: BigInt(w.recordingId) } },
      })) > 0;
  }
  const [dupes] = await a.db.$queryRawUnsafe<
    [{ transcripts: number; extraTranscripts: number; extraMeetings: number }]
  >(`
    SELECT (SELECT count(*) FROM "Transcript")::int AS transcripts,
           (SELECT count(*) - count(DISTINCT "meetingId") FROM "Transcript")::int AS "extraTranscripts",
           (SELECT count(*) - count(DISTINCT ("connectionId", "recordingId")) FROM "Meeting")::int AS "extraMeetings"`);
  const [{ errors }] = await a.db.$queryRawUnsafe<[{ errors: number }]>(
    `SELECT count(DISTINCT "connectionId")::int AS errors FROM "ConnectionEvent" WHERE "to" = 'error' AND at >= $1`,
    a.runStartedAt,
  );

  const sandboxAnomalies: Record<string, number> = {};
  const anomalyExamples: Record<string, string[]> = {};
  for (const [provider, p] of Object.entries(a.report.providers)) {
    for (const [kind, n] of Object.entries(p!.counts)) {
      if (n === 0) continue;
      sandboxAnomalies[kind] = (sandboxAnomalies[kind] ?? 0) + n;
      const list = (anomalyExamples[kind] ??= []);
      for (const e of p!.examples[kind] ?? [])
        if (list.length < 5) list.push(`${provider} ${e.grantId ?? ''} ${e.at}: ${e.detail}`);
    }
  }

  return {
    invariants: {
      lostTokens,
      reusedTokens: sandboxAnomalies.reusedRefreshTokens ?? 0,
      concurrentRefreshes: sandboxAnomalies.concurrentRefreshes ?? 0,
      falseNeedsReauth,
      missedRevocations,
      lostWebhooks: unprocessed.length,
      duplicateTranscripts: dupes.extraTranscripts + dupes.extraMeetings + a.duplicatesTakenAsNew,
      stuckJobs: a.stuckJobs,
    },
    diedInFlight,
    credentialErrors: errors,
    nonRevokedNotConnected,
    finalStatuses,
    // the losses no death in flight explains first: they are the ones to follow up
    lostTokenExamples: [
      ...allLostTokens.filter((t) => !t.diedInFlight),
      ...allLostTokens.filter((t) => t.diedInFlight),
    ].slice(0, 20),
    allLostTokens,
    unprocessedReceivedAt: unprocessed.map((id) => inbox.get(id)?.receivedAt.toISOString() ?? null),
    lostWebhookExamples,
    webhookProcessingMs: { p50: pct(0.5), p99: pct(0.99), max: delays[delays.length - 1] ?? null },
    sandboxAnomalies,
    anomalyExamples,
    transcriptsStored: dupes.transcripts,
  };
}
