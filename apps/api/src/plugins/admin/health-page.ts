// The connection-health page, rendered on the server from a HealthSnapshot: what needs action
// first (big numbers), then the tables behind them. No external asset, so it loads anywhere,
// under a CSP that allows nothing else; its one inline script (local times) is allowed by hash.
// Filters are a plain GET form. Owners appear only as keyed hashes.
import type { AttentionConnection } from '@conduit/db';
import type { SignedInOperator } from './auth.ts';
import { minuteBars, outcomeBars } from './charts.ts';
import type { HealthSnapshot } from './health-snapshot.ts';
import { HEALTH_CSS } from './health-styles.ts';
import { connectionTable, syncRunsTable } from './health-table.ts';
import { absolute, duration, esc, percent, when } from './html.ts';
import { LOCAL_TIMES_HASH, LOCAL_TIMES_SCRIPT } from './local-times.ts';

export const HEALTH_PAGE_CSP = `default-src 'none'; script-src ${LOCAL_TIMES_HASH}; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'`;

type Level = 'ok' | 'warn' | 'bad' | 'idle';

function tile(id: string, n: string | number, label: string, level: Level): string {
  return `<div class="tile ${level}" data-tile="${esc(id)}"><div class="n">${esc(n)}</div><div class="l">${esc(label)}</div></div>`;
}

function num(n: number, id?: string, badWhenPositive = false): string {
  const cls = n === 0 ? 'num zero' : badWhenPositive ? 'num bad' : 'num';
  return `<td class="${cls}"${id ? ` data-cell="${esc(id)}"` : ''}>${n}</td>`;
}

function status(s: string | null): string {
  return s === null ? '<span class="muted">—</span>' : `<span class="status ${esc(s)}">${esc(s)}</span>`;
}

function tiles(s: HealthSnapshot): string {
  const rate = s.refresh.successRate;
  const failedJobs = s.queues.reduce((n, q) => n + q.failed, 0);
  const closedLanes =
    s.lanes.filter((l) => l.state !== 'open').length + s.queues.filter((q) => q.paused).length;
  const lvl = (n: number, level: Level = 'bad'): Level => (n > 0 ? level : 'ok');
  return `<div class="tiles">${[
    tile('connections', s.connections.total, 'connections', 'idle'),
    tile(
      'needs_reauth',
      s.connections.byStatus.needs_reauth,
      'need the user to reconnect',
      lvl(s.connections.byStatus.needs_reauth),
    ),
    tile('error', s.connections.byStatus.error, 'in error', lvl(s.connections.byStatus.error)),
    tile(
      'success_rate',
      rate === null ? 'idle' : percent(rate),
      rate === null
        ? 'refresh success, last hour: no token requests were needed'
        : `refresh success, last hour (${s.refresh.succeeded} of ${s.refresh.attempts} token requests)`,
      rate === null ? 'idle' : rate < 0.9 ? 'bad' : rate < 0.99 ? 'warn' : 'ok',
    ),
    tile(
      'expired',
      s.tokenExpiry.total.expired,
      'live tokens already lapsed',
      lvl(s.tokenExpiry.total.expired),
    ),
    tile('expiring_1h', s.tokenExpiry.total.within1h, 'tokens lapsing within 1 h', 'idle'),
    tile('dead', s.notifications.dead, 'undeliverable notifications', lvl(s.notifications.dead)),
    tile('failed_jobs', failedJobs, 'failed jobs', lvl(failedJobs, 'warn')),
    tile('closed_lanes', closedLanes, 'paused lanes', lvl(closedLanes, 'warn')),
  ].join('')}</div>`;
}

function connectionsTable(s: HealthSnapshot): string {
  const { providers, statuses, byProvider, byStatus, total } = s.connections;
  if (total === 0) return '<p class="muted">No connections yet.</p>';
  const head = `<tr><th>provider</th>${statuses.map((st) => `<th class="num">${esc(st)}</th>`).join('')}<th class="num">total</th></tr>`;
  const rows = providers.map((p) => {
    const row = byProvider[p]!;
    const sum = statuses.reduce((n, st) => n + row[st], 0);
    return `<tr><td>${esc(p)}</td>${statuses
      .map((st) => num(row[st], `${p}:${st}`, st === 'needs_reauth' || st === 'error'))
      .join('')}${num(sum, `${p}:total`)}</tr>`;
  });
  const totals = `<tr class="total"><td>all</td>${statuses.map((st) => num(byStatus[st], `all:${st}`)).join('')}${num(total, 'all:total')}</tr>`;
  return `<table>${head}${rows.join('')}${totals}</table>`;
}

