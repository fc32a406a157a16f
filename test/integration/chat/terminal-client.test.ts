/**
 * The terminal client driven through tmux as a person would: keys sent with send-keys, the screen read
 * with capture-pane. Skips when tmux is missing (scripts/setup.sh installs it).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TestUser } from './clients.js';
import { ServerProcess, workDir } from './helpers.js';

const bin = fileURLToPath(new URL('../../../bin/wirelab.js', import.meta.url));
const hasTmux = spawnSync('tmux', ['-V']).status === 0;

class Tmux {
  readonly socket = `wirelab-chat-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  readonly session = 'client';

  run(args: string[]): string {
    return execFileSync('tmux', ['-L', this.socket, ...args], { encoding: 'utf8' });
  }

  /** Run `command` in a new pane; the pane stays after it exits and shows `[exit CODE]`. */
  start(command: string, cwd: string): void {
    this.run(['new-session', '-d', '-s', this.session, '-x', '160', '-y', '50', '-c', cwd, `${command}; echo "[exit $?]"; sleep 600`]);
  }

  screen(): string {
    return this.run(['capture-pane', '-p', '-J', '-S', '-200', '-t', this.session]);
  }

  /** Type a line and press Enter. */
  type(line: string): void {
    this.run(['send-keys', '-t', this.session, '-l', line]);
    this.run(['send-keys', '-t', this.session, 'Enter']);
  }

  /** Wait (bounded) until the screen shows `text`. */
  async see(text: string, ms = 15_000): Promise<string> {
    const deadline = Date.now() + ms;
    for (;;) {
      const screen = this.screen();
      if (screen.includes(text)) return screen;
      if (Date.now() > deadline) throw new Error(`the screen never showed ${JSON.stringify(text)}:\n${screen}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  kill(): void {
    spawnSync('tmux', ['-L', this.socket, 'kill-server']);
  }
}

test('the terminal client through tmux: login with a hidden password, chat, files, /users, server shutdown', { skip: !hasTmux && 'tmux is not installed', timeout: 90_000 }, async (t) => {
  const work = workDir();
  t.after(work.cleanup);
  const { server, port } = await ServerProcess.start(work.dir, work.data);
  t.after(() => server.stop('SIGKILL'));
  const bob = await TestUser.join(port, 'bob', { downloads: join(work.dir, 'bob-dl') });
  t.after(() => bob.close());
  writeFileSync(join(work.dir, 'notes.txt'), 'notes from alice\n');

  const tmux = new Tmux();
  t.after(() => tmux.kill());
  tmux.start(`NO_COLOR=1 ${process.execPath} ${bin} chat client --port ${port} --downloads ${join(work.dir, 'alice-dl')}`, work.dir);
  await tmux.see('Are you already registered? (yes/no):');
  tmux.type('no');
  await tmux.see('Enter a username:');
  tmux.type('alice');
  await tmux.see('Enter a password:');
  tmux.type('s3cret-pw');
  await tmux.see('Server: You joined the server.');
  assert.ok(!tmux.screen().includes('s3cret-pw'), 'the password is not echoed');
  await tmux.see('SHA-256'); // the extension was negotiated

  bob.client.write('msg', 'hello alice');
  await tmux.see('Client bob: hello alice');
  tmux.type('hello bob');
  await bob.waitText((e) => e.text === 'Client alice: hello bob\n');
  tmux.type('/to bob just between us');
  await bob.waitText((e) => e.text === 'alice (private): just between us\n');
  tmux.type('to:bob:the seed syntax works too');
  await bob.waitText((e) => e.text === 'alice (private): the seed syntax works too\n');
  tmux.type('/users');
  await tmux.see('Server: Online: alice, bob');

  tmux.type('/send notes.txt');
  await tmux.see('sent notes.txt to the server');
  assert.equal(readFileSync(join(work.data, 'files', 'alice', 'notes.txt'), 'utf8'), 'notes from alice\n');
  const gift = join(work.dir, 'gift.txt');
  writeFileSync(gift, 'a gift from bob\n');
  await bob.client.sendFile(gift, 'alice');
  await tmux.see('saved gift.txt');
  assert.equal(readFileSync(join(work.dir, 'alice-dl', 'gift.txt'), 'utf8'), 'a gift from bob\n');

  // control characters from the wire are shown escaped, not interpreted
  bob.client.write('msg', 'bell\x07 and \x1b[2J clear');
  await tmux.see('Client bob: bell\\x07 and \\x1b[2J clear');

  server.type('shutdown');
  await tmux.see('Server is shutting down.');
  await tmux.see('Disconnected');
  await tmux.see('[exit 1]');
  assert.equal((await server.exited).code, 0);
  assert.ok(existsSync(join(work.data, 'accounts.db')));
});
