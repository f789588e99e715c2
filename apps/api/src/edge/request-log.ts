// One log line per HTTP request, at info, when the answer has gone: method, URL, status and time.
// Fastify's own request logging (a line in, a line out, with the whole request object) is off
// (a LogController with disableRequestLogging, in server.ts), so an idle stack polled by probes
// and a browser does not flood the terminal. Query values that may carry a secret or a one-time
// code are replaced by `…`.
import type { FastifyInstance } from 'fastify';

const SECRET_KEY = /token|code|state|secret|key|password|signature|sig|auth|session/i;

/** `/cb?code=abc&state=x&page=2` → `/cb?code=…&state=…&page=2` */
export function loggableUrl(url: string): string {
  const q = url.indexOf('?');
  if (q < 0) return url;
  const params = new URLSearchParams(url.slice(q + 1));
  const kept = [...params].map(([k, v]): [string, string] => [k, SECRET_KEY.test(k) ? '…' : v]);
  return `${url.slice(0, q)}?${new URLSearchParams(kept).toString()}`;
}

export function registerRequestLog(app: FastifyInstance): void {
  app.addHook('onResponse', async (req, reply) => {
    req.log.info(
      {
        method: req.method,
        url: loggableUrl(req.url),
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime * 10) / 10,
      },
      `${req.method} ${loggableUrl(req.url)} ${reply.statusCode}`,
    );
  });
}
