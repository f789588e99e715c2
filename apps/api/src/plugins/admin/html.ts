// The few helpers the server-rendered admin pages need: escaping every value that reaches the
// markup, and times an operator reads at a glance.

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

export function esc(value: unknown): string {
  return String(value ?? '').replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);
}

/** `2026-11-21 03:04 UTC` */
export function utc(at: Date): string {
  return `${at.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** `4 min ago`, `3 h ago`, `2 d ago` */
export function ago(at: Date, now: Date): string {
  return `${duration(now.getTime() - at.getTime())} ago`;
}

export function duration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  if (s < 3_600) return `${Math.round(s / 60)} min`;
  if (s < 172_800) return `${Math.round(s / 3_600)} h`;
  return `${Math.round(s / 86_400)} d`;
}

/** A time element: an exact time, shown in UTC until the page's script puts it in the viewer's zone. */
export function absolute(at: Date): string {
  return `<time datetime="${at.toISOString()}" data-absolute title="${esc(utc(at))}">${esc(utc(at))}</time>`;
}

/** A time element: relative text, exact time (the viewer's zone and UTC) on hover. */
export function when(at: Date, now: Date): string {
  return `<time datetime="${at.toISOString()}" title="${esc(utc(at))}">${esc(ago(at, now))}</time>`;
}

export function percent(ratio: number | null): string {
  if (ratio === null) return '—';
  // one decimal, never rounded up to a perfect 100 %
  const text = (Math.floor(ratio * 1000) / 10).toFixed(1);
  return `${text.endsWith('.0') ? text.slice(0, -2) : text}%`;
}
