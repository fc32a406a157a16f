/**
 * Bench helper, run inside the master's namespace: send COUNT datagrams to TARGET:PORT at RATE per
 * second, paced in 1 ms slices. `wirelab` sends broadcast envelopes (what BroadcastMaster sends);
 * `raw` sends the same number of bytes holding only the send time, for the reference receiver.
 * Usage: udp-sender.ts wirelab|raw RATE COUNT TARGET PORT
 */
import { createSocket } from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { encodeEnvelope } from '../../src/broadcast/envelope.js';
import { systemClock } from '../../src/common/lifecycle.js';

const [impl, rateArg, countArg, target, portArg] = process.argv.slice(2);
const rate = Number(rateArg);
const count = Number(countArg);
const port = Number(portArg);
const session = randomBytes(8).toString('hex');
const body = Buffer.from('Hello, Nodes!');

function datagram(seq: number): Buffer {
  const timeUs = systemClock.nowUs();
  const envelope = encodeEnvelope({ kind: 'M', session, seq, timeUs, name: 'bench', body });
  if (impl === 'wirelab') return envelope;
  const raw = Buffer.alloc(envelope.length, 0x20);
  raw.write(String(timeUs), 'ascii');
  return raw;
}

const socket = createSocket('udp4');
socket.bind(0, () => {
  socket.setBroadcast(true);
  socket.setSendBufferSize(4 * 1024 * 1024);
  const start = process.hrtime.bigint();
  let sent = 0;
  let inFlight = 0;
  const tick = (): void => {
    const due = Math.min(count, Math.floor((Number(process.hrtime.bigint() - start) / 1e9) * rate));
    while (sent < due && inFlight < 512) {
      inFlight++;
      socket.send(datagram(++sent), port, target, () => inFlight--);
    }
    if (sent < count) setImmediate(tick);
    else {
      const wait = (): void => {
        if (inFlight > 0) setImmediate(wait);
        else {
          const seconds = Number(process.hrtime.bigint() - start) / 1e9;
          process.stdout.write(JSON.stringify({ sent, seconds, rate: sent / seconds }) + '\n');
          socket.close();
        }
      };
      wait();
    }
  };
  tick();
});
