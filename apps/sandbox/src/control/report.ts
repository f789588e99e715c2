// GET /_sandbox/report: anomalies per provider, and (with ?grants=1) every grant's valid
// refresh token and last refresh, so a checker can compare the sandbox with Conduit's database.
import { PROVIDER_KEYS, type ProviderKey } from '@conduit/core';
import type { FastifyInstance } from 'fastify';
import type { SandboxState } from '../state.ts';
import { compactGrant } from './views.ts';

interface ReportQuery {
  grants?: '1' | '0' | 'true' | 'false';
  provider?: ProviderKey;
  offset?: number;
  limit?: number;
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
          },
        },
      },
    },
    async (req) => {
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
      return report;
    },
  );
}
