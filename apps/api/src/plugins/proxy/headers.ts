// Which headers cross the proxy. Going out: content negotiation and conditional requests, plus
// any header the caller names with the `conduit-provider-` prefix (e.g.
// conduit-provider-x-github-api-version) — never the caller's own credentials, cookies or hop-by-hop
// headers; the provider's token is added by the proxy. Coming back: the body's description,
// caching and paging, and every rate-limit header, so the caller can pace itself.
import type { IncomingHttpHeaders } from 'node:http';
import type { HttpHeaders } from '@conduit/providers';

const FORWARDED = new Set([
  'accept',
  'accept-language',
  'content-type',
  'if-match',
  'if-none-match',
  'if-modified-since',
  'if-unmodified-since',
  'prefer',
]);
const PREFIX = 'conduit-provider-';
/** Never sent on, even when named with the prefix. */
const NEVER = new Set([
  'authorization',
  'proxy-authorization',
  'cookie',
  'host',
  'connection',
  'content-length',
  'transfer-encoding',
  'upgrade',
  'te',
  'trailer',
  'keep-alive',
  'x-api-key',
  'forwarded',
  'x-forwarded-for',
  'x-forwarded-host',
]);

export function outgoingHeaders(incoming: IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(incoming)) {
    if (value === undefined) continue;
    const target = name.startsWith(PREFIX)
      ? name.slice(PREFIX.length)
      : FORWARDED.has(name)
        ? name
        : undefined;
    if (target === undefined || target === '' || NEVER.has(target)) continue;
    out[target] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

const RETURNED = new Set([
  'content-type',
  'content-encoding',
  'content-language',
  'cache-control',
  'etag',
  'last-modified',
  'expires',
  'vary',
  'link',
  'location',
  'retry-after',
  'ratelimit',
  'ratelimit-policy',
]);
const RATE_LIMIT = /^(x-)?(rate-?limit|ratelimit)[-_]/i;

export function returnedHeaders(answer: HttpHeaders): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(answer)) {
    if (value === undefined) continue;
    const lower = name.toLowerCase();
    if (RETURNED.has(lower) || RATE_LIMIT.test(lower)) out[lower] = value;
  }
  return out;
}
