// GET / on the api: a small page of links for a person who opens the api's address in a browser.
// Clients that do not ask for HTML get the same problem+json 404 as any other unknown path.
import type { FastifyInstance } from 'fastify';

export const LANDING_CSP =
  "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const LINKS: ReadonlyArray<[href: string, label: string, what: string]> = [
  [
    '/admin/health',
    'Connection health',
    'every connection, token and sync; who must reconnect (operator sign-in)',
  ],
  ['/admin/queues', 'Queues', 'Bull Board: jobs per queue, retry and clean (operator sign-in)'],
  ['/docs', 'API documentation', 'the OpenAPI document of /v1 (JSON at /docs/json)'],
  ['/metrics', 'Metrics', 'Prometheus exposition'],
  ['/readyz', 'Readiness', 'Postgres, Redis and migrations'],
];

const PAGE = `<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>Conduit</title>
<style>body{margin:0;font:16px/1.5 system-ui,sans-serif;background:#0f1318;color:#e8ecf1}
@media (prefers-color-scheme: light){body{background:#f6f7f9;color:#16191d}}
main{max-width:40rem;margin:0 auto;padding:2rem 1rem}a{color:#7cb8ff;font-weight:600}
li{margin:.5rem 0}span{color:#97a3b3}</style></head>
<body><main><h1>Conduit</h1><p>OAuth connections kept alive, in the background.</p><ul>
${LINKS.map(([href, label, what]) => `<li><a href="${href}">${label}</a> <span>— ${what}</span></li>`).join('\n')}
</ul></main></body></html>`;

export async function landingPlugin(app: FastifyInstance) {
  app.get('/', async (req, reply) => {
    if (!(req.headers.accept ?? '').includes('text/html')) return reply.callNotFound();
    return reply.header('content-security-policy', LANDING_CSP).type('text/html; charset=utf-8').send(PAGE);
  });
}
