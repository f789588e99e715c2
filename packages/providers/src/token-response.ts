// Classify, then act (DESIGN rule 4): a token endpoint's HTTP answer → TokenEndpointOutcome.
// Pure: no I/O, no clock of its own. Provider quirks come from the catalogue entry.
import type { ProviderSpec, TokenEndpointOutcome, TokenErrorKind } from '@conduit/core';
import { headerValue } from './http-headers.ts';
import type { HttpHeaders } from './http-headers.ts';
import { isRecord, parseJson } from './json.ts';
import { isRateLimited, rateLimitWaitMs } from './rate-limit.ts';

export interface ClassifyContext {
  now: Date;
  /** Wait reported for a rate limit that gave no usable hint. */
  rateLimitDefaultWaitMs: number;
}

type TokenSpec = Pick<ProviderSpec, 'displayName' | 'tokenErrors' | 'rateLimit'>;

/** RFC 6749 §5.2 codes that mean something other than "rejected". */
const RFC_ERROR_KINDS: Readonly<Record<string, TokenErrorKind>> = {
  invalid_grant: 'invalid_grant',
  invalid_client: 'invalid_client',
  unauthorized_client: 'invalid_client',
};

export function classifyTokenResponse(
  spec: TokenSpec,
  status: number,
  headers: HttpHeaders,
  bodyText: string,
  context: ClassifyContext,
): TokenEndpointOutcome {
  const contentType = headerValue(headers, 'content-type')?.toLowerCase() ?? '';
  const body = parseBody(bodyText, contentType);

  if (isRateLimited(status, headers, body, spec.rateLimit)) {
    const waitMs = rateLimitWaitMs({
      signals: spec.rateLimit.signals,
      headers,
      body,
      now: context.now,
      defaultMs: context.rateLimitDefaultWaitMs,
    });
    return { kind: 'rate_limited', waitMs, status };
  }

  const where = `${spec.displayName} token endpoint`;
  if (status >= 200 && status < 300) {
    if (!isRecord(body)) {
      const type = contentType === '' ? 'no content-type' : `content-type ${printable(contentType, 80)}`;
      const what = bodyText.trim() === '' ? 'an empty body' : `a body that is not JSON (${type})`;
      return serverError(
        status,
        `${where} answered HTTP ${status} with ${what}; expected a JSON token response`,
      );
    }
    const code = errorCode(body);
    if (code !== undefined) {
      if (spec.tokenErrors.errorsWithHttp200) return tokenError(spec, status, code, body);
      if (!hasAccessToken(body)) {
        return serverError(
          status,
          `${where} answered HTTP ${status} with error "${code}", but this provider reports errors with an error status; treated as a server fault`,
        );
      }
    }
    if (!hasAccessToken(body)) {
      return serverError(
        status,
        `${where} answered HTTP ${status} without an access_token; expected a token response`,
      );
    }
    return tokens(body);
  }

  if (status >= 500) return serverError(status, `${where} answered HTTP ${status}`);
  // A request timeout is a blip, not a verdict on the grant.
  if (status === 408) {
    return {
      kind: 'transient',
      cause: 'timeout',
      status,
      detail: `${where} answered HTTP 408 (request timeout)`,
    };
  }
  if (status >= 400) {
    const code = isRecord(body) ? errorCode(body) : undefined;
    if (code !== undefined) return tokenError(spec, status, code, body as Record<string, unknown>);
    // Twitch: `{status, message}` with no code; the declaration's texts may still tell.
    if (isRecord(body) && descriptionKind(spec, body) !== undefined) {
      return tokenError(spec, status, `http_${status}`, body);
    }
    // At the token endpoint a bare 401 can only be about our client credentials (RFC 6749 §5.2).
    if (status === 401) return { kind: 'invalid_client', error: 'http_401', status };
    return { kind: 'rejected', status };
  }
  // 1xx/3xx: a redirect or proxy in the way, i.e. configuration, never the user's grant.
  return serverError(status, `${where} answered unexpected HTTP ${status}; check the configured token URL`);
}

