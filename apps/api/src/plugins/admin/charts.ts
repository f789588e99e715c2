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

/** Round a maximum up to 1, 2 or 5 × a power of ten, so the axis reads in whole steps. */
export function niceMax(n: number): number {
  if (n <= 1) return 1;
  const p = 10 ** Math.floor(Math.log10(n));
  return ([1, 2, 5, 10].find((m) => m * p >= n) ?? 10) * p;
}

/** Horizontal bars, one per outcome, largest first, over an axis counted in runs. */
export function outcomeBars(byOutcome: Record<string, number>): string {
  const rows = Object.entries(byOutcome)
    .filter(([, n]) => n > 0)
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  const total = rows.reduce((s, [, n]) => s + n, 0);
  const max = niceMax(Math.max(0, ...rows.map(([, n]) => n)));
  const labelW = 110;
  const barW = 300;
  const rowH = 22;
  const plotH = Math.max(1, rows.length) * rowH + 4;
  const height = plotH + 34;
  const width = labelW + barW + 90;
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
  const empty =
    rows.length === 0
      ? `<text x="${labelW + 8}" y="17" class="note">no refresh runs in the last hour</text>`
      : '';
  const ticks = [0, 0.5, 1]
    .map((f) => {
      const x = labelW + f * barW;
      return (
        `<line x1="${x}" y1="${plotH}" x2="${x}" y2="${plotH + 4}" class="axis"/>` +
        `<text x="${x}" y="${plotH + 16}" text-anchor="middle">${max * f}</text>`
      );
    })
    .join('');
  return (
    `<svg class="chart" role="img" aria-label="Refresh outcomes in the last hour" width="${width}" ` +
    `height="${height}" viewBox="0 0 ${width} ${height}">${bars}${empty}` +
    `<line x1="${labelW}" y1="${plotH + 0.5}" x2="${labelW + barW}" y2="${plotH + 0.5}" class="axis"/>` +
    `<line x1="${labelW + 0.5}" y1="0" x2="${labelW + 0.5}" y2="${plotH}" class="axis"/>${ticks}` +
    `<text x="${labelW + barW / 2}" y="${plotH + 31}" text-anchor="middle" class="unit">refresh runs, last 60 min</text></svg>`
  );
}

/**
 * One stacked bar per minute: refreshed (green), not refreshed (red), no token request (grey),
 * with a y axis in runs per minute and an x axis in minutes before now.
 */
export function minuteBars(perMinute: readonly RefreshMinute[]): string {
  const minutes = 60;
  const max = niceMax(Math.max(0, ...perMinute.map((m) => m.succeeded + m.failed + m.other)));
  const left = 34;
  const barW = 7;
  const gap = 2;
  const h = 80;
  const top = 8;
  const plotW = minutes * (barW + gap);
  const width = left + plotW + 4;
  const height = top + h + 36;
  const base = top + h;
  const offset = minutes - perMinute.length;
  const bars = perMinute
    .map((m, i) => {
      const x = left + (offset + i) * (barW + gap);
      let y = base;
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
  const yTicks = [0, 0.5, 1]
    .map((f) => {
      const y = base - f * h;
      return (
        `<line x1="${left - 4}" y1="${y}" x2="${left + plotW}" y2="${y}" class="${f === 0 ? 'axis' : 'grid'}"/>` +
        `<text x="${left - 6}" y="${y + 4}" text-anchor="end">${max * f}</text>`
      );
    })
    .join('');
  const xTicks = [60, 45, 30, 15, 0]
    .map((ago) => {
      const x = left + (minutes - ago) * (barW + gap);
      return (
        `<line x1="${x}" y1="${base}" x2="${x}" y2="${base + 4}" class="axis"/>` +
        `<text x="${x}" y="${base + 16}" text-anchor="${ago === 0 ? 'end' : ago === 60 ? 'start' : 'middle'}">${ago === 0 ? 'now' : `−${ago}`}</text>`
      );
    })
    .join('');
  return (
    `<svg class="chart" role="img" aria-label="Refreshes per minute, last hour" width="${width}" height="${height}" ` +
    `viewBox="0 0 ${width} ${height}">${yTicks}${bars}` +
    `<line x1="${left + 0.5}" y1="${top}" x2="${left + 0.5}" y2="${base}" class="axis"/>${xTicks}` +
    `<text x="${left + plotW / 2}" y="${base + 31}" text-anchor="middle" class="unit">refresh runs per minute · minutes before now</text></svg>`
  );
}
