/**
 * Live capture as a tcpdump user expects it, inside a namespace this test made: no hidden default
 * filter (ping's ICMP is seen without one), `-i any` (Linux cooked frames decoded), `-c N` ends the run.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { Lab } from '../../../src/lab/hosts.js';
import { WirelabProcess } from '../../helpers/process.js';

const skip = Lab.unavailableReason() ?? (spawnSync('tcpdump', ['--version'], { stdio: 'ignore' }).status !== 0 ? 'tcpdump is not installed' : false);

async function pingWhileCapturing(lab: Lab, args: string[]): Promise<Array<Record<string, unknown>>> {
  const proc = WirelabProcess.start(['analyze', ...args, '--json'], { lab, host: 'solo' });
  try {
    await proc.waitFor((e) => e.event === 'started', 30_000, 'capture started');
    // bounded: 4 echo requests 50 ms apart to the namespace's own loopback
    await lab.exec('solo', 'ping', ['-c', '4', '-i', '0.05', '-W', '1', '127.0.0.1']);
    await proc.waitFor((e) => e.event === 'summary', 30_000, 'summary after -c');
    const { code } = await proc.exited;
    assert.equal(code, 0, proc.stderr);
    return proc.events.filter((e) => e.event === 'packet');
  } finally {
    await proc.stop('SIGKILL');
  }
}

test('live without a filter sees ICMP (no hidden "udp or tcp"); -i any decodes the cooked frames', { skip, timeout: 120_000 }, async (t) => {
  const lab = await Lab.create({ hosts: ['solo'] });
  t.after(() => lab.destroy());
  const plain = await pingWhileCapturing(lab, ['-i', 'lo', '-c', '4']);
  assert.equal(plain.length, 4);
  assert.ok(plain.every((p) => p.protocol === 'ICMP' && p.src === '127.0.0.1'), JSON.stringify(plain));
  const any = await pingWhileCapturing(lab, ['-i', 'any', '-c', '2', 'icmp']);
  assert.equal(any.length, 2);
  assert.ok(any.every((p) => p.protocol === 'ICMP' && p.type === 'IPv4' && /^Echo \(ping\) (request|reply)/.test(p.info as string)), JSON.stringify(any));
});
