/**
 * A client process for tests: logs in (registering if asked) and waits for files, printing `joined`,
 * `incoming OFFSET` when a download starts (OFFSET > 0: resumed), `saved PATH BYTES_RECEIVED` when one
 * is saved (bytes read from the server on this connection), then leaves. With `stall`, it stops
 * reading once 4 MiB of a download have come and prints `stalled BYTES_ON_DISK` when some are on disk,
 * so that a test can kill it mid-download at a known point. Usage:
 * download-client.ts PORT NAME PASSWORD register|login DOWNLOADS [stall]
 */
import { readdirSync, statSync } from 'node:fs';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import { ChatClient } from '../../../src/chat/index.js';

const [port, name, password, mode, downloads, stall] = process.argv.slice(2) as [string, string, string, string, string, string | undefined];
const client = new ChatClient({ port: Number(port), downloadsDir: downloads });
client.on('file-incoming', (e) => process.stdout.write(`incoming ${e.offset}\n`));
client.on('file-saved', (e) => {
  process.stdout.write(`saved ${e.path} ${client.bytesReceived}\n`);
  void client.quit().then(() => process.exit(0));
});
client.on('file-failed', (e) => process.stdout.write(`failed ${e.reason}\n`));

/** Bytes of the download's part on disk (the part's name starts with a dot, as the client writes it). */
function partBytes(): number {
  const parts = readdirSync(downloads).filter((f) => f.endsWith('.part'));
  return parts.reduce((sum, f) => sum + statSync(join(downloads, f)).size, 0);
}

if (stall === 'stall') {
  let stalled = false;
  client.on('file-progress', (e) => {
    if (stalled || e.bytes < 4 * 1024 * 1024) return;
    stalled = true;
    // the client resumes its socket after each chunk it wrote; keep it paused for good
    const socket = (client as unknown as { socket: Socket }).socket;
    socket.pause();
    socket.resume = () => socket;
    // the file stream writes in the background and no event says when: poll, bounded to 10 s
    const deadline = Date.now() + 10_000;
    const check = (): void => {
      const bytes = partBytes();
      if (bytes > 0 || Date.now() > deadline) process.stdout.write(`stalled ${bytes}\n`);
      else setTimeout(check, 20);
    };
    check();
  });
}
await client.connect();
await client.login({ register: mode === 'register', name, password }, () => Promise.reject(new Error('name taken')));
if (!client.extended) throw new Error('the server did not take our extension');
process.stdout.write('joined\n');
