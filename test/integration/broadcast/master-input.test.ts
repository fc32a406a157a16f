/**
 * The master's receive path under hostile input, over real UDP on loopback (issue 13.6, issue 14):
 * random and mutated replies never throw out of it; a node.py-style `I received:` echo counts as a plain
 * node, an acknowledgement as a wirelab node, and every other reply is counted as unrecognised.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { BroadcastMaster, ackFor, decodeEnvelope } from '../../../src/broadcast/index.js';
import { mulberry32, randomBytes, randomInt } from '../../helpers/random.js';
import { withDeadline } from '../../helpers/deadline.js';

test('random replies are counted as unrecognised, envelope-like ones as strays, and the real answers count', async (t) => {
  const node = createSocket('udp4');
  t.after(() => node.close());
  await new Promise<void>((resolve) => node.bind(0, '127.0.0.1', resolve));
  const master = new BroadcastMaster({ to: ['127.0.0.1'], port: node.address().port, name: 'master', ackWaitMs: 60_000, expect: 2 });
  t.after(() => master.close());
  await master.start();

  const rand = mulberry32(2024);
  const junk: Buffer[] = [];
  for (let i = 0; i < 300; i++) {
    const kind = i % 3;
    if (kind === 0) junk.push(randomBytes(rand, randomInt(rand, 0, 1500)));
    else if (kind === 1) junk.push(Buffer.concat([Buffer.from('I received: '), randomBytes(rand, randomInt(rand, 0, 100))]));
    else junk.push(Buffer.concat([Buffer.from('WLB1 '), randomBytes(rand, randomInt(rand, 0, 200))]));
  }
  const envelopeLike = junk.filter((j) => j.subarray(0, 5).toString('latin1') === 'WLB1 ').length;

  const answered = new Promise<void>((resolve) => {
    node.once('message', (msg, rinfo) => {
      const send = (b: Buffer): Promise<void> => new Promise((r) => node.send(b, rinfo.port, rinfo.address, () => r()));
      void (async () => {
        for (const j of junk) await send(j);
        await send(Buffer.concat([Buffer.from('I received: '), msg]));
        await send(ackFor(decodeEnvelope(msg), 'tester', Date.now() * 1000));
        resolve();
      })();
    });
  });
  const report = await withDeadline(master.send('hello'), 20_000, 'the report');
  await answered;
  const endpoint = `127.0.0.1:${node.address().port}`;
  assert.deepEqual([report.delivered, report.nodes, report.plainNodes], [2, ['tester'], [endpoint]]);
  assert.equal(report.unrecognisedReplies, junk.length - envelopeLike);
  const stats = master.stats();
  assert.equal(stats.strayDatagrams, envelopeLike);
  assert.deepEqual(master.nodes().map((n) => [n.name, n.kind]), [[endpoint, 'plain'], ['tester', 'wirelab']].sort((a, b) => a[0]!.localeCompare(b[0]!)));
});
