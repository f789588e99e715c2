// The health page's only stylesheet, inlined: dark by default (it is read at night), light when
// the operator's system asks for it; large numbers for what needs action.
export const HEALTH_CSS = `
:root { color-scheme: dark light; --bg:#0f1318; --panel:#171c23; --line:#2a313b; --text:#e8ecf1;
  --muted:#97a3b3; --red:#ff6b63; --amber:#f2b84b; --green:#46c98b; --link:#7cb8ff; }
@media (prefers-color-scheme: light) { :root { --bg:#f6f7f9; --panel:#fff; --line:#d9dee5; --text:#16191d;
  --muted:#5b6675; --red:#c62828; --amber:#a86400; --green:#1e7a4c; --link:#0b5cc2; } }
* { box-sizing: border-box; }
body { margin:0; background:var(--bg); color:var(--text); font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif; }
header { display:flex; flex-wrap:wrap; gap:.5rem 1.5rem; align-items:baseline; padding:1rem 1.5rem; border-bottom:1px solid var(--line); }
header h1 { font-size:1.3rem; margin:0; }
header .meta { color:var(--muted); }
a { color:var(--link); }
main { padding:1rem 1.5rem 3rem; display:grid; gap:1.25rem; grid-template-columns:repeat(auto-fit,minmax(min(100%,34rem),1fr)); }
section { background:var(--panel); border:1px solid var(--line); border-radius:8px; padding:1rem 1.25rem; overflow-x:auto; }
section.wide { grid-column:1/-1; }
h2 { font-size:1.05rem; margin:0 0 .75rem; }
h2 .count { color:var(--muted); font-weight:normal; }
.tiles { grid-column:1/-1; display:grid; gap:.75rem; grid-template-columns:repeat(auto-fit,minmax(11rem,1fr)); }
.tile { background:var(--panel); border:1px solid var(--line); border-left:6px solid var(--green); border-radius:8px; padding:.6rem .9rem; }
.tile .n { font-size:2rem; font-weight:700; font-variant-numeric:tabular-nums; line-height:1.1; }
.tile .l { color:var(--muted); font-size:.9rem; }
section.down { border-left:4px solid var(--red); } section.down b { color:var(--red); }
.tile.bad { border-left-color:var(--red); } .tile.bad .n { color:var(--red); }
.tile.warn { border-left-color:var(--amber); } .tile.warn .n { color:var(--amber); }
.tile.idle { border-left-color:var(--line); }
table { border-collapse:collapse; width:100%; font-variant-numeric:tabular-nums; }
th, td { text-align:left; padding:.3rem .6rem; border-bottom:1px solid var(--line); vertical-align:top; }
th { color:var(--muted); font-weight:600; font-size:.85rem; }
td.num, th.num { text-align:right; }
td.zero { color:var(--muted); }
td.bad { color:var(--red); font-weight:700; }
td.warn { color:var(--amber); font-weight:700; }
tr.total td { font-weight:700; border-top:2px solid var(--line); }
code, .mono { font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace; font-size:.85rem; }
.muted { color:var(--muted); }
.reason { min-width:12rem; max-width:36rem; overflow-wrap:anywhere; }
.status { display:inline-block; padding:0 .45rem; border-radius:4px; font-size:.85rem; background:var(--line); }
.status.connected { color:var(--green); } .status.needs_reauth, .status.error { color:var(--red); }
.status.token_expired { color:var(--amber); }
.chart { max-width:100%; height:auto; }
.chart text { fill:var(--text); font-size:12px; } .chart .axis { stroke:var(--muted); } .chart .grid { stroke:var(--line); stroke-dasharray:2 3; }
.chart .unit, .chart .note { fill:var(--muted); }
code.id { user-select:all; overflow-wrap:anywhere; font-size:.8rem; }
.token.ok { color:var(--green); } .token.warn, p.warn b { color:var(--amber); } .token.bad, span.bad { color:var(--red); font-weight:700; }
form.filters { display:flex; flex-wrap:wrap; gap:.5rem; align-items:center; margin:0 0 .75rem; }
form.filters input, form.filters select, form.filters button { font:inherit; color:var(--text); background:var(--bg); border:1px solid var(--line); border-radius:4px; padding:.25rem .5rem; max-width:100%; }
form.filters input { flex:1 1 16rem; }
nav.pager { display:flex; flex-wrap:wrap; gap:1rem; margin-top:.6rem; }
@media (max-width: 40rem) {
  header, main { padding-left:.6rem; padding-right:.6rem; }
  .tiles { grid-template-columns:repeat(2,minmax(0,1fr)); gap:.5rem; }
  .tile .n { font-size:1.5rem; } .tile .l { font-size:.8rem; }
  section { padding:.75rem .6rem; }
  table.stack, table.stack tbody, table.stack tr, table.stack td { display:block; width:100%; }
  table.stack thead, table.stack tr:first-child:has(th) { display:none; }
  table.stack tr { border-bottom:2px solid var(--line); padding:.35rem 0; }
  table.stack td { border:0; padding:.1rem 0; text-align:left; }
  table.stack td[data-label]::before { content:attr(data-label) ": "; color:var(--muted); font-size:.8rem; }
  .reason { min-width:0; }
}
.charts { display:flex; flex-wrap:wrap; gap:1.5rem; align-items:flex-start; }
`;
