// GET /_sandbox/report: anomalies per provider, and (with ?grants=1) every grant's valid
// refresh token and last refresh, so a checker can compare the sandbox with Conduit's database.
// A browser (Accept: text/html, no ?format=json) gets the same report as a readable page.
import { PROVIDER_KEYS, type ProviderKey } from '@conduit/core';
import type { FastifyInstance } from 'fastify';
import type { SandboxState } from '../state.ts';
import { REPORT_PAGE_CSP, renderReportPage } from './report-page.ts';
import { compactGrant } from './views.ts';

interface ReportQuery {
  grants?: '1' | '0' | 'true' | 'false';
  provider?: ProviderKey;
  offset?: number;
  limit?: number;
  format?: 'json' | 'html';
}

export function registerReportRoute(app: FastifyInstance, sb: SandboxState): void {
  app.get<{ Querystring: ReportQuery }>(
    '/report',
    {
      schema: {
        querystring: {
          type: 'object',
          properties: {
            grants: { type: 'string', enum: ['1', '0', 'true', 'false'] },
            provider: { type: 'string', enum: [...PROVIDER_KEYS] },
            offset: { type: 'integer', minimum: 0 },
            limit: { type: 'integer', minimum: 1 },
            format: { type: 'string', enum: ['json', 'html'] },
          },
        },
      },
    },
    async (req, reply) => {
      const { anomalies, providers } = sb.log.snapshot();
      const report: Record<string, unknown> = {
        generatedAt: new Date().toISOString(),
        seed: sb.seed,
        uptimeSeconds: Math.round((Date.now() - sb.startedAt) / 1000),
        anomalies,
        providers,
      };
      if (req.query.grants === '1' || req.query.grants === 'true') {
        const { provider, offset = 0, limit = Infinity } = req.query;
        const all = [...sb.grants.byId.values()].filter(
          (g) => provider === undefined || g.provider === provider,
        );
        report.grants = {
          total: all.length,
          offset,
          items: all.slice(offset, offset + limit).map(compactGrant),
        };
      }
      const wantsHtml =
        req.query.format === 'html' ||
        (req.query.format === undefined && (req.headers.accept ?? '').includes('text/html'));
      if (wantsHtml && report.grants === undefined) {
        return reply
          .header('content-security-policy', REPORT_PAGE_CSP)
          .type('text/html; charset=utf-8')
          .send(renderReportPage(report as unknown as Parameters<typeof renderReportPage>[0]));
      }
      return report;
    },
  );
}
