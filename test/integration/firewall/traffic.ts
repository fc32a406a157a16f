/**
 * Real traffic across a firewall inside a lab: a listener on the firewalled host (UDP and TCP ports,
 * one JSON line per datagram or connection) and probes from another host.
 */
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import type { Lab } from '../../../src/lab/hosts.js';

/** Listens on the given UDP and TCP ports of every address; prints `{"ready":true}`, then what arrives. */
const LISTENER = `
const dgram = require('node:dgram'), net = require('node:net');
const [udp, tcp] = process.argv.slice(1).map((s) => s.split(',').filter(Boolean).map(Number));
let pending = udp.length + tcp.length;
const ready = () => { if (--pending === 0) console.log(JSON.stringify({ ready: true })); };
for (const port of udp) {
  const s = dgram.createSocket('udp4');
  s.on('message', (m, r) => console.log(JSON.stringify({ proto: 'udp', port, text: m.toString(), from: r.address })));
  s.bind(port, ready);
}
for (const port of tcp) {
  const s = net.createServer((c) => { c.on('error', () => {}); console.log(JSON.stringify({ proto: 'tcp', port })); c.end('hi'); });
  s.listen(port, ready);
}
setTimeout(() => process.exit(0), 60000).unref();
`;

/**
 * Sends one datagram to each UDP target and tries one TCP connection to each TCP target (a deadline of
 * timeoutMs each); prints {tcp: {port: true|false}} at the end.
 */
const PROBE = `
const dgram = require('node:dgram'), net = require('node:net');
const [address, udpList, tcpList, timeoutMs] = process.argv.slice(1);
const s = dgram.createSocket('udp4');
s.bind(() => {
  s.setBroadcast(true);
  const targets = udpList.split(',').filter(Boolean).map((t) => t.split(':'));
  let left = targets.length;
  const next = () => { if (left === 0) { s.close(); tcpAll(); } };
  for (const [host, port] of targets) s.send('probe ' + port, Number(port), host, () => { left--; next(); });
  next();
});
async function tcpAll() {
  const result = {};
  for (const port of tcpList.split(',').filter(Boolean)) {
    result[port] = await new Promise((resolve) => {
      const c = net.connect({ host: address, port: Number(port) });
      const t = setTimeout(() => { c.destroy(); resolve(false); }, Number(timeoutMs));
      c.once('connect', () => { clearTimeout(t); c.destroy(); resolve(true); });
      c.once('error', () => { clearTimeout(t); resolve(false); });
    });
  }
  console.log(JSON.stringify({ tcp: result }));
}
`;

export interface Arrival {
  proto: 'udp' | 'tcp';
  port: number;
  text?: string;
}

export interface Listener {
  arrivals: Arrival[];
  /** resolves when an arrival matching the predicate has come (deadline: timeoutMs) */
  waitFor(predicate: (a: Arrival) => boolean, timeoutMs: number): Promise<Arrival>;
  stop(): Promise<void>;
}

export async function listen(lab: Lab, host: string, udp: number[], tcp: number[]): Promise<Listener> {
  const child = lab.spawn(host, process.execPath, ['-e', LISTENER, udp.join(','), tcp.join(',')], { stdio: ['ignore', 'pipe', 'inherit'] });
  const arrivals: Arrival[] = [];
  const waiters = new Set<() => void>();
  let ready: () => void = () => undefined;
  const isReady = new Promise<void>((resolve) => (ready = resolve));
  createInterface({ input: child.stdout! }).on('line', (line) => {
    const parsed = JSON.parse(line) as Arrival & { ready?: boolean };
    if (parsed.ready) return ready();
    arrivals.push(parsed);
    for (const waiter of waiters) waiter();
  });
  const exited = once(child, 'exit');
  await Promise.race([isReady, exited.then(() => Promise.reject(new Error('listener exited before it was ready')))]);
  return {
    arrivals,
    waitFor(predicate, timeoutMs) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          const found = arrivals.find(predicate);
          if (!found) return;
          waiters.delete(check);
          clearTimeout(timer);
          resolve(found);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no such arrival within ${timeoutMs} ms; got ${JSON.stringify(arrivals)}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await exited;
      }
    },
  };
}

/** From `host`: one datagram to each `addr:port` of udp, then a TCP connection to each tcp port of `address`. */
export async function probe(lab: Lab, host: string, address: string, udp: string[], tcp: number[], timeoutMs = 3000): Promise<Record<string, boolean>> {
  const stdout = await lab.exec(host, process.execPath, ['-e', PROBE, address, udp.join(','), tcp.join(','), String(timeoutMs)]);
  return (JSON.parse(stdout.trim().split('\n').pop()!) as { tcp: Record<string, boolean> }).tcp;
}
