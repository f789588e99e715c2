// Bull Board over every Conduit queue, twice: writable at /admin/queues for admins, read-only
// (no retry, clean or promote buttons; its API refuses writes) at /admin/queues/view for viewers.
// Bull Board's read-only mode is fixed per board, so one board cannot serve both roles.
// Its page is edited on the way out: the Google Fonts link is dropped (the board must work
// offline, and the CSP allows no external origin; the UI falls back to the system font), and a
// visible link back to the health page is added (its own "misc links" hide in a menu).
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import type { Queue } from 'bullmq';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
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

const FONT_LINKS = /<link[^>]*fonts\.(googleapis|gstatic)\.com[^>]*>\s*/g;
export const HEALTH_LINK =
  '<a id="conduit-health-link" href="/admin/health" style="position:fixed;right:1rem;bottom:1rem;z-index:2000;' +
  'padding:.4rem .8rem;border-radius:6px;background:#1f6feb;color:#fff;font:14px system-ui,sans-serif;' +
  'text-decoration:none;box-shadow:0 2px 8px rgba(0,0,0,.35)">Connection health</a>';

async function editBoardPage(_req: FastifyRequest, reply: FastifyReply, payload: unknown) {
  if (typeof payload !== 'string') return payload;
  if (!String(reply.getHeader('content-type') ?? '').startsWith('text/html')) return payload;
  return payload.replace(FONT_LINKS, '').replace('</body>', `${HEALTH_LINK}</body>`);
}

export async function bullBoardPlugin(app: FastifyInstance, opts: { queues: readonly Queue[] }) {
  await app.register(async (scope) => {
    scope.addHook('onSend', editBoardPage);
    await scope.register(board(opts.queues, BOARD_PATH, false).registerPlugin(), { prefix: BOARD_PATH });
    await scope.register(board(opts.queues, VIEWER_BOARD_PATH, true).registerPlugin(), {
      prefix: VIEWER_BOARD_PATH,
    });
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
