// Inline SVG bar charts for the health page: no script, no external asset, readable in any
// browser (and in a screenshot pasted into an incident channel).
import type { RefreshMinute } from '@conduit/jobs';
import { esc } from './html.ts';

/** Good outcomes green, failures red, waits amber, no-ops grey. */
export const OUTCOME_COLOURS: Record<string, string> = {
  refreshed: '#3fb27f',
  fresh: '#6b7a90',
  skipped: '#6b7a90',
  busy: '#8a7fd1',
  gated: '#d9a441',
  rate_limited: '#d9a441',
  retry: '#e07b39',
  gave_up: '#e5534b',
  lost_race: '#e5534b',
  needs_reauth: '#e5534b',
  error: '#e5534b',
};

/** Horizontal bars, one per outcome, largest first. */
export function outcomeBars(byOutcome: Record<string, number>): string {
  const rows = Object.entries(byOutcome)
    .filter(([, n]) => n > 0)
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  if (rows.length === 0) return '<p class="muted">No refreshes recorded in the last hour.</p>';
  const max = Math.max(...rows.map(([, n]) => n));
  const total = rows.reduce((s, [, n]) => s + n, 0);
  const labelW = 110;
  const barW = 300;
  const rowH = 22;
  const height = rows.length * rowH + 4;
  const bars = rows
    .map(([outcome, n], i) => {
      const y = i * rowH + 2;
      const w = Math.max(2, Math.round((n / max) * barW));
      const pct = ((n / total) * 100).toFixed(n === total ? 0 : 1);
      return (
        `<g data-outcome="${esc(outcome)}">` +
        `<text x="${labelW - 8}" y="${y + 15}" text-anchor="end">${esc(outcome)}</text>` +
        `<rect x="${labelW}" y="${y + 3}" width="${w}" height="15" rx="2" fill="${OUTCOME_COLOURS[outcome] ?? '#6b7a90'}"/>` +
        `<text x="${labelW + w + 6}" y="${y + 15}">${n} (${pct}%)</text></g>`
      );
    })
    .join('');
  return (
    `<svg class="chart" role="img" aria-label="Refresh outcomes in the last hour" width="${labelW + barW + 90}" ` +
    `height="${height}" viewBox="0 0 ${labelW + barW + 90} ${height}">${bars}</svg>`
  );
}

/** One stacked bar per minute: refreshed (green), not refreshed (red), no token request (grey). */
export function minuteBars(perMinute: readonly RefreshMinute[]): string {
  const max = Math.max(1, ...perMinute.map((m) => m.succeeded + m.failed + m.other));
  const barW = 7;
  const gap = 2;
  const h = 60;
  const width = perMinute.length * (barW + gap);
  const bars = perMinute
    .map((m, i) => {
      const x = i * (barW + gap);
      let y = h;
      const part = (n: number, colour: string) => {
        if (n === 0) return '';
        const ph = Math.max(1, Math.round((n / max) * h));
        y -= ph;
        return `<rect x="${x}" y="${y}" width="${barW}" height="${ph}" fill="${colour}"/>`;
      };
      const title = `${m.at.toISOString().slice(11, 16)} UTC: ${m.succeeded} refreshed, ${m.failed} not refreshed, ${m.other} no request`;
      return `<g><title>${esc(title)}</title>${part(m.succeeded, '#3fb27f')}${part(m.failed, '#e5534b')}${part(m.other, '#6b7a90')}</g>`;
    })
    .join('');
  return (
    `<svg class="chart" role="img" aria-label="Refreshes per minute, last hour" width="${width}" height="${h + 16}" ` +
    `viewBox="0 0 ${width} ${h + 16}"><line x1="0" y1="${h + 0.5}" x2="${width}" y2="${h + 0.5}" class="axis"/>` +
    `${bars}<text x="0" y="${h + 14}">−60 min</text><text x="${width}" y="${h + 14}" text-anchor="end">now</text></svg>`
  );
}
