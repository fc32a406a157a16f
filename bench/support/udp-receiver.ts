/**
 * The reference receiver for bench/broadcast.ts: a bare dgram loop that counts datagrams and keeps
 * each one's one-way latency (send time in the payload); datagrams without a send time are counted apart. Prints "ready", then a JSON summary on SIGTERM.
 * Usage: udp-receiver.ts PORT
 */
import { createSocket } from 'node:dgram';
import { systemClock } from '../../src/common/lifecycle.js';

const port = Number(process.argv[2]);
const latencies: number[] = [];
const socket = createSocket({ type: 'udp4', reuseAddr: true });
let other = 0;
socket.on('message', (msg) => {
  const sentUs = Number(msg.toString('ascii', 0, 16));
  // Only the sender's datagrams carry a send time; anything else (a junk flood) is only counted.
  if (Number.isFinite(sentUs) && sentUs > 1e15) latencies.push(systemClock.nowUs() - sentUs);
  else other++;
});
socket.bind(port, '0.0.0.0', () => {
  socket.setRecvBufferSize(4 * 1024 * 1024); // the same buffer a wirelab node asks for
  process.stdout.write(JSON.stringify({ event: 'listening' }) + '\n');
});
process.once('SIGTERM', () => {
  process.stdout.write(JSON.stringify({ event: 'summary', messages: latencies.length, other, latencies }) + '\n');
  socket.close();
});
