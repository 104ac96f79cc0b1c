// Dates and numbers as the page shows them: relative text with the absolute
// time on hover.

const rtf = new Intl.RelativeTimeFormat('en', { numeric: 'auto' });
const abs = new Intl.DateTimeFormat('en', { dateStyle: 'medium', timeStyle: 'short' });
const day = new Intl.DateTimeFormat('en', { dateStyle: 'medium' });
const num = new Intl.NumberFormat('en');

const units: [Intl.RelativeTimeFormatUnit, number][] = [
  ['year', 365 * 86400_000],
  ['month', 30 * 86400_000],
  ['week', 7 * 86400_000],
  ['day', 86400_000],
  ['hour', 3600_000],
  ['minute', 60_000],
];

/** relative says "3 days ago" or "in 2 months". */
export function relative(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return '';
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return iso;
  const diff = t - now;
  for (const [unit, ms] of units) {
    if (Math.abs(diff) >= ms) return rtf.format(Math.round(diff / ms), unit);
  }
  return Math.abs(diff) < 45_000 ? 'just now' : rtf.format(Math.round(diff / 60_000), 'minute');
}

export function absolute(iso: string | null | undefined): string {
  if (!iso) return '';
  const t = Date.parse(iso);
  return Number.isNaN(t) ? iso : abs.format(t);
}

export function dateOnly(iso: string | null | undefined): string {
  if (!iso) return '';
  const t = Date.parse(iso);
  return Number.isNaN(t) ? iso : day.format(t);
}

export function count(n: number | null | undefined): string {
  return n === null || n === undefined ? '' : num.format(n);
}

/** plural picks "1 key" or "3 keys". */
export function plural(n: number, one: string, many = one + 's'): string {
  return `${count(n)} ${n === 1 ? one : many}`;
}

/** dayStart and dayEnd turn a date input's YYYY-MM-DD into RFC 3339 bounds (UTC). */
export const dayStart = (d: string) => (d ? `${d}T00:00:00Z` : '');
export const dayEnd = (d: string) => (d ? `${d}T23:59:59Z` : '');

/** localToRFC3339 turns a datetime-local value into RFC 3339. */
export function localToRFC3339(v: string): string {
  if (!v) return '';
  const t = new Date(v);
  return Number.isNaN(t.getTime()) ? '' : t.toISOString();
}
