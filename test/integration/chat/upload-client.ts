/**
 * A client process for tests: logs in (registering if asked) and uploads one file in our framed
 * mode, printing `progress BYTES` lines and `done OFFSET` at the end. Usage:
 * upload-client.ts PORT NAME PASSWORD register|login FILE [TO]
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ChatClient } from '../../../src/chat/index.js';

const [port, name, password, mode, file, to] = process.argv.slice(2) as [string, string, string, string, string, string | undefined];
const client = new ChatClient({ port: Number(port), downloadsDir: join(tmpdir(), `wirelab-upload-${process.pid}`) });
await client.connect();
await client.login({ register: mode === 'register', name, password }, () => Promise.reject(new Error('name taken')));
if (!client.extended) throw new Error('the server did not take our extension');
let last = 0;
client.on('file-progress', (e) => {
  if (e.bytes - last >= 4 * 1024 * 1024) {
    last = e.bytes;
    process.stdout.write(`progress ${e.bytes}\n`);
  }
});
const result = await client.sendFile(file, to ?? null);
process.stdout.write(`done ${result.offset}\n`);
await client.quit();
