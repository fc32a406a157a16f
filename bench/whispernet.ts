/**
 * WhisperNet record splitter benchmark: how fast our grammar-driven splitter (splitter.ts) reads a
 * stream of padded gmessages, beside, in the same run, (a) the original's own way (cut every 1024
 * bytes, strip, split on ':'), which is only right when reads happen to align, and (b) wirelab's
 * length-prefixed FrameDecoder on frames carrying the same 1024-byte texts (the same byte volume).
 * Run: node --import tsx bench/whispernet.ts [--records N] [--chunk BYTES]
 */
import { loadavg } from 'node:os';
import { RecordSplitter, encodeRecord, parseRecord } from '../src/gossip/whispernet/index.js';
import { FrameDecoder, encodeFrame } from '../src/gossip/index.js';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}
const records = arg('--records', 50_000);
const chunkBytes = arg('--chunk', 64 * 1024);

const texts = Array.from({ length: records }, (_, i) => ({ type: 'gmessage' as const, ts: (1_764_630_000 + i / 10).toFixed(3), origin: { host: 'localhost', port: 5000 + (i % 100) }, text: `message ${i % 10} from 127.0.0.1#${5000 + (i % 100)}` }));
const stream = Buffer.concat(texts.map((m) => encodeRecord(m)));
const framed = Buffer.concat(texts.map((m) => encodeFrame(encodeRecord(m).toString())));

function chunks(buf: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0; at < buf.length; at += chunkBytes) out.push(buf.subarray(at, at + chunkBytes));
  return out;
}

function time(label: string, bytes: number, run: () => number): { label: string; ms: number; mbps: number; rps: number } {
  run(); // warm-up
  const start = process.hrtime.bigint();
  const n = run();
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (n !== records) throw new Error(`${label}: ${n} records, expected ${records}`);
  return { label, ms, mbps: bytes / 1e6 / (ms / 1000), rps: n / (ms / 1000) };
}

const ours = time('RecordSplitter + parseRecord', stream.length, () => {
  const s = new RecordSplitter('link');
  let n = 0;
  for (const c of chunks(stream)) for (const r of s.push(c)) if (parseRecord(r).type === 'gmessage') n++;
  return n;
});
const naive = time("the original's way: 1024-byte slices, strip, split(':')", stream.length, () => {
  let n = 0;
  for (let at = 0; at < stream.length; at += 1024) {
    const parts = stream.toString('utf8', at, at + 1024).trim().split(':');
    if (parts[0] === 'gmessage' && parts.length >= 5) n++;
  }
  return n;
});
const frames = time('wirelab FrameDecoder (same texts, length-prefixed)', framed.length, () => {
  const d = new FrameDecoder();
  let n = 0;
  for (const c of chunks(framed)) n += d.push(c).length;
  return n;
});

console.log(`records ${records} x 1024 bytes, chunks of ${chunkBytes} bytes, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
console.log('| reader | ms | MB/s | records/s | ratio to ours |');
console.log('| --- | --- | --- | --- | --- |');
for (const r of [ours, naive, frames]) console.log(`| ${r.label} | ${r.ms.toFixed(0)} | ${r.mbps.toFixed(0)} | ${Math.round(r.rps)} | ${(ours.ms / r.ms).toFixed(2)} |`);
