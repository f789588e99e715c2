// Following a queued sync until it ends: the job's state from BullMQ, its progress from the run
// row it writes after every page (SyncRun: pages, meetings seen and stored). A bar on a
// terminal; on a pipe, a line on stderr whenever the counts move. The final sentence is the
// command's result, on stdout. Ctrl-C stops following, not the sync.
import { SingleBar } from 'cli-progress';
import type { AppContext } from '@conduit/runtime';
import { syncLaneOf } from '@conduit/jobs';
import type { ProviderKey } from '@conduit/core';
import { EXIT } from '../errors.ts';
import type { Output } from '../output.ts';

interface RunCounts {
  pages: number;
  itemsSeen: number;
  itemsStored: number;
  outcome: string;
  error: string | null;
}

export interface FollowOptions {
  pollMs: number;
  /** the meetings limit, if any: the bar's total */
  limit?: number | undefined;
  /** a note is printed once when no worker has picked the job up after this long */
  idleNoteMs?: number;
}

export async function followSync(
  ctx: Pick<AppContext, 'db' | 'queues'>,
  out: Output,
  provider: ProviderKey,
  jobId: string,
  connectionId: string,
  opts: FollowOptions,
): Promise<number> {
  const queue = ctx.queues.get(syncLaneOf(provider)!);
  const started = Date.now();
  const bar = out.tty
    ? new SingleBar({
        stream: out.tty,
        format: `sync [{bar}] {value}${opts.limit ? '/{total}' : ''} meetings seen | {stored} new | {pages} pages | {state}`,
        hideCursor: true,
        clearOnComplete: false,
        barsize: 24,
      })
    : undefined;
  bar?.start(opts.limit ?? 1, 0, { stored: 0, pages: 0, state: 'waiting' });
  let last = '';
  let noted = false;
  let interrupted = false;
  const onSigint = () => {
    interrupted = true;
  };
  process.once('SIGINT', onSigint);
  try {
    for (;;) {
      const job = await queue.getJob(jobId);
      const state = job ? await job.getState() : 'gone';
      const runId = (job?.data as { runId?: string } | undefined)?.runId;
      const run: RunCounts | null = runId
        ? await ctx.db.syncRun.findUnique({
            where: { id: runId },
            select: { pages: true, itemsSeen: true, itemsStored: true, outcome: true, error: true },
          })
        : null;
      const counts = run ?? { pages: 0, itemsSeen: 0, itemsStored: 0, outcome: 'running', error: null };
      if (bar) {
        if (!opts.limit) bar.setTotal(Math.max(1, counts.itemsSeen));
        bar.update(counts.itemsSeen, { stored: counts.itemsStored, pages: counts.pages, state });
      } else {
        const line = `sync: ${state}, ${counts.pages} pages, ${counts.itemsSeen} meetings seen, ${counts.itemsStored} new`;
        if (line !== last) out.note(line);
        last = line;
      }
      if (state === 'completed' || state === 'failed' || state === 'gone') {
        bar?.stop();
        return finish(
          out,
          jobId,
          connectionId,
          state,
          job?.returnvalue as Report | undefined,
          counts,
          job?.failedReason,
        );
      }
      if (!noted && state === 'waiting' && Date.now() - started > (opts.idleNoteMs ?? 10_000)) {
        noted = true;
        bar?.stop();
        out.note(`No worker has picked up job ${jobId} yet; is apps/worker running (npm start)?`);
        bar?.start(opts.limit ?? 1, counts.itemsSeen, {
          stored: counts.itemsStored,
          pages: counts.pages,
          state,
        });
      }
      if (interrupted) {
        bar?.stop();
        out.line(`Stopped following; sync job ${jobId} of connection ${connectionId} goes on (${state}).`);
        return EXIT.ok;
      }
      await new Promise((r) => setTimeout(r, opts.pollMs));
    }
  } finally {
    process.off('SIGINT', onSigint);
  }
}

interface Report {
  outcome?: string;
  pages?: number;
  itemsSeen?: number;
  itemsStored?: number;
  detail?: string;
}

function finish(
  out: Output,
  jobId: string,
  connectionId: string,
  state: string,
  report: Report | undefined,
  counts: RunCounts,
  failedReason: string | undefined,
): number {
  if (state === 'gone') {
    out.line(
      `Sync job ${jobId} of connection ${connectionId} is no longer in the queue (removed or cleaned).`,
    );
    return EXIT.failure;
  }
  if (state === 'failed') {
    out.line(
      `Sync job ${jobId} of connection ${connectionId} failed: ${failedReason ?? counts.error ?? 'no reason given'}.`,
    );
    return EXIT.failure;
  }
  const outcome = report?.outcome ?? counts.outcome;
  const pages = report?.pages ?? counts.pages;
  const seen = report?.itemsSeen ?? counts.itemsSeen;
  const stored = report?.itemsStored ?? counts.itemsStored;
  const detail = report?.detail ? ` (${report.detail})` : '';
  out.line(
    `Sync job ${jobId} of connection ${connectionId} ${outcome}${detail}: ${pages} page${pages === 1 ? '' : 's'}, ${seen} meetings seen, ${stored} new.`,
  );
  return outcome === 'failed' ? EXIT.failure : EXIT.ok;
}
