// What the benchmark reads from the apps' JSON log lines (LOG_FORMAT=json): the refresh line
// (packages/jobs/src/refresh/refresh-connection.ts: one per refresh, with `outcome` and, when
// refreshed, `commitMs`, the provider's answer to the tokens stored) and the `<app> ready` line.

export type AppLine =
  | {
      kind: 'refresh';
      outcome: string;
      commitMs: number | undefined;
      /** when the line was logged (its `time`), epoch ms; undefined without one */
      at: number | undefined;
    }
  | { kind: 'ready' }
  | { kind: 'other' };

export function readAppLine(line: string): AppLine {
  // Most lines are refreshes; only JSON objects are looked at.
  if (!line.startsWith('{')) return { kind: 'other' };
  let parsed: { msg?: unknown; outcome?: unknown; commitMs?: unknown; time?: unknown };
  try {
    parsed = JSON.parse(line) as typeof parsed;
  } catch {
    return { kind: 'other' };
  }
  if (parsed.msg === 'refresh' && typeof parsed.outcome === 'string')
    return {
      kind: 'refresh',
      outcome: parsed.outcome,
      commitMs: typeof parsed.commitMs === 'number' ? parsed.commitMs : undefined,
      at:
        typeof parsed.time === 'string' && !Number.isNaN(Date.parse(parsed.time))
          ? Date.parse(parsed.time)
          : undefined,
    };
  if (typeof parsed.msg === 'string' && /^[a-z-]+ ready$/.test(parsed.msg)) return { kind: 'ready' };
  return { kind: 'other' };
}
