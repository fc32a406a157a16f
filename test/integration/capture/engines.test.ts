/**
 * `wirelab analyze` live with each capture engine (tcpdump, dumpcap) inside a namespace this test
 * made: every datagram sent is seen, Ctrl-C (SIGINT) ends with a summary that carries the kernel's
 * drop count; and without --interface the first up interface is chosen.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { Lab } from '../../../src/lab/hosts.js';
import { WirelabProcess } from '../../helpers/process.js';

const DATAGRAMS = 50;
const PORT = 40000;
const missing = ['tcpdump', 'dumpcap'].find((tool) => spawnSync(tool, ['--version'], { stdio: 'ignore' }).status !== 0);
const skip = Lab.unavailableReason() ?? (missing ? `${missing} is not installed` : false);

/** Send `count` datagrams to 127.0.0.1:PORT from inside the host (bash's /dev/udp, no extra process per datagram). */
async function sendDatagrams(lab: Lab, host: string, count: number): Promise<void> {
  await lab.exec(host, 'bash', ['-c', `for i in $(seq ${count}); do printf 'datagram %s' "$i" > /dev/udp/127.0.0.1/${PORT}; done`]);
}

for (const engine of ['tcpdump', 'dumpcap'] as const) {
  test(`--engine ${engine}: every datagram on a namespace's lo, then SIGINT prints the summary with the kernel's drop count`, { skip, timeout: 120_000 }, async (t) => {
    const lab = await Lab.create({ hosts: ['solo'] });
    t.after(() => lab.destroy());
    const proc = WirelabProcess.start(['analyze', '--interface', 'lo', '--engine', engine, '--filter', `udp and dst port ${PORT}`, '--json'], { lab, host: 'solo' });
    t.after(() => proc.stop('SIGKILL'));
    const started = await proc.waitFor((e) => e.event === 'started', 30_000, 'capture started');
    assert.equal(started.engine, engine);
    await sendDatagrams(lab, 'solo', DATAGRAMS);
    await proc.waitForCount((e) => e.event === 'packet', DATAGRAMS, 30_000);
    const exit = await proc.stop('SIGINT', 20_000);
    assert.equal(exit.code, 130, proc.stderr); // 128 + SIGINT after a clean stop (docs/cli.md)
    const packets = proc.events.filter((e) => e.event === 'packet');
    assert.equal(packets.length, DATAGRAMS);
    assert.ok(packets.every((p) => p.protocol === 'UDP' && p.dport === PORT && p.src === '127.0.0.1'));
    // JSON time: epoch seconds as a number, from a live capture of now
    assert.ok(packets.every((p) => typeof p.time === 'number' && Math.abs(p.time - Date.now() / 1000) < 600));
    const summary = proc.events.at(-1)!;
    assert.deepEqual({ ...summary, time: undefined, receivedByFilter: undefined }, { event: 'summary', time: undefined, packets: DATAGRAMS, bytes: summary.bytes, droppedByKernel: 0, receivedByFilter: undefined });
    assert.ok((summary.receivedByFilter as number) >= DATAGRAMS, `received ${String(summary.receivedByFilter)}`);
  });
}

test('without --interface the first up interface with an address is captured; with none up, one clear error', { skip, timeout: 120_000 }, async (t) => {
  const lab = await Lab.create({ hosts: ['a'] });
  t.after(() => lab.destroy());
  const proc = WirelabProcess.start(['analyze', '--json', '--filter', 'icmp'], { lab, host: 'a' });
  t.after(() => proc.stop('SIGKILL'));
  const started = await proc.waitFor((e) => e.event === 'started', 30_000, 'capture started');
  assert.equal(started.interface, 'eth0');
  // the exit signal too: once, under the whole suite's load, this process was gone with code null
  assert.deepEqual(await proc.stop('SIGINT', 20_000), { code: 130, signal: null }, proc.stderr);

  await lab.setLink('a', false);
  const down = WirelabProcess.start(['analyze', '--json'], { lab, host: 'a' });
  t.after(() => down.stop('SIGKILL'));
  const exit = await down.exited;
  assert.equal(exit.code, 2, 'a usage error');
  assert.match(down.stderr, /no non-loopback interface is up/);
});

/** Send `count` datagrams to 127.0.0.1:PORT from inside the host, as fast as one node process can. */
async function burst(lab: Lab, host: string, count: number): Promise<void> {
  const script = `const s = require('node:dgram').createSocket('udp4'); let n = 0;
    const next = () => { if (n++ < ${count}) s.send('burst ' + n, ${PORT}, '127.0.0.1', next); else s.close(); }; next();`;
  await lab.exec(host, process.execPath, ['-e', script]);
}

for (const engine of ['tcpdump', 'dumpcap'] as const) {
  test(`--engine ${engine}: a stop right after the traffic still delivers every packet (the kernel's last block is drained)`, { skip, timeout: 120_000 }, async (t) => {
    const count = 2000;
    const lab = await Lab.create({ hosts: ['solo'] });
    t.after(() => lab.destroy());
    const proc = WirelabProcess.start(['analyze', '--interface', 'lo', '--engine', engine, '--filter', `udp and dst port ${PORT}`, '--stats', '--json'], { lab, host: 'solo' });
    t.after(() => proc.stop('SIGKILL'));
    await proc.waitFor((e) => e.event === 'started', 30_000, 'capture started');
    await burst(lab, 'solo', count);
    const exit = await proc.stop('SIGINT', 20_000);
    assert.equal(exit.code, 130, proc.stderr);
    const summary = proc.events.find((e) => e.event === 'summary');
    assert.equal(summary?.packets, count, 'every datagram sent before the stop was captured');
    assert.equal(summary?.droppedByKernel, 0);
  });
}
