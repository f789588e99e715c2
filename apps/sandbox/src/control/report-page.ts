// The anomaly report as a page a person reads in a browser (GET /_sandbox/report with
// Accept: text/html): the verdict first, then one row per provider with its anomaly counts,
// traffic and the first examples. Clients and scripts still get the JSON at the same URL.
import { ANOMALY_KINDS, type ProviderReport } from '../report.ts';

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};
const esc = (v: unknown) => String(v ?? '').replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);

export const REPORT_PAGE_CSP =
  "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const CSS = `body{margin:0;font:15px/1.45 system-ui,sans-serif;background:#0f1318;color:#e8ecf1}
@media (prefers-color-scheme: light){body{background:#f6f7f9;color:#16191d}}
main{padding:1rem;max-width:72rem}h1{font-size:1.3rem}a{color:#7cb8ff}
.verdict{font-size:1.2rem;padding:.6rem 1rem;border-radius:6px;border-left:6px solid #46c98b;background:rgba(70,201,139,.1)}
.verdict.bad{border-left-color:#ff6b63;background:rgba(255,107,99,.12)}
.wrap{overflow-x:auto}table{border-collapse:collapse;width:100%;font-variant-numeric:tabular-nums}
th,td{text-align:right;padding:.25rem .5rem;border-bottom:1px solid #2a313b}th:first-child,td:first-child{text-align:left}
td.bad{color:#ff6b63;font-weight:700}td.zero{color:#97a3b3}li{overflow-wrap:anywhere}`;

interface Report {
  generatedAt: string;
  seed: unknown;
  uptimeSeconds: number;
  anomalies: number;
  providers: Record<string, ProviderReport>;
}

const TRAFFIC = ['tokenRequests', 'refreshes', 'apiCalls', 'rateLimited', 'tokenErrors'] as const;

function cell(n: number, bad: boolean): string {
  return `<td class="${n === 0 ? 'zero' : bad ? 'bad' : ''}">${n}</td>`;
}

export function renderReportPage(r: Report): string {
  const providers = Object.entries(r.providers);
  const head = `<tr><th>provider</th>${ANOMALY_KINDS.map((k) => `<th>${esc(k)}</th>`).join('')}<th>revoked families</th>${TRAFFIC.map((t) => `<th>${esc(t)}</th>`).join('')}</tr>`;
  const rows = providers
    .map(
      ([p, v]) =>
        `<tr data-provider="${esc(p)}"><td>${esc(p)}</td>${ANOMALY_KINDS.map((k) => cell(v.counts[k], true)).join('')}${cell(v.revokedFamiliesTotal, true)}${TRAFFIC.map((t) => cell(v.traffic[t], false)).join('')}</tr>`,
    )
    .join('');
  const examples = providers
    .flatMap(([p, v]) =>
      ANOMALY_KINDS.flatMap((k) =>
        v.examples[k].map(
          (e) =>
            `<li><b>${esc(p)}</b> · ${esc(k)} · ${esc(e.at)}: ${esc(e.detail)}${e.grantId ? ` (grant ${esc(e.grantId)})` : ''}</li>`,
        ),
      ),
    )
    .join('');
  const verdict =
    r.anomalies === 0
      ? '<p class="verdict" data-anomalies="0">No anomalies: no client did anything wrong.</p>'
      : `<p class="verdict bad" data-anomalies="${r.anomalies}">${r.anomalies} anomal${r.anomalies === 1 ? 'y' : 'ies'}: clients did something a real provider would punish.</p>`;
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sandbox report</title><style>${CSS}</style></head><body><main>
<h1>Sandbox report</h1><p>generated ${esc(r.generatedAt)} · up ${r.uptimeSeconds} s · seed ${esc(r.seed)} · <a href="?format=json">JSON</a></p>
${verdict}<div class="wrap"><table>${head}${rows}</table></div>
<h2>First examples</h2>${examples ? `<ul>${examples}</ul>` : '<p>None.</p>'}</main></body></html>`;
}
