// The sync-fathom job: one user's meetings, from the stored cursor, page by page. One sync per
// user at a time (lock `user:<ownerId>`; a second one waits without using an attempt). Each page
// is stored with the cursor that follows it in one transaction; a budget or rate-limit wait
// parks the job (moveToDelayed) and it resumes the same SyncRun from the cursor.
import { DelayedError, type Job } from 'bullmq';
import type { Logger } from 'pino';
import { fathomIdentityFromMeetings } from '@conduit/core';
import type {
  ConnectionRepository,
  ConnectionRow,
  MeetingRepository,
  SyncRepository,
  WebhookDeliveryRepository,
} from '@conduit/db';
import type { HeldLock, RedisLocks } from '../lock.ts';
import type { Queues, SyncJobData } from '../queues.ts';
import { enqueueTranscripts } from '../sync-lanes.ts';
import type { FathomApi } from './api.ts';
import type { ApiCaller, CallResult } from './api-caller.ts';
import { meetingRow } from './meeting-row.ts';
import { afterPage, decodeCursor, encodeCursor, startPass, type Pass } from './sync-cursor.ts';

export const MEETINGS_RESOURCE = 'meetings';

export interface SyncDeps {
  api: FathomApi;
  caller: ApiCaller;
  connections: ConnectionRepository;
  sync: SyncRepository;
  meetings: MeetingRepository;
  /** to settle deliveries whose transcript is stored but that were never marked processed */
  deliveries: WebhookDeliveryRepository;
  locks: RedisLocks;
  queues: Queues;
  logger: Logger;
  hashOwner: (ownerId: string) => string;
  /** meetings stored per page, for metrics */
  onItems?: (count: number) => void;
  now?: () => Date;
}

export interface SyncSettings {
  /** each incremental pass re-reads this far behind the watermark */
  overlapMs: number;
  /** lifetime of the per-user lock; renewed after every page */
  lockTtlMs: number;
  /** how long a sync whose user is busy waits before it looks again */
  lockRetryDelayMs: number;
}

export interface SyncReport {
  outcome: 'succeeded' | 'partial' | 'failed' | 'skipped';
  runId?: string;
  pages?: number;
  itemsSeen?: number;
  itemsStored?: number;
  detail?: string;
}

type SyncJob = Job<SyncJobData & { runId?: string }>;

type PassEnd =
  | { kind: 'done'; outcome: 'succeeded' | 'partial'; note: string | null }
  | { kind: 'failed'; error: string }
  | { kind: 'wait'; delayMs: number; why: string };

export function userLockName(ownerId: string): string {
  return `user:${ownerId}`;
}

const SYNCABLE = new Set<ConnectionRow['status']>(['connected', 'token_expired']);

