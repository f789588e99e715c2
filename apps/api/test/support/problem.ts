// What every error answer must be: RFC 9457 problem details, as application/problem+json.
import { expect } from 'vitest';

export interface ProblemAnswer {
  status: number;
  headers: Headers | Record<string, string | string[] | undefined>;
  text: string;
}

export function expectProblem(res: ProblemAnswer, status: number): Record<string, unknown> {
  const header = (name: string) =>
    res.headers instanceof Headers ? res.headers.get(name) : (res.headers[name] as string | undefined);
  expect(res.status, res.text).toBe(status);
  expect(header('content-type')).toMatch(/^application\/problem\+json/);
  const body = JSON.parse(res.text) as Record<string, unknown>;
  expect(body).toMatchObject({ status });
  for (const field of ['type', 'title', 'detail']) expect(typeof body[field], field).toBe('string');
  return body;
}

export async function answer(res: Response): Promise<ProblemAnswer> {
  return { status: res.status, headers: res.headers, text: await res.text() };
}
