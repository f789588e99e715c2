// Security headers on every answer (@fastify/helmet), HTML pages above all. The default CSP is
// the one Bull Board's UI works under — its scripts, styles and API calls are same-origin; it
// sets <base href> and inline style attributes — with framing forbidden, so its buttons cannot be
// clickjacked. No external origin at all: Bull Board's Google Fonts link is removed from its page
// (plugins/admin/bull-board.ts) and would be refused here, so the board works offline. Pages with a stricter policy of their own (the health page,
// the OAuth popup) send it themselves, and it replaces this one.
import helmet from '@fastify/helmet';
import type { FastifyInstance } from 'fastify';

export const DEFAULT_CSP_DIRECTIVES = {
  'default-src': ["'self'"],
  'base-uri': ["'self'"],
  'script-src': ["'self'"],
  'style-src': ["'self'", "'unsafe-inline'"],
  'font-src': ["'self'", 'data:'],
  'img-src': ["'self'", 'data:'],
  'connect-src': ["'self'"],
  'object-src': ["'none'"],
  'form-action': ["'self'"],
  'frame-ancestors': ["'none'"],
};

export async function registerSecurityHeaders(app: FastifyInstance, opts: { production: boolean }) {
  await app.register(helmet, {
    contentSecurityPolicy: { useDefaults: false, directives: DEFAULT_CSP_DIRECTIVES },
    // Browsers ignore HSTS over plain http; in production it pins https.
    strictTransportSecurity: opts.production ? { maxAge: 15_552_000, includeSubDomains: true } : false,
    referrerPolicy: { policy: 'no-referrer' },
  });
}
