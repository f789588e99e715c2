// Times as an operator reads them at a glance: "in 42 min", "3 h ago", "just now",
// "in under a minute".

export function relativeTime(at: Date | null | undefined, now: Date = new Date()): string {
  if (!at) return '—';
  const ms = at.getTime() - now.getTime();
  const s = Math.round(Math.abs(ms) / 1000);
  if (s < 45) return ms > 0 ? 'in under a minute' : 'just now';
  const text =
    s < 3_600
      ? `${Math.max(1, Math.round(s / 60))} min`
      : s < 172_800
        ? `${Math.round(s / 3_600)} h`
        : `${Math.round(s / 86_400)} d`;
  return ms > 0 ? `in ${text}` : `${text} ago`;
}
