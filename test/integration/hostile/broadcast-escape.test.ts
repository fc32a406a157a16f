/**
 * Issue 13, broadcast 4: terminal escape injection. Envelope bodies and plain text carrying ESC/OSC
 * sequences, C1 controls and carriage returns reach the node's human output escaped (`\x1b`); the
 * JSON output keeps the raw text. Real CLI processes in network namespaces.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { encodeEnvelope } from '../../../src/broadcast/index.js';
import { WirelabProcess } from '../../helpers/process.js';
import { withDeadline } from '../../helpers/deadline.js';
import { attack, buildLab, skipReason, startNode } from './broadcast-helpers.js';

const HOSTILE = '\x1b]0;pwned\x07\x1b[2J\u009b31mred\rfake line\x1b[0m';
// Plain text with C0 controls other than tab, CR and LF is not taken for text at all; C1 controls and CR are.
const PLAIN = 'plain:\u009b2J\u009d0;pwned\u009c\rfake line';

test('control characters from the wire are escaped in human output and raw in JSON', { skip: skipReason }, async (t) => {
  const lab = await buildLab(t, ['human', 'json', 'attacker']);
  const human = WirelabProcess.start(['broadcast', 'node', '--name', 'human'], { lab, host: 'human' });
  t.after(() => human.stop());
  let raw = '';
  human.child.stdout!.setEncoding('utf8');
  human.child.stdout!.on('data', (chunk: string) => (raw += chunk));
  /** Wait (bounded) until the human output satisfies `done`: it has no events to wait for. */
  const output = (done: () => boolean, what: string): Promise<void> =>
    withDeadline(new Promise<void>((resolve) => {
      const check = (): void => void (done() && (human.child.stdout!.off('data', check), resolve()));
      human.child.stdout!.on('data', check);
      check();
    }), 10_000, () => `${what}; output so far: ${JSON.stringify(raw)}`);
  const json = await startNode(t, lab, 'json');
  const envelope = encodeEnvelope({ kind: 'M', session: randomBytes(8).toString('hex'), seq: 1, timeUs: Date.now() * 1000, name: 'master', body: Buffer.from(`env:${HOSTILE}`) });
  await output(() => raw.includes('listening'), 'listening');
  await attack(lab, 'attacker', { dst: lab.host('attacker').broadcast, payloads: [Buffer.from(PLAIN), envelope], count: 2 });
  await json.waitForCount((e) => e.event === 'message', 2);
  assert.deepEqual(json.events.filter((e) => e.event === 'message').map((e) => e.text), [PLAIN, `env:${HOSTILE}`], 'JSON keeps the raw text');
  await output(() => raw.includes('plain:') && raw.includes('env:'), 'both messages printed');
  await human.stop();
  // eslint-disable-next-line no-control-regex
  assert.doesNotMatch(raw, /[\x00-\x08\x0b-\x1f\x7f-\x9f]/, 'no control character but the line feeds between events');
  const escaped = '\\x1b]0;pwned\\x07\\x1b[2J\\x9b31mred\\x0dfake line\\x1b[0m';
  assert.ok(raw.includes('plain:\\x9b2J\\x9d0;pwned\\x9c\\x0dfake line'), raw);
  assert.ok(raw.includes(`env:${escaped}`), raw);
});