function expiryTable(s: HealthSnapshot): string {
  const providers = Object.keys(s.tokenExpiry.byProvider).sort();
  const head =
    '<tr><th>provider</th><th class="num">already lapsed</th><th class="num">within 1 h</th><th class="num">within 24 h</th><th class="num">within 7 d</th></tr>';
  const line = (label: string, id: string, c: HealthSnapshot['tokenExpiry']['total'], cls = '') =>
    `<tr${cls}><td>${esc(label)}</td>${num(c.expired, `${id}:expired`, true)}${num(c.within1h, `${id}:1h`)}${num(c.within24h, `${id}:24h`)}${num(c.within7d, `${id}:7d`)}</tr>`;
  return `<table>${head}${providers.map((p) => line(p, p, s.tokenExpiry.byProvider[p]!)).join('')}${line('all', 'all', s.tokenExpiry.total, ' class="total"')}</table>
  <p class="muted">Access tokens of connected and token_expired connections; windows are cumulative. A healthy system lets none lapse unrefreshed.</p>`;
}

function refreshSection(s: HealthSnapshot): string {
  const r = s.refresh;
  const outcomes = Object.keys(r.byOutcome).sort();
  const providers = Object.keys(r.byProvider).sort();
  const table =
    outcomes.length === 0
      ? ''
      : `<table><tr><th>provider</th>${outcomes.map((o) => `<th class="num">${esc(o)}</th>`).join('')}</tr>${providers
          .map(
            (p) =>
              `<tr><td>${esc(p)}</td>${outcomes.map((o) => num(r.byProvider[p]?.[o] ?? 0, `refresh:${p}:${o}`)).join('')}</tr>`,
          )
          .join('')}</table>`;
  const rate =
    r.successRate === null
      ? '<p>No token request in the last hour'
      : `<p><strong data-refresh-rate>${esc(percent(r.successRate))}</strong> of ${r.attempts} token requests refreshed`;
  return `${rate}
  (${r.total} refresh runs in all, since ${absolute(r.from)}). Runs that needed no request (fresh, busy, gated, skipped) are not in the rate.</p>
  <div class="charts">${outcomeBars(r.byOutcome)}${minuteBars(r.perMinute)}</div>${table}`;
}

function attentionTable(list: AttentionConnection[], total: number, now: Date, id: string): string {
  if (total === 0) return '<p class="muted">None.</p>';
  const rows = list
    .map(
      (
        c,
      ) => `<tr data-row="${esc(id)}"><td class="mono">${esc(c.owner)}</td><td>${esc(c.provider)}</td><td>${when(c.since, now)}</td>
      <td class="reason">${esc(c.reason ?? '—')}${c.lastError && c.lastError !== c.reason ? `<br><span class="muted">last error: ${esc(c.lastError)}</span>` : ''}</td>
      <td><code class="id">${esc(c.connectionId)}</code></td></tr>`,
    )
    .join('');
  const more =
    total > list.length ? `<p class="muted">Showing the ${list.length} most recent of ${total}.</p>` : '';
  return `<table class="stack"><tr><th>owner (hashed)</th><th>provider</th><th>since</th><th>reason</th><th>connection (for <code>conduit refresh</code>)</th></tr>${rows}</table>${more}`;
}

function queuesTable(s: HealthSnapshot): string {
  const rows = s.queues
    .map(
      (
        q,
      ) => `<tr><td><span title="${esc(q.description)}">${esc(q.queue)}</span>${q.paused ? ' <span class="status error">paused</span>' : ''}</td>
      ${num(q.waiting, `queue:${q.queue}:waiting`)}${num(q.active, `queue:${q.queue}:active`)}${num(q.delayed, `queue:${q.queue}:delayed`)}${num(q.failed, `queue:${q.queue}:failed`, true)}</tr>`,
    )
    .join('');
  const lanes = s.lanes
    .map(
      (l) =>
        `<tr><td>${esc(l.provider)}</td><td data-lane="${esc(l.provider)}">${l.state === 'open' ? '<span class="status connected">open</span>' : `<span class="status error">${esc(l.state)}</span>`}</td><td>${l.state === 'open' ? '' : `reopens in ${esc(duration(l.remainingMs))}`}</td></tr>`,
    )
    .join('');
  return `<table><tr><th>queue</th><th class="num">waiting</th><th class="num">active</th><th class="num">delayed</th><th class="num">failed</th></tr>${rows}</table>
  <h2 style="margin-top:1rem">Provider lanes</h2><table><tr><th>provider</th><th>lane</th><th></th></tr>${lanes}</table>
  <p class="muted">A lane closes after a 429 (Retry-After) or repeated invalid_client; <a href="/admin/queues">Bull Board</a> shows the jobs.</p>`;
}

