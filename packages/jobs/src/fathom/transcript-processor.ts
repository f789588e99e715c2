// The transcripts job: fetch one recording's transcript and summary and store them with its
// meeting. "Not ready yet" (404) comes back later on a backoff schedule; budget and rate-limit
// waits park the job without using an attempt. A webhook may arrive before any sync stored the
// meeting: then the meeting is stored from the delivery's payload first.
import { DelayedError, type Job } from 'bullmq';
import type { Logger } from 'pino';
import { parseFathomMeeting } from '@conduit/core';
import type {
  ConnectionRepository,
  ConnectionRow,
  MeetingRepository,
  WebhookDeliveryRepository,
} from '@conduit/db';
import type { TranscriptJobData } from '../queues.ts';
import type { FathomApi } from './api.ts';
import type { ApiCaller, CallResult } from './api-caller.ts';
import { meetingRow } from './meeting-row.ts';

export interface TranscriptDeps {
  api: FathomApi;
  caller: ApiCaller;
  connections: ConnectionRepository;
  meetings: MeetingRepository;
  deliveries: WebhookDeliveryRepository;
  logger: Logger;
  now?: () => Date;
}

export interface TranscriptSettings {
  /** waits between "not ready yet" answers; after the last one the fetch gives up */
  notReadyDelaysMs: readonly number[];
}

export type TranscriptOutcome =
  'stored' | 'already_stored' | 'no_meeting' | 'gave_up' | 'stopped' | 'rejected';

type TranscriptJob = Job<TranscriptJobData & { notReady?: number }>;

/** About 5 hours in all: Fathom usually has a transcript within minutes of the recording ending. */
export const DEFAULT_NOT_READY_DELAYS_MS = [
  30_000, 60_000, 120_000, 300_000, 600_000, 1_800_000, 3_600_000, 3_600_000, 7_200_000,
];

export function createTranscriptProcessor(deps: TranscriptDeps, settings: TranscriptSettings) {
  const now = () => deps.now?.() ?? new Date();

  return async function processTranscript(job: TranscriptJob, token?: string): Promise<TranscriptOutcome> {
    const { connectionId, recordingId } = job.data;
    const conn = await deps.connections.findById(connectionId);
    if (!conn) return 'no_meeting';
    const meeting = await findOrStoreMeeting(conn, recordingId);
    if (!meeting) {
      deps.logger.warn(
        { connectionId, recordingId },
        'transcript: no meeting and no delivery to store it from',
      );
      return 'no_meeting';
    }
    if (meeting.transcript) {
      await deps.deliveries.markProcessed(connectionId, recordingId, now());
      return 'already_stored';
    }

    const transcript = await deps.caller.call(conn, (t) => deps.api.getTranscript(t, recordingId));
    if (transcript.kind !== 'ok') return settle(job, token, transcript);
    const summary = await deps.caller.call(conn, (t) => deps.api.getSummary(t, recordingId));
    if (summary.kind !== 'ok') return settle(job, token, summary);

    const stored = await deps.meetings.storeTranscript(
      meeting.id,
      {
        language: meeting.transcriptLanguage,
        segments: transcript.value,
        summaryTemplate: summary.value?.template_name ?? null,
        summaryMarkdown: summary.value?.markdown_formatted ?? null,
      },
      now(),
    );
    await deps.deliveries.markProcessed(connectionId, recordingId, now());
    deps.logger.info({ connectionId, recordingId, lines: transcript.value.length }, 'transcript: stored');
    return stored ? 'stored' : 'already_stored';
  };

  async function findOrStoreMeeting(conn: ConnectionRow, recordingId: number) {
    const known = await deps.meetings.find(conn.id, recordingId);
    if (known) return known;
    const delivery = await deps.deliveries.latestForRecording(conn.id, recordingId);
    if (!delivery) return null;
    const parsed = parseFathomMeeting(delivery.payload);
    if (!parsed.ok) return null;
    await deps.meetings.upsert(conn.id, [meetingRow(parsed.value)]);
    return deps.meetings.find(conn.id, recordingId);
  }

  /** Anything but `ok`: wait, come back later, or stop for good. */
  async function settle(
    job: TranscriptJob,
    token: string | undefined,
    result: Exclude<CallResult<unknown>, { kind: 'ok' }>,
  ): Promise<TranscriptOutcome> {
    const { connectionId, recordingId } = job.data;
    switch (result.kind) {
      case 'wait':
        await job.moveToDelayed(Date.now() + result.delayMs, token);
        throw new DelayedError();
      case 'not_found': {
        const tries = job.data.notReady ?? 0;
        const delay = settings.notReadyDelaysMs[tries];
        if (delay === undefined) {
          await deps.deliveries.markFailed(
            connectionId,
            recordingId,
            `no transcript after ${tries} tries: ${result.detail}`,
          );
          return 'gave_up';
        }
        await job.updateData({ ...job.data, notReady: tries + 1 });
        await job.moveToDelayed(Date.now() + delay, token);
        throw new DelayedError();
      }
      case 'transient':
        throw new Error(result.detail);
      case 'stopped':
        await deps.deliveries.markFailed(connectionId, recordingId, `${result.why}: ${result.detail}`);
        return 'stopped';
      case 'rejected':
        await deps.deliveries.markFailed(connectionId, recordingId, result.detail);
        return 'rejected';
    }
  }
}
