// Small HTTP helpers shared by every surface: a wire answer, sending it, reading form fields.
import type { FastifyReply } from 'fastify';

/** A complete provider answer: status, headers and a JSON (object) or text (string) body. */
export interface WireAnswer {
  status: number;
  headers?: Record<string, string>;
  body: unknown;
  contentType?: string;
}

export function send(reply: FastifyReply, answer: WireAnswer): FastifyReply {
  reply.code(answer.status);
  if (answer.headers) reply.headers(answer.headers);
  if (answer.contentType) reply.type(answer.contentType);
  else if (typeof answer.body !== 'string') reply.type('application/json; charset=utf-8');
  return reply.send(answer.body);
}

/** Form or JSON body fields as single strings (the first value of a repeated field). */
export function formFields(body: unknown): Record<string, string | undefined> {
  if (body === null || typeof body !== 'object') return {};
  const out: Record<string, string | undefined> = {};
  for (const [key, value] of Object.entries(body as Record<string, unknown>)) {
    const first: unknown = Array.isArray(value) ? value[0] : value;
    if (typeof first === 'string') out[key] = first;
    else if (typeof first === 'number' || typeof first === 'boolean') out[key] = String(first);
  }
  return out;
}

/** Resolves when the client's connection closes (or the response completes). */
export function connectionClosed(reply: FastifyReply): Promise<void> {
  if (reply.raw.destroyed || reply.raw.writableFinished) return Promise.resolve();
  return new Promise((resolve) => reply.raw.once('close', () => resolve()));
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** An error answer of our own (RFC 9457 problem details). */
export function problem(status: number, title: string, detail: string, instance?: string): WireAnswer {
  return {
    status,
    contentType: 'application/problem+json; charset=utf-8',
    body: { type: 'about:blank', title, status, detail, ...(instance ? { instance } : {}) },
  };
}