function notificationsSection(s: HealthSnapshot, now: Date): string {
  const n = s.notifications;
  const rows = n.undeliverable
    .map(
      (
        d,
      ) => `<tr data-row="dead"><td>${esc(d.type)}</td><td>${esc(d.provider ?? '—')}</td><td>${when(d.createdAt, now)}</td>
      <td class="num">${d.attempts}</td><td class="reason">${esc(d.lastError ?? '—')}</td><td><code class="id">${esc(d.id)}</code></td></tr>`,
    )
    .join('');
  const off = n.deliveryEnabled
    ? ''
    : `<p class="warn" data-delivery-off><b>Delivery is off:</b> CONDUIT_NOTIFY_URL is unset, so nothing is sent to the app; the ${n.pending} pending notification${n.pending === 1 ? '' : 's'} wait until it is set (with CONDUIT_NOTIFY_SECRET) and the worker restarts.</p>`;
  return `${off}<p><strong data-notifications-pending>${n.pending}</strong> pending · <strong data-notifications-dead>${n.dead}</strong> undeliverable</p>
  ${n.dead === 0 ? '' : `<table class="stack"><tr><th>type</th><th>provider</th><th>created</th><th class="num">attempts</th><th>last error</th><th>id</th></tr>${rows}</table>`}`;
}

function transitionsTable(s: HealthSnapshot, now: Date): string {
  if (s.transitions.length === 0) return '<p class="muted">No status changes yet.</p>';
  const rows = s.transitions
    .map(
      (
        t,
      ) => `<tr data-row="transition"><td>${when(t.at, now)}</td><td>${esc(t.provider)}</td><td class="mono">${esc(t.owner)}</td>
      <td>${status(t.from)} → ${status(t.to)}</td><td class="reason">${esc(t.reason)}</td></tr>`,
    )
    .join('');
  return `<table class="stack"><tr><th>when</th><th>provider</th><th>owner (hashed)</th><th>change</th><th>reason</th></tr>${rows}</table>`;
}

function datastoreBanner(s: HealthSnapshot): string {
  const down = (['postgres', 'redis'] as const).filter((d) => !s.datastores[d].ok);
  if (down.length === 0) return '';
  const items = down
    .map(
      (d) =>
        `<li data-down="${d}"><b>${d === 'postgres' ? 'Postgres' : 'Redis'} is down</b>: ${esc(s.datastores[d].detail ?? '')}</li>`,
    )
    .join('');
  return `<section class="wide down" id="datastores"><h2>Datastores</h2><ul>${items}</ul><p>The sections it feeds are empty until it answers again.</p></section>`;
}

export function renderHealthPage(s: HealthSnapshot, operator: SignedInOperator | undefined): string {
  const now = s.generatedAt;
  const c = s.connections.byStatus;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="refresh" content="60"><title>Conduit · connection health</title><style>${HEALTH_CSS}</style></head>
<body><header><h1>Conduit · connection health</h1>
<span class="meta">as of ${absolute(now)} · refreshes every minute</span>
<span class="meta">${operator ? `signed in as ${esc(operator.name)} (${esc(operator.role)})` : ''}</span>
<nav class="meta"><a href="/">home</a> · <a href="#table">connections</a> · <a href="#sync">syncs</a> · <a href="/admin/queues">Bull Board</a> · <a href="/admin/health.json">JSON</a></nav></header>
<main>${datastoreBanner(s)}${tiles(s)}
<section class="wide" id="connections"><h2>Connections by provider and status <span class="count">(${s.connections.total})</span></h2>${connectionsTable(s)}</section>
<section class="wide" id="table"><h2>Every connection <span class="count">(${s.table.total} matching)</span></h2>${connectionTable(s)}</section>
<section id="needs-reauth"><h2>needs_reauth <span class="count">(${c.needs_reauth})</span></h2>${attentionTable(s.needsReauth, c.needs_reauth, now, 'needs_reauth')}</section>
<section id="errors"><h2>error <span class="count">(${c.error})</span></h2>${attentionTable(s.errors, c.error, now, 'error')}</section>
<section id="refresh"><h2>Refreshes, last hour</h2>${refreshSection(s)}</section>
<section id="expiry"><h2>Access tokens expiring</h2>${expiryTable(s)}</section>
<section id="queues"><h2>Queues</h2>${queuesTable(s)}</section>
<section id="notifications"><h2>Notifications to the app</h2>${notificationsSection(s, now)}</section>
<section class="wide" id="sync"><h2>Last ${s.syncRuns.length} sync runs${s.table.filter.search && /^[0-9a-f-]{36}$/i.test(s.table.filter.search) ? ` of ${esc(s.table.filter.search)}` : ''} <span class="count">(search a connection id for its own)</span></h2>${syncRunsTable(s)}</section>
<section class="wide" id="transitions"><h2>Last ${s.transitions.length} status changes</h2>${transitionsTable(s, now)}</section>
</main><script>${LOCAL_TIMES_SCRIPT}</script></body></html>`;
}
