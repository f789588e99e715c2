// Operators sign in with HTTP Basic against CONDUIT_OPERATORS. Names and passwords are compared
// as SHA-256 digests with timingSafeEqual, against every entry, so neither the response time nor
// an early exit tells which part was wrong. Viewers may look; only admins change anything.
// Failed sign-ins are counted and, past a limit, refused with 429 (edge/sign-in-throttle.ts).
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Operator, OperatorRole } from '@conduit/config';
import type { SignInThrottle } from '../../edge/sign-in-throttle.ts';
import { HttpProblem } from '../../problem.ts';

export const REALM = 'conduit-operators';
const READ_METHODS = new Set(['GET', 'HEAD']);

export interface SignedInOperator {
  name: string;
  role: OperatorRole;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** set on admin routes once the operator's credentials check out */
    operator?: SignedInOperator;
  }
}

interface StoredOperator extends SignedInOperator {
  nameDigest: Buffer;
  passwordDigest: Buffer;
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/** `Authorization: Basic base64(name:password)`; the password may contain colons. */
export function parseBasic(header: string | undefined): { name: string; password: string } | null {
  const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header ?? '');
  if (!m?.[1]) return null;
  const decoded = Buffer.from(m[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0) return null;
  return { name: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

export function operatorMatcher(operators: readonly Operator[]) {
  const stored: StoredOperator[] = operators.map((o) => ({
    name: o.name,
    role: o.role,
    nameDigest: digest(o.name),
    passwordDigest: digest(o.password),
  }));
  return (name: string, password: string): SignedInOperator | null => {
    const n = digest(name);
    const p = digest(password);
    let found: SignedInOperator | null = null;
    for (const o of stored) {
      // both comparisons always run: `&&` would skip the password check for a wrong name
      const nameOk = timingSafeEqual(n, o.nameDigest);
      const passwordOk = timingSafeEqual(p, o.passwordDigest);
      if (nameOk && passwordOk && found === null) found = { name: o.name, role: o.role };
    }
    return found;
  };
}

export type RefuseWith = (problem: HttpProblem, req: FastifyRequest, reply: FastifyReply) => unknown;

/**
 * An onRequest hook: 401 with a Basic challenge without valid credentials, 403 for a viewer's
 * write. The refusal is sent through `refuse` (the API's problem handler) rather than thrown,
 * because Bull Board's routes install an error handler of their own.
 */
export function operatorAuth(operators: readonly Operator[], refuse: RefuseWith, throttle: SignInThrottle) {
  const match = operatorMatcher(operators);
  return async function requireOperator(req: FastifyRequest, reply: FastifyReply) {
    const credentials = parseBasic(req.headers.authorization);
    const locked = throttle.lockedOut(req, reply, credentials?.name);
    if (locked) return refuse(locked, req, reply);
    const operator = credentials && match(credentials.name, credentials.password);
    if (!operator) {
      const over = credentials ? await throttle.failed(req, reply, 'operator', credentials.name) : null;
      if (over) return refuse(over, req, reply);
      reply.header('www-authenticate', `Basic realm="${REALM}"`);
      return refuse(
        new HttpProblem(
          401,
          'operator-auth-required',
          'Operator sign-in required',
          credentials
            ? 'the name and password are not those of an operator listed in CONDUIT_OPERATORS'
            : 'sign in with HTTP Basic as an operator listed in CONDUIT_OPERATORS (name:role:password)',
        ),
        req,
        reply,
      );
    }
    req.operator = operator;
    if (operator.role !== 'admin' && !READ_METHODS.has(req.method)) {
      req.log.info({ operator: operator.name, method: req.method, url: req.url }, 'viewer write refused');
      return refuse(
        new HttpProblem(
          403,
          'operator-forbidden',
          'This operator may only look',
          `"${operator.name}" is a viewer; retrying, cleaning, promoting or pausing jobs needs an admin operator`,
        ),
        req,
        reply,
      );
    }
  };
}
