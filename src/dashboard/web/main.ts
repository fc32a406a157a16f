/**
 * The dashboard page: one WebSocket to the server, whose updates (aggregated, at most a few per
 * second) redraw every view. The filter lives in the URL (?src=&dst=&protocol=), so a view can be
 * shared or reloaded. All text from the server is set with textContent: nothing is parsed as markup.
 */
import './style.css';
import type { DashboardUpdate } from '../update.js';
import { Charts } from './charts.js';
import { bytes, clock, count, el, endpoint, table } from './format.js';
import { PacketsTable } from './packets-table.js';

type Filter = { src?: string; dst?: string; protocol?: string; bpf?: string };
/** view filters (the server's views) and the live capture's BPF, all in the URL */
const FIELDS = ['src', 'dst', 'protocol', 'bpf'] as const;
const VIEW_FIELDS = ['src', 'dst', 'protocol'] as const;
/** Bytes of an upload, at most (the server's limit, checked here first for a quicker message). */
const MAX_UPLOAD = 64 * 1024 * 1024;

const $ = <T extends HTMLElement = HTMLElement>(id: string): T => document.getElementById(id) as T;

function filterFromUrl(): Filter {
  const params = new URLSearchParams(location.search);
  const f: Filter = {};
  for (const k of FIELDS) {
    const v = params.get(k);
    if (v) f[k] = v;
  }
  return f;
}

function query(f: Filter, fields: readonly (keyof Filter)[] = VIEW_FIELDS): string {
  const params = new URLSearchParams();
  for (const k of fields) if (f[k]) params.set(k, f[k]);
  return params.toString();
}

/** The live capture's BPF, as the server runs it (undefined: not live) */
let liveBpf: string | undefined;

