/**
 * The recent-packets table, virtualised: it holds up to MAX_ROWS packets (newest first) but puts in
 * the page only the rows in sight, so it stays fast however many arrive.
 */
import type { PacketRow } from '../view.js';
import { clock, el, endpoint } from './format.js';

const MAX_ROWS = 20_000;
const COLUMNS = ['time', 'type', 'source', 'destination', 'protocol', 'length', 'flags', 'info'];

export class PacketsTable {
  /** newest first */
  private rows: PacketRow[] = [];
  private readonly body: HTMLDivElement;
  private rowHeight = 24;
  private scheduled = false;

  constructor(private readonly root: HTMLElement) {
    const head = el('div', undefined, 'head');
    for (const c of COLUMNS) head.append(el('span', c));
    this.body = el('div', undefined, 'body');
    root.append(head, this.body);
    root.addEventListener('scroll', () => this.schedule(), { passive: true });
    window.addEventListener('resize', () => this.schedule());
  }

  get size(): number {
    return this.rows.length;
  }

  clear(): void {
    this.rows = [];
    this.schedule();
  }

  /** New packets, oldest first (as updates carry them). */
  add(packets: PacketRow[]): void {
    if (packets.length === 0) return;
    const fresh = packets.slice(-MAX_ROWS).reverse();
    this.rows = fresh.concat(this.rows.slice(0, MAX_ROWS - fresh.length));
    this.schedule();
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    requestAnimationFrame(() => {
      this.scheduled = false;
      this.draw();
    });
  }

  private draw(): void {
    const probe = this.body.firstElementChild as HTMLElement | null;
    if (probe && probe.offsetHeight > 0) this.rowHeight = probe.offsetHeight;
    const h = this.rowHeight;
    this.body.style.height = `${this.rows.length * h}px`;
    const headHeight = (this.root.firstElementChild as HTMLElement).offsetHeight;
    const top = Math.max(0, this.root.scrollTop - headHeight);
    const first = Math.floor(top / h);
    const visible = Math.ceil(this.root.clientHeight / h) + 2;
    const slice = this.rows.slice(first, first + visible);
    const nodes: HTMLElement[] = slice.map((p, i) => {
      const row = el('div', undefined, p.error ? 'row error' : 'row');
      row.style.top = `${(first + i) * h}px`;
      row.dataset.seq = String(p.seq);
      const info = p.error ? `${p.info} | error: ${p.error}` : p.info;
      for (const text of [clock(p.time), p.type, endpoint(p.src, p.sport), endpoint(p.dst, p.dport), p.protocol, String(p.length), p.flags, info]) {
        const cell = el('span', text);
        cell.title = text;
        row.append(cell);
      }
      return row;
    });
    if (nodes.length === 0 && this.rows.length === 0) nodes.push(el('div', 'no packets yet', 'empty'));
    this.body.replaceChildren(...nodes);
  }
}
