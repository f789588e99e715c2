// Conduit's problem details (RFC 9457) as typed errors: switch on the class or on `code`.
// Messages come from the server's problem and never hold a token.

export interface Problem {
  type?: string;
  title?: string;
  status: number;
  detail?: string;
  code?: string;
  [extension: string]: unknown;
}

export class ConduitError extends Error {
  readonly status: number;
  /** the problem's stable code, e.g. needs_reauth; "http_<status>" when the answer was not a problem */
  readonly code: string;
  readonly problem: Problem;

  constructor(problem: Problem) {
    super(problem.detail ?? problem.title ?? `Conduit answered ${problem.status}`);
    this.name = new.target.name;
    this.status = problem.status;
    this.code = problem.code ?? codeFromType(problem.type) ?? `http_${problem.status}`;
    this.problem = problem;
  }
}

/** Problems without a `code` still name themselves in `type` (…/problems/sync-not-supported). */
function codeFromType(type: string | undefined): string | undefined {
  const slug = type?.split('/').pop();
  return slug ? slug.replace(/-/g, '_') : undefined;
}

/** 400: the request was malformed (see `message`). */
export class InvalidRequestError extends ConduitError {}
/** 401: the API key is missing or wrong. */
export class UnauthorizedError extends ConduitError {}
/** 403: the API key lacks `requiredScope`. */
export class ForbiddenError extends ConduitError {
  get requiredScope(): string | undefined {
    return this.problem.requiredScope as string | undefined;
  }
}
/** 404: no such connection, owner connection or meeting. */
export class NotFoundError extends ConduitError {}

export interface Reconnect {
  method: 'POST';
  url: string;
  body: { ownerId: string; teamId?: string };
}

/** 409 needs_reauth or not_connected: the user must go through consent again. */
export class NeedsReauthError extends ConduitError {
  /** where to start the reconnect: `client.startConnect(provider, reconnect.body)` does it */
  get reconnect(): Reconnect | undefined {
    return this.problem.reconnect as Reconnect | undefined;
  }
}
/** 409 connection_error: an operator must look at the connection (e.g. bad client secret). */
export class ConnectionError extends ConduitError {}
/** 503 unavailable (or 502/504 from the proxy): try again after `retryAfterSeconds`. */
export class UnavailableError extends ConduitError {
  readonly retryAfterSeconds: number | undefined;
  constructor(problem: Problem, retryAfterSeconds?: number) {
    super(problem);
    this.retryAfterSeconds = retryAfterSeconds ?? (problem.retryAfterSeconds as number | undefined);
  }
}

/** The typed error for a problem answer. */
export function errorFor(problem: Problem, retryAfter: string | null): ConduitError {
  switch (problem.code) {
    case 'needs_reauth':
    case 'not_connected':
      return new NeedsReauthError(problem);
    case 'connection_error':
      return new ConnectionError(problem);
    case 'unavailable':
    case 'provider_timeout':
    case 'provider_unreachable':
      return new UnavailableError(problem, retryAfterSeconds(retryAfter));
    case 'not_found':
      return new NotFoundError(problem);
    case 'unauthorized':
      return new UnauthorizedError(problem);
    case 'insufficient_scope':
      return new ForbiddenError(problem);
  }
  if (problem.status === 400) return new InvalidRequestError(problem);
  if (problem.status === 401) return new UnauthorizedError(problem);
  if (problem.status === 403) return new ForbiddenError(problem);
  if (problem.status === 404) return new NotFoundError(problem);
  if (problem.status === 503 || problem.status === 502 || problem.status === 504)
    return new UnavailableError(problem, retryAfterSeconds(retryAfter));
  return new ConduitError(problem);
}

function retryAfterSeconds(header: string | null): number | undefined {
  if (header === null) return undefined;
  const n = Number(header);
  return Number.isFinite(n) && n >= 0 ? n : undefined;
}
