// Classify, then act (DESIGN rule 4) for data APIs: an HTTP answer → ApiOutcome. Pure. Which
// answers are rate limits and where the wait is written come from the catalogue entry.
import type { ApiOutcome, ParseResult, ProviderSpec } from '@conduit/core';
import { headerValue } from '../http-headers.ts';
import type { HttpHeaders } from '../http-headers.ts';
import { isRecord, parseJson } from '../json.ts';
import { isRateLimited, rateLimitWaitMs } from '../rate-limit.ts';

export interface ApiClassifyContext {
  now: Date;
  /** wait reported for a rate limit that gave no usable hint */
  rateLimitDefaultWaitMs: number;
  /** names the request in details, e.g. "GET https://api.fathom.ai/external/v1/meetings" */
  where: string;
}

type ApiSpec = Pick<ProviderSpec, 'rateLimit'>;

export function classifyApiResponse<T>(
  spec: ApiSpec,
  status: number,
  headers: HttpHeaders,
  text: string,
  parse: (body: unknown) => ParseResult<T>,
  ctx: ApiClassifyContext,
): ApiOutcome<T> {
  const body = parseJson(text);
  if (isRateLimited(status, headers, body, spec.rateLimit)) {
    const waitMs = rateLimitWaitMs({
      signals: spec.rateLimit.signals,
      headers,
      body,
      now: ctx.now,
      defaultMs: ctx.rateLimitDefaultWaitMs,
    });
    return { kind: 'rate_limited', waitMs, status };
  }
  if (status >= 200 && status < 300) {
    if (body === undefined) {
      return transient(status, `${ctx.where} answered HTTP ${status} without a JSON body`);
    }
    const parsed = parse(body);
    if (parsed.ok) return { kind: 'ok', value: parsed.value };
    return transient(
      status,
      `${ctx.where} answered HTTP ${status} with an unexpected body (${parsed.problem})`,
    );
  }
  const reason = errorReason(headers, body);
  const detail = `${ctx.where} answered HTTP ${status}${reason ? `: ${reason}` : ''}`;
  if (status === 401) return { kind: 'unauthorized', detail };
  if (status === 404) return { kind: 'not_found', detail };
  if (status >= 500 || status === 408) return transient(status, detail);
  return { kind: 'rejected', status, detail };
}

function transient(status: number, detail: string): ApiOutcome<never> {
  return { kind: 'transient', cause: 'server_error', status, detail };
}

/** A short, printable reason from the usual places; never more than 200 characters. */
function errorReason(headers: HttpHeaders, body: unknown): string | undefined {
  const fromHeader = /error_description="([^"]*)"/.exec(headerValue(headers, 'www-authenticate') ?? '')?.[1];
  let fromBody: unknown;
  if (isRecord(body)) {
    fromBody = body.error_description ?? body.message ?? body.error;
    if (isRecord(fromBody)) fromBody = fromBody.message;
  }
  const reason = typeof fromBody === 'string' && fromBody !== '' ? fromBody : fromHeader;
  return reason === undefined ? undefined : reason.replace(/[^\x20-\x7e]/g, '?').slice(0, 200);
}
