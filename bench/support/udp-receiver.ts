/**
 * The reference receiver for bench/broadcast.ts: a bare dgram loop that counts datagrams and keeps
 * each one's one-way latency (send time in the payload). Prints "ready", then a JSON summary on SIGTERM.
 * Usage: udp-receiver.ts PORT
 */
import { createSocket } from 'node:dgram';
import { systemClock } from '../../src/common/lifecycle.js';

const port = Number(process.argv[2]);
const latencies: number[] = [];
const socket = createSocket({ type: 'udp4', reuseAddr: true });
socket.on('message', (msg) => {
  latencies.push(systemClock.nowUs() - Number(msg.toString('ascii', 0, 16)));
});
socket.bind(port, '0.0.0.0', () => {
  socket.setRecvBufferSize(4 * 1024 * 1024); // the same buffer a wirelab node asks for
  process.stdout.write(JSON.stringify({ event: 'listening' }) + '\n');
});
process.once('SIGTERM', () => {
  process.stdout.write(JSON.stringify({ event: 'summary', messages: latencies.length, latencies }) + '\n');
  socket.close();
});
