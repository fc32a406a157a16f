/**
 * Interface and address helpers: which IPv4 interfaces a host has, and their directed broadcast
 * addresses (RFC 919 / RFC 922: host part all ones).
 */
import { createServer, isIP, type Server } from 'node:net';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { networkInterfaces, type NetworkInterfaceInfo } from 'node:os';
import { WirelabError, fromSystemError } from './errors.js';

export interface Ipv4Interface {
  name: string;
  address: string;
  netmask: string;
  /** prefix length, 0..32 */
  prefix: number;
  /** directed broadcast address; undefined for /31 and /32 (RFC 3021: no broadcast) */
  broadcast: string | undefined;
  internal: boolean;
}

export function ipv4ToInt(address: string): number {
  const parts = address.split('.');
  if (parts.length !== 4 || isIP(address) !== 4) {
    throw new WirelabError('E_BAD_ADDRESS', `not an IPv4 address: ${address}`);
  }
  return parts.reduce((acc, part) => ((acc << 8) | Number(part)) >>> 0, 0);
}

export function intToIpv4(value: number): string {
  return [24, 16, 8, 0].map((shift) => (value >>> shift) & 0xff).join('.');
}

export function prefixToMask(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

/** The directed broadcast address of `address/prefix`, or undefined when the subnet has none. */
export function directedBroadcast(address: string, prefix: number): string | undefined {
  if (prefix >= 31) return undefined;
  const mask = prefixToMask(prefix);
  return intToIpv4(((ipv4ToInt(address) & mask) | (~mask >>> 0)) >>> 0);
}

function toIpv4Interface(name: string, info: NetworkInterfaceInfo): Ipv4Interface | undefined {
  if (info.family !== 'IPv4') return undefined;
  const prefix = info.cidr ? Number(info.cidr.split('/')[1]) : 32;
  return {
    name,
    address: info.address,
    netmask: info.netmask,
    prefix,
    broadcast: directedBroadcast(info.address, prefix),
    internal: info.internal,
  };
}

/** Every IPv4 address of this host (in the current network namespace). */
export function ipv4Interfaces(): Ipv4Interface[] {
  const result: Ipv4Interface[] = [];
  for (const [name, infos] of Object.entries(networkInterfaces())) {
    for (const info of infos ?? []) {
      const iface = toIpv4Interface(name, info);
      if (iface) result.push(iface);
    }
  }
  return result;
}

/**
 * The directed broadcast addresses of every non-loopback IPv4 interface that has one, de-duplicated:
 * where the seed's master sends when no target is given.
 */
export function broadcastTargets(interfaces: Ipv4Interface[] = ipv4Interfaces()): string[] {
  const targets = interfaces.filter((i) => !i.internal && i.broadcast !== undefined).map((i) => i.broadcast!);
  return [...new Set(targets)];
}

/** Is this an IPv4 multicast address (224.0.0.0/4)? */
export function isIpv4Multicast(address: string): boolean {
  return isIP(address) === 4 && ipv4ToInt(address) >>> 28 === 0xe;
}

/** Validate a UDP/TCP port given on the command line or in config; 0 means "any free port". */
export function parsePort(value: string | number, what = 'port'): number {
  const port = typeof value === 'number' ? value : Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535 || (typeof value === 'string' && !/^\d+$/.test(value))) {
    throw new WirelabError('E_USAGE', `${what} must be a number from 0 to 65535, got '${value}'`);
  }
  return port;
}

/** "1.2.3.4:5" or "[::1]:5" */
export function formatEndpoint(address: string, port: number): string {
  return isIP(address) === 6 ? `[${address}]:${port}` : `${address}:${port}`;
}

/** Listen on TCP `host:port` (0: any free port); a failure is one clear WirelabError. */
export function listenTcp(server: Server, host: string, port: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const onError = (err: Error): void => reject(fromSystemError(err, `listen on TCP ${formatEndpoint(host, port)}`));
    server.once('error', onError);
    server.listen({ host, port }, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

/** Bind a UDP socket to `host:port` (0: any free port); a failure is one clear WirelabError. */
export function bindUdp(socket: UdpSocket, host: string, port: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const onError = (err: Error): void => reject(fromSystemError(err, `listen on UDP ${formatEndpoint(host, port)}`));
    socket.once('error', onError);
    socket.bind(port, host, () => {
      socket.off('error', onError);
      resolve();
    });
  });
}

/**
 * A port free on 127.0.0.1 right now (bound to 0, read, released), for configs and shared UDP ports
 * that need a real number before the listener exists.
 */
export async function freePort(protocol: 'udp' | 'tcp'): Promise<number> {
  if (protocol === 'tcp') {
    const server = createServer();
    await listenTcp(server, '127.0.0.1', 0);
    const { port } = server.address() as { port: number };
    await new Promise<void>((resolve) => server.close(() => resolve()));
    return port;
  }
  const socket = createSocket('udp4');
  await bindUdp(socket, '127.0.0.1', 0);
  const { port } = socket.address();
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return port;
}
