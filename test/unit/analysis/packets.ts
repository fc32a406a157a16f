/** A terse PacketSummary builder for analysis tests. */
import type { PacketSummary } from '../../../src/capture/types.js';

export const FIN = 0x01;
export const SYN = 0x02;
export const RST = 0x04;
export const PSH = 0x08;
export const ACK = 0x10;

export interface PacketSpec {
  /** s since the epoch, fractional */
  t?: number;
  src?: string;
  dst?: string;
  sport?: number;
  dport?: number;
  protocol?: string;
  ipProto?: number;
  length?: number;
  tcpFlags?: number;
  index?: number;
}

let counter = 0;

export function packet(spec: PacketSpec = {}): PacketSummary {
  const t = spec.t ?? 1_700_000_000;
  const whole = Math.floor(t);
  const ipProto = spec.ipProto ?? (spec.protocol === 'UDP' || spec.protocol === 'DNS' ? 17 : 6);
  return {
    index: spec.index ?? ++counter,
    tsSec: whole,
    tsNsec: Math.round((t - whole) * 1e9),
    type: 'IPv4',
    src: spec.src ?? '10.0.0.1',
    dst: spec.dst ?? '10.0.0.2',
    sport: spec.sport ?? 40000,
    dport: spec.dport ?? 80,
    protocol: spec.protocol ?? 'TCP',
    ipProto,
    length: spec.length ?? 100,
    tcpFlags: spec.tcpFlags ?? 0,
    flags: '',
    info: '',
  };
}
