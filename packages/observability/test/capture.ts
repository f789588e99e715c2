import type { DestinationStream } from 'pino';

/** A destination that keeps what the logger writes, for assertions on the real output. */
export function capture(): DestinationStream & { readonly text: () => string; readonly lines: string[] } {
  const lines: string[] = [];
  return { lines, text: () => lines.join(''), write: (line: string) => void lines.push(line) };
}

/** An object with `value` at a pino redact path such as `*.*.token` or `req.headers["x-api-key"]`. */
export function objectAt(path: string, value: unknown): Record<string, unknown> {
  const wildcards = ['outer', 'inner'];
  let wildcard = 0;
  const keys = [...path.matchAll(/\["([^"]+)"\]|([^.[\]]+)/g)].map((m) => {
    const key = m[1] ?? m[2] ?? '';
    return key === '*' ? (wildcards[wildcard++] ?? 'deeper') : key;
  });
  return keys.reduceRight<unknown>((inner, key) => ({ [key]: inner }), value) as Record<string, unknown>;
}
