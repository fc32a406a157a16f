/**
 * Bench helper for the live capture benchmark, run inside the bench's namespace: send COUNT UDP
 * datagrams of SIZE bytes to 127.0.0.1:PORT at RATE per second, paced in 1 ms slices, and print
 * {sent, seconds, rate}. It binds the receiving socket itself and never reads it: the kernel drops
 * what overflows that socket's buffer, which costs almost nothing, so the CPU goes to the sender and
 * the capture under test rather than to a receiver. One connected socket and one preallocated
 * buffer: about 350k datagrams/s from one core here. Bounded: COUNT datagrams, or 60 s.
 * Usage: paced-sender.ts RATE COUNT PORT [SIZE]
 */
import { createSocket } from 'node:dgram';
import { once } from 'node:events';

const [rate, count, port, size] = process.argv.slice(2, 6).map(Number) as [number, number, number, number | undefined];
const MAX_SECONDS = 60;
/** datagrams handed to the kernel but not yet reported sent */
const MAX_IN_FLIGHT = 1024;

const sink = createSocket('udp4');
sink.bind(port, '127.0.0.1');
await once(sink, 'listening');
const socket = createSocket('udp4');
socket.connect(port, '127.0.0.1');
await once(socket, 'connect');
const payload = Buffer.alloc(size ?? 64, 0x20);

const start = process.hrtime.bigint();
const elapsed = (): number => Number(process.hrtime.bigint() - start) / 1e9;
let sent = 0;
let inFlight = 0;
const onSent = (): void => {
  inFlight--;
};
await new Promise<void>((resolve) => {
  const tick = (): void => {
    const due = Math.min(count, Math.floor(elapsed() * rate));
    while (sent < due && inFlight < MAX_IN_FLIGHT) {
      inFlight++;
      sent++;
      socket.send(payload, onSent);
    }
    if ((sent < count || inFlight > 0) && elapsed() < MAX_SECONDS) setImmediate(tick);
    else resolve();
  };
  tick();
});
const seconds = elapsed();
process.stdout.write(JSON.stringify({ sent, seconds, rate: sent / seconds }) + '\n');
socket.close();
sink.close();
