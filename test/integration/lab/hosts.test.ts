import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { Lab } from '../../../src/lab/hosts.js';

const skip = Lab.unavailableReason();

function rootLinks(): string {
  return execFileSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' })
    .split('\n')
    .map((line) => line.split(':')[1]?.trim())
    .sort()
    .join(',');
}

function netnsList(): string {
  return execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' });
}

async function ping(lab: Lab, from: string, to: string): Promise<boolean> {
  try {
    // One probe with a one-second deadline, bounded in count and time.
    await lab.exec(from, 'ping', ['-c', '1', '-W', '1', to]);
    return true;
  } catch {
    return false;
  }
}

test('a lab builds separate hosts on a bridge and leaves nothing behind', { skip }, async (t) => {
  const linksBefore = rootLinks();
  const lab = await Lab.create({ hosts: ['a', 'b', { name: 'far', subnet: 1 }] });
  t.after(() => lab.destroy());
  const [a, b, far] = [lab.host('a'), lab.host('b'), lab.host('far')];

  assert.match(a.address, /^198\.18\.\d+\.1$/);
  assert.match(b.address, /^198\.18\.\d+\.2$/);
  assert.equal(a.broadcast, b.broadcast);
  assert.notEqual(far.broadcast, a.broadcast, 'the far host is on another /24');
  assert.equal(rootLinks(), linksBefore, 'nothing was added to the machine namespace');

  // Each host sees only lo and its own eth0.
  const links = await lab.exec('a', 'ip', ['-o', 'link', 'show']);
  assert.deepEqual(
    links.split('\n').filter(Boolean).map((l) => l.split(':')[1]!.trim().split('@')[0]),
    ['lo', 'eth0'],
  );
  assert.equal(await ping(lab, 'a', b.address), true, 'hosts on one subnet reach each other');
  assert.equal(await ping(lab, 'a', far.address), false, 'no route to the other subnet');

  await lab.setLink('b', false);
  assert.equal(await ping(lab, 'a', b.address), false, 'a host cut off is unreachable');
  await lab.setLink('b', true);
  assert.equal(await ping(lab, 'a', b.address), true, 'and reachable again once plugged back');

  await lab.destroy();
  assert.doesNotMatch(netnsList(), new RegExp(lab.id), 'every namespace of the lab is gone');
});

test('two labs at once do not collide', { skip }, async (t) => {
  const [one, two] = await Promise.all([Lab.create({ hosts: ['x'] }), Lab.create({ hosts: ['x'] })]);
  t.after(async () => {
    await one.destroy();
    await two.destroy();
  });
  assert.notEqual(one.id, two.id);
  assert.notEqual(one.host('x').netns, two.host('x').netns);
});
