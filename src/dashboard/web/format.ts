/** Number and time text for the page. Everything here returns plain strings, set with textContent. */

const grouped = new Intl.NumberFormat('en-US');

export function count(n: number): string {
  return grouped.format(Math.round(n));
}

/** bytes with a binary unit */
export function bytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 ? Math.round(v) : v.toFixed(v >= 100 ? 0 : 1)} ${units[i]}`;
}

/** HH:MM:SS.mmm of a time in seconds since the epoch, local time */
export function clock(seconds: number): string {
  const d = new Date(seconds * 1000);
  const pad = (n: number, w = 2): string => String(n).padStart(w, '0');
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

export function endpoint(address: string | null, port: number | null): string {
  const host = address ?? '?';
  if (port === null) return host;
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** An element with text (never markup: everything shown may come off the wire). */
export function el<K extends keyof HTMLElementTagNameMap>(tag: K, text?: string, className?: string): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  if (className) node.className = className;
  return node;
}

/** A table of rows built from text cells; `num` columns are right-aligned. */
export function table(headers: string[], rows: string[][], num: Set<number> = new Set()): HTMLTableElement {
  const t = el('table');
  const head = el('tr');
  headers.forEach((h, i) => head.append(el('th', h, num.has(i) ? 'num' : undefined)));
  t.append(el('thead'));
  t.tHead!.append(head);
  const body = el('tbody');
  for (const row of rows) {
    const tr = el('tr');
    row.forEach((cell, i) => tr.append(el('td', cell, num.has(i) ? 'num' : undefined)));
    body.append(tr);
  }
  t.append(body);
  return t;
}
