/**
 * Our client against a server that speaks only the seed's protocol: a stand-in written from the
 * reference (chat-seed-wire.md), which answers our `caps` record with the seed's invalid-format error.
 * The client must fall back to the seed's raw transfers, both ways, and chat as before.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { TestUser } from './clients.js';
import { seedRecord, workDir } from './helpers.js';
import { withDeadline } from '../../helpers/deadline.js';


/** The seed's server, reduced to what this test needs, reading as server.py did. */
class SeedOnlyServer {
  readonly got: Array<{ header: string; text: string }> = [];
  readonly files: Buffer[] = [];
  private readonly server: Server;
  socket: Socket | null = null;
  private buffer = Buffer.alloc(0);
  private step = 0;
  private raw: Buffer[] | null = null;
  private onGot: (() => void) | null = null;

  constructor() {
    this.server = createServer((s) => this.accept(s));
  }

  listen(): Promise<number> {
    return new Promise((resolve) => this.server.listen(0, '127.0.0.1', () => resolve((this.server.address() as { port: number }).port)));
  }

  private accept(s: Socket): void {
    this.socket = s;
    s.write(seedRecord('info', 'Are you already registered? (yes/no):'));
    s.on('data', (chunk: Buffer) => this.onData(chunk));
    s.on('error', () => undefined);
  }

  private onData(chunk: Buffer): void {
    if (this.raw) {
      // the seed's rule: a read ending in EOF ends the file
      this.raw.push(chunk);
      const all = Buffer.concat(this.raw);
      if (all.subarray(-3).toString() === 'EOF') {
        this.files.push(all.subarray(0, -3));
        this.raw = null;
        this.onGot?.();
      }
      return;
    }
    this.buffer = Buffer.concat([this.buffer, chunk]);
    for (;;) {
      if (this.buffer.length < 2) return;
      const hl = this.buffer.readUInt16BE(0);
      if (this.buffer.length < 6 + hl) return;
      const pl = this.buffer.readUInt32BE(2 + hl);
      if (this.buffer.length < 6 + hl + pl) return;
      const header = this.buffer.subarray(2, 2 + hl).toString();
      const text = this.buffer.subarray(6 + hl, 6 + hl + pl).toString();
      const rest = this.buffer.subarray(6 + hl + pl);
      this.buffer = Buffer.alloc(0);
      this.onRecord(header, text);
      if (rest.length > 0) this.onData(rest);
      return;
    }
  }

  private onRecord(header: string, text: string): void {
    this.got.push({ header, text });
    const s = this.socket!;
    this.step++;
    if (this.step === 2) s.write(seedRecord('info', 'Username registered successfully.'));
    else if (this.step === 3) s.write(seedRecord('info', 'Server: You joined the server.\n'));
    else if (header === 'caps') s.write(seedRecord('error', 'Server: Invalid message format. Please adhere to the message protocol.\n'));
    else if (header === 'file_transfer') this.raw = [];
    this.onGot?.();
  }

  waitFor(check: () => boolean, what: string): Promise<void> {
    return withDeadline(
      new Promise<void>((resolve) => {
        const test = (): void => {
          if (check()) resolve();
        };
        this.onGot = test;
        test();
      }),
      10_000,
      what,
    );
  }

  close(): void {
    this.socket?.destroy();
    this.server.close();
  }
}

test('our client falls back to the seed protocol against a seed-only server', { timeout: 30_000 }, async (t) => {
  const work = workDir();
  t.after(work.cleanup);
  const seed = new SeedOnlyServer();
  t.after(() => seed.close());
  const port = await seed.listen();
  const alice = await TestUser.join(port, 'alice', { downloads: join(work.dir, 'dl') });
  t.after(() => alice.close());
  assert.equal(alice.client.extended, false, 'the seed server did not take the extension');
  assert.deepEqual(seed.got.slice(0, 3), [
    { header: 'info', text: 'no' },
    { header: 'info', text: 'alice' },
    { header: 'info', text: 'pw-alice' },
  ]);
  assert.equal(alice.texts.filter((e) => e.header === 'error').length, 0, 'the refused caps is not shown to the user');

  alice.client.write('msg', 'hello seed');
  const file = join(work.dir, 'client_files', 'sample.txt');
  await alice.client.sendFile(file, null);
  await seed.waitFor(() => seed.files.length === 1, 'the raw file');
  assert.deepEqual(seed.got.slice(3).map((g) => `${g.header}:${g.text}`), ['caps:wirelab/2 files=chunked-sha256-resume', 'msg:hello seed', 'file_transfer:file_to_server:sample.txt']);
  assert.deepEqual(seed.files[0], readFileSync(file));

  // a file from the seed server: announcement with the trailing newline, raw bytes, EOF
  const content = Buffer.from('from the seed server\n');
  seed.socket!.write(seedRecord('file_transfer', 'file from server:seeded.txt\n'));
  seed.socket!.write(Buffer.concat([content, Buffer.from('EOF')]));
  seed.socket!.write(seedRecord('info', "Server: File 'seeded.txt' sent to alice\n"));
  const saved = await alice.waitSaved();
  assert.equal(saved.name, 'seeded.txt');
  assert.deepEqual(readFileSync(saved.path), content);
  await alice.waitText((e) => e.text === "Server: File 'seeded.txt' sent to alice\n");
});
