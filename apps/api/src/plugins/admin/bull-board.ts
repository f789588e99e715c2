// Bull Board over every Conduit queue, twice: writable at /admin/queues for admins, read-only
// (no retry, clean or promote buttons; its API refuses writes) at /admin/queues/view for viewers.
// Bull Board's read-only mode is fixed per board, so one board cannot serve both roles.
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import type { Queue } from 'bullmq';
import type { FastifyInstance } from 'fastify';
import { QUEUE_DESCRIPTIONS } from '@conduit/jobs';

export const BOARD_PATH = '/admin/queues';
export const VIEWER_BOARD_PATH = '/admin/queues/view';

function board(queues: readonly Queue[], basePath: string, readOnly: boolean): FastifyAdapter {
  const serverAdapter = new FastifyAdapter();
  serverAdapter.setBasePath(basePath);
  createBullBoard({
    queues: queues.map(
      (q) =>
        new BullMQAdapter(q, {
          readOnlyMode: readOnly,
          allowRetries: !readOnly,
          description: QUEUE_DESCRIPTIONS[q.name] ?? '',
        }),
    ),
    serverAdapter,
    options: {
      uiConfig: {
        boardTitle: readOnly ? 'Conduit (read-only)' : 'Conduit',
        hideDocsLink: true,
        miscLinks: [{ text: 'Connection health', url: '/admin/health' }],
      },
    },
  });
  return serverAdapter;
}

export async function bullBoardPlugin(app: FastifyInstance, opts: { queues: readonly Queue[] }) {
  await app.register(board(opts.queues, BOARD_PATH, false).registerPlugin(), { prefix: BOARD_PATH });
  await app.register(board(opts.queues, VIEWER_BOARD_PATH, true).registerPlugin(), {
    prefix: VIEWER_BOARD_PATH,
  });
}

/**
 * Where a viewer asking for a page of the admin board is sent instead: the same page on the
 * read-only board. API and static paths are left alone (reads are harmless, writes get 403).
 */
export function viewerBoardPath(path: string): string | null {
  if (path !== BOARD_PATH && !path.startsWith(`${BOARD_PATH}/`)) return null;
  const rest = path.slice(BOARD_PATH.length);
  if (
    rest === '/view' ||
    rest.startsWith('/view/') ||
    rest.startsWith('/api/') ||
    rest.startsWith('/static/')
  )
    return null;
  return VIEWER_BOARD_PATH + (rest === '' ? '/' : rest);
}
