// Per fault class: when its window ran, what it did, and what went wrong in it and in the quiet
// gap after it. A lost token is pinned on the window in which the sandbox last rotated it (the
// answer that never reached the database); a lost webhook on the window it was received in;
// the sandbox's anomaly counts and the connections' statuses are read at each window's edges.
import type { ClassWindow, Snapshot } from './disruptions.ts';
import type { LostToken } from './invariants.ts';

/** Anomalies that are invariant violations (the others, like earlyRequests, are only recorded). */
const VIOLATING_ANOMALIES = ['reusedRefreshTokens', 'concurrentRefreshes'] as const;

export interface Stretch {
  /** the sandbox's anomaly counts that grew in this stretch */
  anomalies: Record<string, number>;
  refreshes: number;
  answersLost: number;
  lostTokens: number;
  /** of those, answered to a worker SIGKILLed before it stored them */
  diedInFlight: number;
  /** of those, answered by the sandbox after their client had gone */
  answerLost: number;
  /** of those, held unread by a worker SIGSTOPped past its lease */
  stalledInFlight: number;
  /** accepted deliveries received in this stretch and never processed */
  lostWebhooks: number;
  /** non-revoked connections not `connected` at the stretch's end, by status */
  notConnectedAtEnd: Record<string, number> | null;
}

export interface ClassSummary {
  window: ClassWindow['name'];
  cls: ClassWindow['cls'];
  fromSeconds: number;
  toSeconds: number;
  settledSeconds: number;
  details: Record<string, unknown>;
  inWindow: Stretch;
  afterWindow: Stretch;
  /** lost tokens of the connections this class aimed at (row-lock: the locked rows; sigstop: the frozen worker's answers) */
  lostOfTargets?: number;
  /** what went wrong in or after the window, in words; empty: nothing */
  violations: string[];
}

function grown(from: Snapshot, to: Snapshot): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, n] of Object.entries(to.anomalies)) {
    const d = n - (from.anomalies[k] ?? 0);
    if (d > 0) out[k] = d;
  }
  return out;
}

function stretch(
  from: Snapshot,
  to: Snapshot,
  tokens: readonly LostToken[],
  webhooks: readonly number[],
  phaseStart: number,
): Stretch {
  const inside = (ms: number) => ms >= from.atMs && ms < to.atMs;
  const lost = tokens.filter(
    (t) => t.sandboxLastRefreshAt !== null && inside(Date.parse(t.sandboxLastRefreshAt) - phaseStart),
  );
  return {
    anomalies: grown(from, to),
    refreshes: to.refreshes - from.refreshes,
    answersLost: to.answersLost - from.answersLost,
    lostTokens: lost.length,
    diedInFlight: lost.filter((t) => t.diedInFlight).length,
    answerLost: lost.filter((t) => t.answerLost).length,
    stalledInFlight: lost.filter((t) => t.stalledInFlight).length,
    lostWebhooks: webhooks.filter((at) => inside(at - phaseStart)).length,
    notConnectedAtEnd: to.notConnected,
  };
}

function words(s: Stretch, where: string): string[] {
  const out: string[] = [];
  if (s.lostTokens > 0)
    out.push(
      `${s.lostTokens} token(s) lost ${where} (${s.diedInFlight - s.stalledInFlight} died in flight with a SIGKILLed worker, ` +
        `${s.answerLost} answered after their client had gone, ${s.stalledInFlight} held unread by a worker stopped past its lease)`,
    );
  for (const k of VIOLATING_ANOMALIES) if (s.anomalies[k]) out.push(`${k} +${s.anomalies[k]} ${where}`);
  if (s.lostWebhooks > 0) out.push(`${s.lostWebhooks} accepted webhook(s) received ${where} never processed`);
  return out;
}

export function classSummaries(a: {
  windows: readonly ClassWindow[];
  lostTokens: readonly LostToken[];
  unprocessedReceivedAt: ReadonlyArray<string | null>;
  /** epoch ms at which the fault phase began */
  phaseStart: number;
}): ClassSummary[] {
  const webhooks = a.unprocessedReceivedAt.flatMap((t) => (t === null ? [] : [Date.parse(t)]));
  return a.windows.map((w) => {
    const inWindow = stretch(w.before, w.after, a.lostTokens, webhooks, a.phaseStart);
    const afterWindow = stretch(w.after, w.settled, a.lostTokens, webhooks, a.phaseStart);
    let lostOfTargets: number | undefined;
    if (w.name === 'row-lock' && Array.isArray(w.details.connectionIds)) {
      const ids = new Set(w.details.connectionIds as string[]);
      lostOfTargets = a.lostTokens.filter((t) => ids.has(t.connectionId)).length;
    }
    if (w.name === 'sigstop' && typeof w.details.agent === 'string')
      lostOfTargets = a.lostTokens.filter((t) => t.sandboxAnswered === w.details.agent).length;
    const violations = [...words(inWindow, 'in the window'), ...words(afterWindow, 'after it')];
    if (lostOfTargets) violations.push(`${lostOfTargets} of the tokens it aimed at were lost`);
    if (typeof w.details.error === 'string') violations.push(`the fault itself failed: ${w.details.error}`);
    return {
      window: w.name,
      cls: w.cls,
      fromSeconds: Number((w.startedAtMs / 1000).toFixed(1)),
      toSeconds: Number((w.endedAtMs / 1000).toFixed(1)),
      settledSeconds: Number((w.settled.atMs / 1000).toFixed(1)),
      details: w.details,
      inWindow,
      afterWindow,
      ...(lostOfTargets !== undefined && { lostOfTargets }),
      violations,
    };
  });
}

/** Lost tokens last rotated outside every window and its gap: the background faults' (SIGKILLs, token errors). */
export function lostOutsideWindows(a: {
  windows: readonly ClassWindow[];
  lostTokens: readonly LostToken[];
  phaseStart: number;
}): LostToken[] {
  return a.lostTokens.filter((t) => {
    if (t.sandboxLastRefreshAt === null) return true;
    const ms = Date.parse(t.sandboxLastRefreshAt) - a.phaseStart;
    return !a.windows.some((w) => ms >= w.before.atMs && ms < w.settled.atMs);
  });
}

/** Lost tokens per 100 SIGKILLs: the tokens that died in flight with a killed worker, per kill. */
export function lostPer100Kills(diedInFlight: number, kills: number): number | null {
  return kills === 0 ? null : Number(((100 * diedInFlight) / kills).toFixed(1));
}