export function createSyncProcessor(deps: SyncDeps, settings: SyncSettings) {
  const now = () => deps.now?.() ?? new Date();

  return async function processSync(job: SyncJob, token?: string): Promise<SyncReport> {
    const conn = await deps.connections.findById(job.data.connectionId);
    if (!conn) return { outcome: 'skipped', detail: 'the connection no longer exists' };
    if (!SYNCABLE.has(conn.status)) {
      const detail = `the connection is ${conn.status}`;
      // A run this job began before waiting ends here.
      if (job.data.runId !== undefined) {
        const run = await deps.sync.findRun(job.data.runId);
        if (run?.outcome === 'running')
          await deps.sync.finishRun(run, { outcome: 'failed', error: detail }, now());
      }
      return { outcome: 'skipped', detail };
    }

    const lock = await deps.locks.acquire(userLockName(conn.ownerId), settings.lockTtlMs);
    if (!lock) {
      await job.moveToDelayed(Date.now() + settings.lockRetryDelayMs, token);
      throw new DelayedError();
    }
    let runId: string | undefined;
    let end: PassEnd;
    try {
      runId = await currentRun(job, conn.id);
      await deps.sync.closeAbandonedRuns(conn.id, MEETINGS_RESOURCE, runId, now());
      end = await runPass(conn, runId, job.data, lock);
      if (end.kind !== 'wait') {
        const result =
          end.kind === 'done'
            ? { outcome: end.outcome, error: end.note }
            : { outcome: 'failed' as const, error: end.error };
        await deps.sync.finishRun({ id: runId, connectionId: conn.id }, result, now());
      }
    } catch (err) {
      // Not a classified outcome (Postgres down, a bug) or a transient API failure: BullMQ retries
      // with backoff, resuming this run; the last attempt closes it as failed.
      const final = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
      if (runId !== undefined && final) {
        const error = err instanceof Error ? err.message : String(err);
        await deps.sync
          .finishRun({ id: runId, connectionId: conn.id }, { outcome: 'failed', error }, now())
          .catch(() => undefined);
      }
      throw err;
    } finally {
      await deps.locks.release(lock);
    }

    if (end.kind === 'wait') {
      deps.logger.info(
        { connectionId: conn.id, owner: deps.hashOwner(conn.ownerId), delayMs: end.delayMs, why: end.why },
        'sync: waiting',
      );
      await job.moveToDelayed(Date.now() + end.delayMs, token);
      throw new DelayedError();
    }
    const run = await deps.sync.findRun(runId);
    const report: SyncReport = {
      outcome: end.kind === 'done' ? end.outcome : 'failed',
      runId,
      pages: run?.pages ?? 0,
      itemsSeen: run?.itemsSeen ?? 0,
      itemsStored: run?.itemsStored ?? 0,
      ...(end.kind === 'failed' && { detail: end.error }),
    };
    deps.logger[end.kind === 'failed' ? 'warn' : 'info'](
      { connectionId: conn.id, owner: deps.hashOwner(conn.ownerId), mode: job.data.mode, ...report },
      'sync: finished',
    );
    return report;
  };

  /** The run this job started earlier (it waited, or an attempt failed), or a new one. */
  async function currentRun(job: SyncJob, connectionId: string): Promise<string> {
    if (job.data.runId !== undefined) {
      const run = await deps.sync.findRun(job.data.runId);
      if (run?.outcome === 'running') return run.id;
    }
    const runId = await deps.sync.startRun(connectionId, MEETINGS_RESOURCE, job.data.mode, now());
    await job.updateData({ ...job.data, runId });
    return runId;
  }

  async function runPass(
    conn: ConnectionRow,
    runId: string,
    data: SyncJobData,
    lock: HeldLock,
  ): Promise<PassEnd> {
    let cursor = decodeCursor(await deps.sync.readCursor(conn.id, MEETINGS_RESOURCE));
    let pass: Pass = startPass(cursor, data.mode, settings.overlapMs);
    let seen = (await deps.sync.findRun(runId))?.itemsSeen ?? 0;
    let knownEmail = conn.externalEmail;
    let restarted = false;
    for (;;) {
      const listed = await deps.caller.call(conn, (accessToken) =>
        deps.api.listMeetings(accessToken, {
          createdAfter: pass.createdAfter === null ? undefined : new Date(pass.createdAfter),
          cursor: pass.cursor,
        }),
      );
      if (listed.kind !== 'ok') {
        if (
          (listed.kind === 'rejected' || listed.kind === 'not_found') &&
          pass.cursor !== undefined &&
          !restarted
        ) {
          // The provider no longer accepts the stored page cursor: redo this pass from its start.
          restarted = true;
          pass = { ...pass, cursor: undefined };
          continue;
        }
        return notListed(listed);
      }
      const page = listed.value;
      const next = afterPage(cursor, pass, page.items, page.next_cursor);
      await deps.sync.storeMeetingsPage(
        {
          connectionId: conn.id,
          resource: MEETINGS_RESOURCE,
          runId,
          meetings: page.items.map(meetingRow),
          cursor: encodeCursor(next),
        },
        now(),
      );
      cursor = next;
      deps.onItems?.(page.items.length);
      const recordings = page.items.map((m) => m.recording_id);
      await enqueueTranscripts(
        deps.queues,
        conn.id,
        await deps.meetings.withoutTranscript(conn.id, recordings),
      );
      if (knownEmail === null) {
        const who = fathomIdentityFromMeetings(page.items);
        if (who?.email) await deps.sync.noteExternalEmail(conn.id, (knownEmail = who.email));
      }
      seen += page.items.length;

      if (next.pass === null) {
        // Catches up on fetches lost between a stored page and its enqueue (a crash in between),
        // and on deliveries whose fetch died after storing the transcript.
        await enqueueTranscripts(deps.queues, conn.id, await deps.meetings.withoutTranscript(conn.id));
        const settled = await deps.deliveries.settleWhereTranscriptStored(conn.id, now());
        if (settled > 0) {
          deps.logger.info(
            { connectionId: conn.id, deliveries: settled },
            'sync: settled deliveries already done',
          );
        }
        return { kind: 'done', outcome: 'succeeded', note: null };
      }
      if (data.limit !== undefined && seen >= data.limit) {
        const note = `stopped after ${seen} meetings as asked (limit ${data.limit}); the next sync continues from there`;
        return { kind: 'done', outcome: 'partial', note };
      }
      pass = next.pass;
      if (!(await deps.locks.extend(lock, settings.lockTtlMs))) {
        return { kind: 'wait', delayMs: settings.lockRetryDelayMs, why: 'the per-user lock lapsed' };
      }
    }
  }
}

function notListed(result: Exclude<CallResult<unknown>, { kind: 'ok' }>): PassEnd {
  switch (result.kind) {
    case 'wait':
      return { kind: 'wait', delayMs: result.delayMs, why: result.why };
    case 'transient':
      throw new Error(result.detail);
    case 'stopped':
      return { kind: 'failed', error: `${result.why}: ${result.detail}` };
    case 'not_found':
    case 'rejected':
      return { kind: 'failed', error: result.detail };
  }
}