const theme = (localStorage.getItem('wirelab-theme') ?? (matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light')) as 'light' | 'dark';
document.documentElement.dataset.theme = theme;
const charts = new Charts(theme);
const packets = new PacketsTable($('packets'));
let filter = filterFromUrl();
let socket: WebSocket | undefined;
let lastSeq = -1;
let paused = false;
let updates = 0;
let retry = 500;

function showFilter(): void {
  const form = $<HTMLFormElement>('filters');
  for (const k of FIELDS) (form.elements.namedItem(k) as HTMLInputElement).value = filter[k] ?? '';
  $<HTMLAnchorElement>('download').href = `/api/capture.pcapng${query(filter) ? `?${query(filter)}` : ''}`;
}

function message(text: string, ok = false): void {
  const m = $('message');
  m.textContent = text;
  m.className = ok ? 'message ok' : 'message';
}

function connect(): void {
  const ws = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws?${query(filter)}`);
  socket = ws;
  ws.onopen = () => (retry = 500);
  ws.onmessage = (e) => {
    const m = JSON.parse(String(e.data)) as DashboardUpdate | { type: 'error'; message: string };
    if (m.type === 'error') message(m.message);
    else render(m);
  };
  ws.onclose = () => {
    if (socket !== ws) return;
    $('source').textContent = 'disconnected: reconnecting…';
    setTimeout(connect, retry);
    retry = Math.min(retry * 2, 10_000);
  };
}

function setFilter(next: Filter): void {
  filter = next;
  const all = query(filter, FIELDS);
  history.replaceState(null, '', `${location.pathname}${all ? `?${all}` : ''}`);
  showFilter();
  message('');
  const { bpf, ...view } = filter;
  socket?.send(JSON.stringify({ type: 'filter', filter: view }));
  if (liveBpf !== undefined && (bpf ?? '') !== liveBpf) applyBpf(bpf ?? '').catch((err: unknown) => message(`BPF: ${String(err)}`));
}

function render(u: DashboardUpdate): void {
  updates++;
  document.body.dataset.updates = String(updates);
  if (query(u.filter) !== query(filter)) return; // an update for the previous filter, still in flight
  if (u.lastSeq < lastSeq || (u.packets[0] && u.packets[0].seq <= lastSeq)) packets.clear();
  lastSeq = u.lastSeq;
  paused = u.paused;
  const pause = $('pause');
  pause.textContent = paused ? 'Resume' : 'Pause';
  pause.setAttribute('aria-pressed', String(paused));
  renderSource(u);
  renderCards(u);
  packets.add(u.packets);
  heavy(u);
  $('packet-note').textContent = u.missed > 0 ? `(this filter was first used after ${count(u.missed)} packets had left the history: they are not counted)` : `${count(packets.size)} shown, newest first`;
  const list = $('protocols');
  list.replaceChildren(...['tcp', 'udp', 'icmp', ...u.stats.protocols.map((p) => p.protocol)].map((p) => Object.assign(el('option'), { value: p })));
}

/** ms between redraws of the charts and lists at most: they cost the most, and a second is readable */
const HEAVY_MS = 1000;
let heavyAt = Number.NEGATIVE_INFINITY;
let heavyTimer: ReturnType<typeof setTimeout> | undefined;
let heavyLatest: DashboardUpdate | undefined;

/** Charts and lists, at most once per HEAVY_MS (the latest update wins; the cards and packets stay live). */
function heavy(u: DashboardUpdate): void {
  heavyLatest = u;
  const wait = heavyAt + HEAVY_MS - performance.now();
  if (wait > 0 && lastFilterKey === query(u.filter)) {
    heavyTimer ??= setTimeout(() => {
      heavyTimer = undefined;
      if (heavyLatest) heavy(heavyLatest);
    }, wait);
    return;
  }
  heavyAt = performance.now();
  lastFilterKey = query(u.filter);
  heavyLatest = undefined;
  charts.render(u);
  document.body.dataset.drawnSeq = String(u.lastSeq); // for tests: what the charts show
  renderAnomalies(u);
  renderTalkers(u);
  renderFlows(u);
}
let lastFilterKey = '';

function renderSource(u: DashboardUpdate): void {
  const s = u.source;
  liveBpf = s.kind === 'live' ? (s.bpf ?? '') : undefined;
  ($<HTMLFormElement>('filters').elements.namedItem('bpf') as HTMLInputElement).disabled = liveBpf === undefined;
  const node = $('source');
  const what = s.kind === 'live' ? `live on ${s.name}${s.bpf ? ` (${s.bpf})` : ''}` : s.kind === 'none' ? 'no source: open a capture file' : `${s.kind} ${s.name}`;
  const parts: HTMLElement[] = [el('span', `${what} · `), el('span', u.paused ? 'paused' : s.state, 'state')];
  if (s.error) parts.push(el('span', ` · ${s.error}`, 'error'));
  if (u.detector && u.detector.threshold === null && u.detector.baseline !== null) parts.push(el('span', ` · learning the baseline: ${count(u.detector.baseline)} / ${count(u.detector.baselineTarget ?? 0)} packets`));
  node.replaceChildren(...parts);
}

function renderCards(u: DashboardUpdate): void {
  const s = u.stats;
  $('total-packets').textContent = count(s.packets);
  $('total-bytes').textContent = bytes(s.bytes);
  $('avg-size').textContent = s.packets > 0 ? `${s.avgPacketSize.toFixed(1)} B` : '–';
  const n = s.series.packets.length;
  // the last complete second (the newest may still be filling)
  const i = Math.max(0, n - 2);
  $('rate').textContent = n > 0 ? `${count(s.series.packets[i] ?? 0)} pkt/s · ${bytes(s.series.bytes[i] ?? 0)}/s` : '–';
  $('anomaly-count').textContent = count(u.anomalies.rows.length === 100 ? u.anomalies.total : u.anomalies.rows.length);
  $('flow-count').textContent = `${count(u.flows.held)} active · ${count(u.flows.finishedTotal)} ended`;
}

function renderAnomalies(u: DashboardUpdate): void {
  const rows = u.anomalies.rows.map((a) => [
    clock(a.time),
    a.kind,
    a.score.toFixed(3),
    `${endpoint(a.src, a.sport)} → ${endpoint(a.dst, a.dport)}`,
    a.protocol,
    a.features.map((f) => `${f.name}=${Number(f.value.toPrecision(4))}`).join(', '),
  ]);
  const node = $('anomalies');
  if (rows.length === 0) node.replaceChildren(el('div', u.detector === null ? 'anomaly detection is off' : 'none found', 'empty'));
  else {
    const t = table(['time', 'kind', 'score', 'endpoints', 'protocol', 'features that stood out'], rows, new Set([2]));
    t.querySelectorAll('tbody td:nth-child(3)').forEach((td) => td.classList.add('score'));
    node.replaceChildren(t);
  }
}

function renderTalkers(u: DashboardUpdate): void {
  const src = u.stats.topSources.byBytes.slice(0, 10);
  const dst = u.stats.topDestinations.byBytes.slice(0, 10);
  const rows: string[][] = [];
  for (let i = 0; i < Math.max(src.length, dst.length); i++) {
    rows.push([src[i]?.address ?? '', src[i] ? bytes(src[i]!.value) : '', dst[i]?.address ?? '', dst[i] ? bytes(dst[i]!.value) : '']);
  }
  $('talkers').replaceChildren(rows.length ? table(['source', 'bytes sent', 'destination', 'bytes received'], rows, new Set([1, 3])) : el('div', 'no traffic yet', 'empty'));
}

function renderFlows(u: DashboardUpdate): void {
  const all = [...u.flows.active, ...u.flows.finished].slice(0, 100);
  const rows = all.map((f) => [
    f.protocol,
    endpoint(f.src, f.sport),
    endpoint(f.dst, f.dport),
    f.connState,
    f.ended ? 'ended' : 'active',
    `${f.duration.toFixed(3)} s`,
    count(f.origPackets + f.respPackets),
    bytes(f.origBytes + f.respBytes),
  ]);
  $('flows').replaceChildren(rows.length ? table(['protocol', 'originator', 'responder', 'state', '', 'duration', 'packets', 'bytes'], rows, new Set([5, 6, 7])) : el('div', 'no flows yet', 'empty'));
}

/** Restart the live capture with a new BPF expression (the server says if tcpdump refuses it). */
async function applyBpf(bpf: string): Promise<void> {
  message(`restarting the capture with '${bpf}'…`, true);
  const res = await fetch('/api/live', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ bpf }) });
  const body = (await res.json().catch(() => ({}))) as { error?: string };
  message(res.ok ? `capturing with '${bpf || 'no filter'}'` : `BPF: ${body.error ?? `HTTP ${res.status}`}`, res.ok);
}

async function upload(file: File): Promise<void> {
  if (file.size > MAX_UPLOAD) {
    message(`${file.name}: too large (the limit is ${MAX_UPLOAD / 1024 / 1024} MiB)`);
    return;
  }
  message(`reading ${file.name}…`, true);
  const res = await fetch('/api/upload', { method: 'POST', headers: { 'content-type': 'application/octet-stream', 'x-filename': encodeURIComponent(file.name) }, body: file });
  const body = (await res.json().catch(() => ({ error: `upload failed (HTTP ${res.status})` }))) as { error?: string; packets?: number };
  if (!res.ok) message(`${file.name}: ${body.error ?? `HTTP ${res.status}`}`);
  else message(`${file.name}: ${count(body.packets ?? 0)} packets`, true);
}

$<HTMLFormElement>('filters').addEventListener('submit', (e) => {
  e.preventDefault();
  const form = e.target as HTMLFormElement;
  const next: Filter = {};
  for (const k of FIELDS) {
    const v = (form.elements.namedItem(k) as HTMLInputElement).value.trim();
    if (v) next[k] = v;
  }
  setFilter(next);
});
$('clear').addEventListener('click', () => setFilter({}));
$('pause').addEventListener('click', () => socket?.send(JSON.stringify({ type: paused ? 'resume' : 'pause' })));
$<HTMLInputElement>('upload').addEventListener('change', (e) => {
  const input = e.target as HTMLInputElement;
  const file = input.files?.[0];
  input.value = '';
  if (file) upload(file).catch((err: unknown) => message(`upload failed: ${String(err)}`));
});
$('theme').addEventListener('click', () => {
  const next = document.documentElement.dataset.theme === 'dark' ? 'light' : 'dark';
  document.documentElement.dataset.theme = next;
  localStorage.setItem('wirelab-theme', next);
  charts.setTheme(next);
});
showFilter();
connect();