function parseBody(text: string, contentType: string): unknown {
  const json = parseJson(text);
  if (json !== undefined) return json;
  // Without `Accept: application/json` GitHub answers form-encoded; accept it when it says so.
  if (contentType.startsWith('application/x-www-form-urlencoded')) {
    return Object.fromEntries(new URLSearchParams(text.trim()));
  }
  return undefined;
}

function tokenError(
  spec: TokenSpec,
  status: number,
  code: string,
  body: Record<string, unknown>,
): TokenEndpointOutcome {
  const description =
    typeof body.error_description === 'string' ? printable(body.error_description, 300) : '';
  const detail = description === '' ? {} : { description };
  const kind = descriptionKind(spec, body) ?? errorKind(spec, code);
  // RFC 6749 §5.2: a 401 is client authentication failing, whatever the code is called.
  const effective = kind === undefined && status === 401 ? 'invalid_client' : (kind ?? 'rejected');
  switch (effective) {
    case 'invalid_grant':
      return { kind: 'invalid_grant', error: code, status, ...detail };
    case 'invalid_client':
      return { kind: 'invalid_client', error: code, status, ...detail };
    case 'rejected':
      return { kind: 'rejected', error: code, status, ...detail };
  }
}

/** The catalogue's mapping wins over RFC 6749's; undefined when neither knows the code. */
function errorKind(spec: TokenSpec, code: string): TokenErrorKind | undefined {
  const codes = spec.tokenErrors.codes;
  if (Object.hasOwn(codes, code)) return codes[code];
  return Object.hasOwn(RFC_ERROR_KINDS, code) ? RFC_ERROR_KINDS[code] : undefined;
}

/** The declaration's error texts, matched exactly against the usual places for one. */
function descriptionKind(spec: TokenSpec, body: Record<string, unknown>): TokenErrorKind | undefined {
  const texts = spec.tokenErrors.descriptions;
  for (const field of ['error_description', 'message', 'reason']) {
    const text = body[field];
    if (typeof text === 'string' && Object.hasOwn(texts, text)) return texts[text];
  }
  return undefined;
}

function errorCode(body: Record<string, unknown>): string | undefined {
  if (typeof body.error !== 'string') return undefined;
  const code = printable(body.error, 100);
  return code === '' ? undefined : code;
}

function hasAccessToken(body: Record<string, unknown>): boolean {
  return typeof body.access_token === 'string' && body.access_token !== '';
}

function tokens(body: Record<string, unknown>): TokenEndpointOutcome {
  const refreshToken = nonEmptyString(body.refresh_token);
  const expiresInSeconds = seconds(body.expires_in);
  const refreshTokenExpiresInSeconds = seconds(body.refresh_token_expires_in);
  const scope = scopeOf(body.scope);
  const tokenType = nonEmptyString(body.token_type);
  return {
    kind: 'tokens',
    accessToken: body.access_token as string,
    ...(refreshToken === undefined ? {} : { refreshToken }),
    ...(expiresInSeconds === undefined ? {} : { expiresInSeconds }),
    ...(refreshTokenExpiresInSeconds === undefined ? {} : { refreshTokenExpiresInSeconds }),
    ...(scope === undefined ? {} : { scope }),
    ...(tokenType === undefined ? {} : { tokenType }),
  };
}

function nonEmptyString(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** A lifetime in seconds: a number or a numeric string (some servers quote it); nonsense → absent. */
function seconds(value: unknown): number | undefined {
  const n = typeof value === 'string' && /^\s*\d+(?:\.\d+)?\s*$/.test(value) ? Number(value) : value;
  return typeof n === 'number' && Number.isFinite(n) && n >= 0 ? n : undefined;
}

/** Space-separated per RFC 6749; some servers send an array instead. */
function scopeOf(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (Array.isArray(value) && value.every((s) => typeof s === 'string')) return value.join(' ');
  return undefined;
}

function serverError(status: number, detail: string): TokenEndpointOutcome {
  return { kind: 'transient', cause: 'server_error', status, detail };
}

/** Provider text goes into logs and events: keep it one printable line of bounded length. */
function printable(text: string, max: number): string {
  // eslint-disable-next-line no-control-regex
  const line = text.replace(/[\u0000-\u001f\u007f-\u009f]+/g, ' ').trim();
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}
