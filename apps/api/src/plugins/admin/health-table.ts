// The per-connection part of the health page: a filter form (a plain GET, so the filters live in
// the query string and the page stays server-rendered), one page of connections with what the
// seeds' diagnostic SQL answers, a pager, and the sync log (SyncRun, the seeds' cron_job_logs).
import { CONNECTION_STATUSES, PROVIDER_KEYS } from '@conduit/core';
import { TOKEN_STATES, type HealthConnectionRow, type SyncRunView } from '@conduit/db';
import type { HealthSnapshot } from './health-snapshot.ts';
import { duration, esc, when } from './html.ts';

const TOKEN_LABELS: Record<string, string> = {
  valid: 'valid',
  expiring: 'expiring within 1 h',
  expired: 'expired',
  none: 'no expiry',
};

function options(values: readonly string[], selected: string | undefined, all: string): string {
  return [`<option value="">${esc(all)}</option>`]
    .concat(
      values.map(
        (v) =>
          `<option value="${esc(v)}"${v === selected ? ' selected' : ''}>${esc(TOKEN_LABELS[v] ?? v)}</option>`,
      ),
    )
    .join('');
}

type Filter = HealthSnapshot['table']['filter'];

/** The page's own URL for another page under the same filters; empty values are left out. */
export function pageHref(filter: Filter, page: number): string {
  const q = new URLSearchParams();
  if (filter.search) q.set('q', filter.search);
  if (filter.provider) q.set('provider', filter.provider);
  if (filter.status) q.set('status', filter.status);
  if (filter.token) q.set('token', filter.token);
  if (page > 1) q.set('page', String(page));
  const text = q.toString();
  return `/admin/health${text ? `?${text}` : ''}#table`;
}

function filterForm(f: Filter): string {
  return `<form class="filters" method="get" action="/admin/health#table" role="search">
  <input type="search" name="q" value="${esc(f.search ?? '')}" placeholder="connection id, owner id or reason" aria-label="search">
  <select name="provider" aria-label="provider">${options(PROVIDER_KEYS, f.provider, 'any provider')}</select>
  <select name="status" aria-label="status">${options(CONNECTION_STATUSES, f.status, 'any status')}</select>
  <select name="token" aria-label="token">${options(TOKEN_STATES, f.token, 'any token')}</select>
  <button type="submit">Filter</button> <a href="/admin/health#table">clear</a></form>`;
}

function token(r: HealthConnectionRow): string {
  const cls =
    r.token === 'expired' ? 'bad' : r.token === 'expiring' ? 'warn' : r.token === 'valid' ? 'ok' : '';
  return `<span class="token ${cls}">${esc(TOKEN_LABELS[r.token])}</span>`;
}

function hours(h: number | null): string {
  if (h === null) return '<span class="muted">—</span>';
  return h < 0 ? `<span class="bad">${esc(h.toFixed(1))} h</span>` : `${esc(h.toFixed(1))} h`;
}

function outcome(o: string): string {
  const cls = o === 'succeeded' ? 'connected' : o === 'failed' ? 'error' : 'token_expired';
  return `<span class="status ${cls}">${esc(o)}</span>`;
}

function row(r: HealthConnectionRow, now: Date): string {
  const refresh = r.lastRefreshAt
    ? `${when(r.lastRefreshAt, now)}${r.lastRefreshError ? `<br><span class="muted">${esc(r.lastRefreshError)}</span>` : ''}`
    : '<span class="muted">never</span>';
  const sync = r.lastSync
    ? `${when(r.lastSync.at, now)} ${outcome(r.lastSync.outcome)}${r.lastSync.error ? `<br><span class="muted">${esc(r.lastSync.error)}</span>` : ''}`
    : '<span class="muted">never</span>';
  return `<tr data-row="connection" data-provider="${esc(r.provider)}" data-status="${esc(r.status)}" data-token="${esc(r.token)}">
  <td data-label="connection"><code class="id">${esc(r.connectionId)}</code></td>
  <td data-label="owner (hashed)" class="mono">${esc(r.owner)}</td>
  <td data-label="provider">${esc(r.provider)}</td>
  <td data-label="status"><span class="status ${esc(r.status)}">${esc(r.status)}</span></td>
  <td data-label="token">${token(r)}</td>
  <td data-label="until expiry" class="num">${hours(r.hoursUntilExpiry)}</td>
  <td data-label="refresh token">${r.hasRefreshToken ? 'yes' : '<span class="bad">no</span>'}</td>
  <td data-label="last refresh">${refresh}</td>
  <td data-label="last sync">${sync}</td></tr>`;
}

export function connectionTable(s: HealthSnapshot): string {
  const t = s.table;
  const pages = Math.max(1, Math.ceil(t.total / t.pageSize));
  const first = t.total === 0 ? 0 : (t.page - 1) * t.pageSize + 1;
  const last = Math.min(t.total, t.page * t.pageSize);
  const pager = `<nav class="pager" aria-label="pages"><span data-table-total>${first}–${last} of ${t.total}</span>
  ${t.page > 1 ? `<a rel="prev" href="${esc(pageHref(t.filter, t.page - 1))}">← previous</a>` : ''}
  ${t.page < pages ? `<a rel="next" href="${esc(pageHref(t.filter, t.page + 1))}">next →</a>` : ''}
  <span class="muted">page ${t.page} of ${pages}</span></nav>`;
  const body =
    t.rows.length === 0
      ? '<p class="muted">No connection matches.</p>'
      : `<table class="stack"><thead><tr><th>connection</th><th>owner (hashed)</th><th>provider</th><th>status</th><th>token</th><th class="num">until expiry</th><th>refresh token</th><th>last refresh</th><th>last sync</th></tr></thead>
  <tbody>${t.rows.map((r) => row(r, s.generatedAt)).join('')}</tbody></table>`;
  return `${filterForm(t.filter)}${body}${pager}`;
}

function runRow(r: SyncRunView, now: Date): string {
  const took = r.finishedAt ? duration(r.finishedAt.getTime() - r.startedAt.getTime()) : 'running';
  return `<tr data-row="sync-run"><td data-label="started">${when(r.startedAt, now)}</td>
  <td data-label="connection"><code class="id">${esc(r.connectionId)}</code></td>
  <td data-label="provider">${esc(r.provider)}</td><td data-label="resource">${esc(r.resource)} · ${esc(r.mode)}</td>
  <td data-label="outcome">${outcome(r.outcome)}</td><td data-label="took">${esc(took)}</td>
  <td data-label="pages" class="num">${r.pages}</td><td data-label="seen / stored" class="num">${r.itemsSeen} / ${r.itemsStored}</td>
  <td data-label="error" class="reason">${esc(r.error ?? '')}</td></tr>`;
}

export function syncRunsTable(s: HealthSnapshot): string {
  if (s.syncRuns.length === 0) return '<p class="muted">No sync has run yet.</p>';
  return `<table class="stack"><thead><tr><th>started</th><th>connection</th><th>provider</th><th>what</th><th>outcome</th><th>took</th><th class="num">pages</th><th class="num">seen / stored</th><th>error</th></tr></thead>
  <tbody>${s.syncRuns.map((r) => runRow(r, s.generatedAt)).join('')}</tbody></table>`;
}
