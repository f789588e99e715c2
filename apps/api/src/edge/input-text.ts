// No id, name or query value may hold NUL (Postgres text cannot) or an unpaired UTF-16 surrogate
// (it would be stored as U+FFFD, a different value). Checked on the decoded params, query and
// JSON body of every route before validation, so the answer is a 400 that names the field.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { HttpProblem } from '../problem.ts';

// eslint-disable-next-line no-control-regex
const BAD_TEXT = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

function explain(text: string): string {
  return text.includes('\u0000') ? 'a NUL character (U+0000)' : 'an unpaired UTF-16 surrogate';
}

/** The path of the first string (value or key) that no id may hold, or null. */
export function findBadText(value: unknown, at: string, depth = 0): { at: string; why: string } | null {
  if (typeof value === 'string') return BAD_TEXT.test(value) ? { at, why: explain(value) } : null;
  if (value === null || typeof value !== 'object' || Buffer.isBuffer(value) || depth > 32) return null;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i += 1) {
      const found = findBadText(value[i], `${at}[${i}]`, depth + 1);
      if (found) return found;
    }
    return null;
  }
  for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
    if (BAD_TEXT.test(key)) return { at: `${at} key`, why: explain(key) };
    const found = findBadText(v, `${at}.${key}`, depth + 1);
    if (found) return found;
  }
  return null;
}

export async function refuseBadText(req: FastifyRequest, _reply: FastifyReply): Promise<void> {
  const found =
    findBadText(req.params, 'path') ?? findBadText(req.query, 'query') ?? findBadText(req.body, 'body');
  if (found) {
    throw new HttpProblem(
      400,
      'invalid-characters',
      'The request holds characters no value may contain',
      `${found.at} holds ${found.why}; ids, names and query values must be plain text`,
      { field: found.at },
    );
  }
}
