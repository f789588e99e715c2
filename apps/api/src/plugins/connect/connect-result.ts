// How the callback answers: a 302 to the app's `returnTo` when it gave one; else a small page
// that posts `{type: 'conduit:connect', …}` to the window that opened the popup (only to
// CONDUIT_APP_ORIGIN) and closes itself; or JSON / problem details for a client that asks for JSON.
import { randomBytes } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { sendProblem } from '../../problem.ts';
import { returnToWith } from './return-to.ts';

export interface ConnectResult {
  status: 'connected' | 'denied' | 'error';
  provider: string;
  connectionId?: string;
  /** a short code: access_denied, invalid_state, exchange_failed, … */
  error?: string;
  /** for people: what happened and what to do */
  detail?: string;
  httpStatus: number;
  /** only from a valid state: a refused state cannot be trusted to say where to go */
  returnTo?: string | null;
}

const TYPE_BASE = 'https://conduit.dev/problems/';

export function sendConnectResult(
  req: FastifyRequest,
  reply: FastifyReply,
  result: ConnectResult,
  appOrigin: string,
): FastifyReply {
  reply.header('cache-control', 'no-store').header('referrer-policy', 'no-referrer');
  if (result.returnTo) {
    return reply.redirect(
      returnToWith(result.returnTo, {
        conduit_status: result.status,
        connection_id: result.connectionId,
        conduit_error: result.error,
      }),
      302,
    );
  }
  if (wantsJson(req)) {
    if (result.status === 'error') {
      return sendProblem(reply, {
        type: TYPE_BASE + (result.error ?? 'connect-failed').replace(/_/g, '-'),
        title: titleOf(result),
        status: result.httpStatus,
        ...(result.detail && { detail: result.detail }),
        instance: req.url.split('?')[0],
      });
    }
    return reply.code(result.httpStatus).send(message(result));
  }
  const nonce = randomBytes(16).toString('base64');
  return reply
    .code(result.httpStatus)
    .type('text/html; charset=utf-8')
    .header(
      'content-security-policy',
      `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`,
    )
    .header('x-content-type-options', 'nosniff')
    .send(page(result, appOrigin, nonce));
}

export function message(result: ConnectResult): Record<string, string> {
  return {
    type: 'conduit:connect',
    status: result.status,
    provider: result.provider,
    ...(result.connectionId && { connectionId: result.connectionId }),
    ...(result.error && { error: result.error }),
  };
}

function titleOf(result: ConnectResult): string {
  switch (result.status) {
    case 'connected':
      return 'Connected';
    case 'denied':
      return 'Access was not granted';
    case 'error':
      return 'The connection could not be made';
  }
}

function wantsJson(req: FastifyRequest): boolean {
  const accept = req.headers.accept ?? '';
  return /application\/(problem\+)?json/.test(accept) && !accept.includes('text/html');
}

function page(result: ConnectResult, appOrigin: string, nonce: string): string {
  const title = escapeHtml(titleOf(result));
  const detail = result.detail ? `<p>${escapeHtml(result.detail)}</p>` : '';
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${title}</title>
<style>body{font-family:system-ui,sans-serif;margin:3rem auto;max-width:32rem;padding:0 1rem;color:#222}</style></head>
<body><h1>${title}</h1>${detail}<p>You can close this window.</p>
<script nonce="${nonce}">
(function () {
  var message = ${scriptJson(message(result))};
  try { if (window.opener) window.opener.postMessage(message, ${scriptJson(appOrigin)}); }
  finally { window.close(); }
})();
</script>
</body>
</html>
`;
}

/** JSON that is safe inside a <script> element. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
