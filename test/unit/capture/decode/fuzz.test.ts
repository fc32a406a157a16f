/**
 * Seeded fuzzing of decodePacket/decodeLayers: random bytes, and valid packets with bits flipped,
 * bytes overwritten and tails cut, for every link type. Any exception fails: bad bytes must only
 * ever produce a summary (with `error` set).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeLayers, decodePacket, formatSummary, summaryToJson } from '../../../../src/capture/decode/index.js';
import type { RawPacket } from '../../../../src/capture/types.js';
import { ETH_IPV4, hex, ipv4Header, TCP_SYN_WITH_OPTIONS, udpPacket } from './fixtures.js';
import { mulberry32 } from '../../../helpers/random.js';

const LINK_TYPES = [0, 1, 12, 14, 101, 108, 113, 228, 229, 276, 253];

const DNS_RESPONSE = hex(`
  1a 2b 81 80 00 01 00 03 00 00 00 00
  07 65 78 61 6d 70 6c 65 03 63 6f 6d 00 00 01 00 01
  c0 0c 00 05 00 01 00 00 00 3c 00 06 03 77 77 77 c0 0c
  c0 0c 00 0f 00 01 00 00 00 3c 00 09 00 0a 04 6d 61 69 6c c0 0c
  c0 0c 00 10 00 01 00 00 00 3c 00 03 02 68 69
`);

/** Valid packets to mutate, per link type: the IP part is shared, the link header differs. */
function seeds(): Array<[number, Buffer]> {
  const ipTcp = hex(ipv4Header(6, 40) + TCP_SYN_WITH_OPTIONS);
  const ipDns = udpPacket(40000, 53, DNS_RESPONSE).subarray(14);
  const ipWirelab = udpPacket(40000, 12345, Buffer.from('WLB1 {}')).subarray(14);
  const ip6 = hex(`60 00 00 00 00 28 00 40 ${'00 '.repeat(15)} 01 ${'fe 80 '}${'00 '.repeat(13)} 02
    2c 00 01 04 00 00 00 00  3a 00 00 00 00 00 00 01  87 00 00 00 00 00 00 00 ${'00 '.repeat(16)}`);
  const arp = hex('00 01 08 00 06 04 00 01 02 00 00 00 00 01 0a 00 00 01 00 00 00 00 00 00 0a 00 00 02');
  const out: Array<[number, Buffer]> = [];
  for (const ip of [ipTcp, ipDns, ipWirelab, ip6]) {
    const v6 = ip[0]! >>> 4 === 6;
    out.push([1, Buffer.concat([hex(ETH_IPV4.replace('08 00', v6 ? '86 dd' : '08 00')), ip])]);
    out.push([1, Buffer.concat([hex(`02 00 00 00 00 02 02 00 00 00 00 01 88 a8 00 0a 81 00 00 14 ${v6 ? '86 dd' : '08 00'}`), ip])]);
    out.push([113, Buffer.concat([hex(`00 00 00 01 00 06 02 00 00 00 00 01 00 00 ${v6 ? '86 dd' : '08 00'}`), ip])]);
    out.push([276, Buffer.concat([hex(`${v6 ? '86 dd' : '08 00'} 00 00 00 00 00 01 00 01 00 06 02 00 00 00 00 01 00 00`), ip])]);
    out.push([0, Buffer.concat([Buffer.from([v6 ? 30 : 2, 0, 0, 0]), ip])]);
    out.push([108, Buffer.concat([Buffer.from([0, 0, 0, v6 ? 24 : 2]), ip])]);
    for (const lt of [12, 14, 101, v6 ? 229 : 228]) out.push([lt, ip]);
  }
  out.push([1, Buffer.concat([hex('ff ff ff ff ff ff 02 00 00 00 00 01 08 06'), arp])]);
  out.push([113, Buffer.concat([hex('00 01 00 01 00 06 02 00 00 00 00 01 00 00 08 06'), arp])]);
  return out;
}

function packet(linkType: number, data: Buffer, index: number): RawPacket {
  return { index, linkType, tsSec: index, tsNsec: index % 1_000_000_000, originalLength: data.length, data, interfaceId: 0 };
}

/** Decode one input; every tenth also through the layer tree and both renderings. */
function exercise(p: RawPacket, i: number): boolean {
  const s = i % 10 === 0 ? decodeLayers(p).summary : decodePacket(p);
  if (i % 10 === 0) {
    formatSummary(s);
    summaryToJson(s);
  }
  return s.error !== undefined;
}

function mutate(rand: () => number, base: Buffer): Buffer {
  const b = Buffer.from(base);
  const flips = 1 + Math.floor(rand() * 4);
  for (let f = 0; f < flips; f++) {
    const at = Math.floor(rand() * b.length);
    if (rand() < 0.5) b[at] = b[at]! ^ (1 << Math.floor(rand() * 8));
    else b[at] = Math.floor(rand() * 256);
  }
  return rand() < 0.3 ? b.subarray(0, Math.floor(rand() * b.length)) : b;
}

test('fuzz: random bytes on every link type return a summary', () => {
  const rand = mulberry32(0x5eed);
  let errors = 0;
  for (let i = 0; i < 100_000; i++) {
    const data = Buffer.alloc(Math.floor(rand() * 96));
    for (let j = 0; j < data.length; j++) data[j] = Math.floor(rand() * 256);
    if (exercise(packet(LINK_TYPES[i % LINK_TYPES.length]!, data, i), i)) errors++;
  }
  assert.ok(errors > 10_000, `random bytes should mostly be refused (${errors})`);
});

test('fuzz: bit flips, overwritten bytes and cut tails of valid packets return a summary', () => {
  const rand = mulberry32(0xdecade);
  const corpus = seeds();
  for (const [lt, data] of corpus) assert.equal(decodePacket(packet(lt, data, 1)).error, undefined, `seed on link type ${lt}`);
  let errors = 0;
  for (let i = 0; i < 200_000; i++) {
    const [linkType, base] = corpus[i % corpus.length]!;
    if (exercise(packet(linkType, mutate(rand, base), i), i)) errors++;
  }
  assert.ok(errors > 1_000 && errors < 200_000, `mutations give a mix of errors and decodes (${errors})`);
});
