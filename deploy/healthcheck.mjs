// The image's HEALTHCHECK: healthy when the container's role holds its socket, read from the kernel's
// own tables (/proc/net/{tcp,tcp6,udp,udp6}) so that nothing is sent to the service. WIRELAB_HEALTH is
// `tcp:PORT` (a listening TCP socket) or `udp:PORT` (a bound UDP socket); unset, it checks that a
// wirelab process is alive. Exit 0 healthy, 1 unhealthy.
import { readFileSync, readdirSync } from 'node:fs';

function bound(protocol, port) {
  const hex = port.toString(16).toUpperCase().padStart(4, '0');
  for (const table of [protocol, `${protocol}6`]) {
    let text = '';
    try {
      text = readFileSync(`/proc/net/${table}`, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      // local_address is ADDR:PORT in hex; state 0A is LISTEN (TCP); UDP sockets are 07
      if (fields[1]?.endsWith(`:${hex}`) && (protocol === 'udp' || fields[3] === '0A')) return true;
    }
  }
  return false;
}

function wirelabAlive() {
  for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    if (Number(pid) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('wirelab')) return true;
    } catch {
      // gone meanwhile
    }
  }
  return false;
}

const wanted = process.env.WIRELAB_HEALTH ?? '';
const match = /^(tcp|udp):(\d{1,5})$/.exec(wanted);
const healthy = match ? bound(match[1], Number(match[2])) : wirelabAlive();
if (!healthy) console.error(match ? `nothing holds ${wanted}` : 'no wirelab process');
process.exit(healthy ? 0 : 1);
