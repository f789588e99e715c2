// Plain aligned columns for terminal output; numbers right-aligned. Given a width (the
// terminal's), the columns named `shrink` are cut with an ellipsis, widest first, until each
// line fits; ids and numbers are never cut, so what is shown can still be pasted.

export type Cell = string | number | null | undefined;

export interface TableOptions {
  /** total characters per line, e.g. process.stdout.columns; no limit when undefined */
  width?: number | undefined;
  /** indexes of the columns that may be truncated to fit (e.g. a reason) */
  shrink?: readonly number[];
}

const MIN_SHRUNK = 8;
const GAP = 2;

function clip(text: string, width: number): string {
  return text.length <= width ? text : `${text.slice(0, Math.max(0, width - 1))}…`;
}

export function renderTable(
  headers: readonly string[],
  rows: ReadonlyArray<readonly Cell[]>,
  options: TableOptions = {},
): string {
  const text = (c: Cell) => (c === null || c === undefined ? '—' : String(c).replace(/\s*\n\s*/g, ' '));
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => text(r[i]).length)));
  if (options.width !== undefined && options.shrink?.length) {
    const total = () => widths.reduce((s, w) => s + w, 0) + GAP * (widths.length - 1);
    let over = total() - options.width;
    for (const i of [...options.shrink].sort((a, b) => widths[b]! - widths[a]!)) {
      if (over <= 0) break;
      const floor = Math.max(MIN_SHRUNK, headers[i]!.length);
      const cut = Math.min(over, Math.max(0, widths[i]! - floor));
      widths[i]! -= cut;
      over -= cut;
    }
  }
  const numeric = headers.map(
    (_, i) => rows.length > 0 && rows.every((r) => typeof r[i] === 'number' || r[i] == null),
  );
  const line = (cells: readonly Cell[]) =>
    cells
      .map((c, i) => {
        const t = clip(text(c), widths[i]!);
        return numeric[i] ? t.padStart(widths[i]!) : t.padEnd(widths[i]!);
      })
      .join(' '.repeat(GAP))
      .trimEnd();
  return [line(headers), line(widths.map((w) => '─'.repeat(w))), ...rows.map(line)].join('\n');
}

export function isoOrDash(d: Date | null | undefined): string {
  return d ? d.toISOString() : '—';
}
