/**
 * DNS messages (RFC 1035 4.1): header, questions and resource records with the common record types
 * decoded (A, AAAA, CNAME, NS, PTR, MX, TXT, SOA, SRV). Names may be compressed (RFC 1035 4.1.4);
 * every compression pointer must point below everything read so far for that name, and the number
 * of pointers, the label length (63) and the name length (255) are bounded, so a crafted loop ends
 * in a DecodeError.
 */
import { DecodeError } from '../../common/errors.js';
import { DNS_MAX_LABEL_LENGTH, type DecodeLimits } from './constants.js';
import { hex16, ipv4At, ipv6At, malformed, need } from './bytes.js';

export interface DnsQuestion {
  name: string;
  type: number;
  class: number;
}

export interface DnsRecord extends DnsQuestion {
  /** seconds */
  ttl: number;
  /** the record data as text ("1.2.3.4", "10 mail.example.com", ...) or "N bytes" for other types */
  data: string;
}

export interface DnsMessage {
  id: number;
  /** the whole flags word (QR, opcode, AA, TC, RD, RA, Z, AD, CD, rcode) */
  flags: number;
  response: boolean;
  opcode: number;
  rcode: number;
  questions: DnsQuestion[];
  answers: DnsRecord[];
  authorities: DnsRecord[];
  additionals: DnsRecord[];
  /** the header's counts (questions, answers, authorities, additionals): more than listed when cut */
  counts: [number, number, number, number];
  /** entries counted in `counts` but not listed: past the limits (maxDnsQuestions, maxDnsRecords) or past damage */
  cut: number;
  /** set when the entries stop at damage (truncated, malformed): what was read before it is kept */
  damage?: DecodeError;
}

const TYPE_NAMES: ReadonlyMap<number, string> = new Map([
  [1, 'A'], [2, 'NS'], [5, 'CNAME'], [6, 'SOA'], [12, 'PTR'], [13, 'HINFO'], [15, 'MX'], [16, 'TXT'],
  [28, 'AAAA'], [33, 'SRV'], [35, 'NAPTR'], [41, 'OPT'], [43, 'DS'], [46, 'RRSIG'], [47, 'NSEC'],
  [48, 'DNSKEY'], [64, 'SVCB'], [65, 'HTTPS'], [252, 'AXFR'], [255, 'ANY'],
]);

/** "A", "AAAA", or "TYPE99" (RFC 3597 5) for a type without a name. */
export function dnsTypeName(type: number): string {
  return TYPE_NAMES.get(type) ?? `TYPE${type}`;
}

/** Where a message lives in the packet, and the limits it is decoded under. */
interface Message {
  buf: Buffer;
  start: number;
  end: number;
  limits: DecodeLimits;
}

/** A label's bytes as text: printable ASCII as is, anything else (and '.', '\') as \DDD (RFC 4343 2.1). */
function labelText(buf: Buffer, o: number, length: number): string {
  let plain = true;
  for (let i = o; i < o + length && plain; i++) plain = isPlain(buf[i]!);
  if (plain) return buf.toString('latin1', o, o + length);
  let text = '';
  for (let i = o; i < o + length; i++) {
    const c = buf[i]!;
    text += isPlain(c) ? String.fromCharCode(c) : '\\' + String(c).padStart(3, '0');
  }
  return text;
}

function isPlain(c: number): boolean {
  return c > 0x20 && c < 0x7f && c !== 0x2e && c !== 0x5c;
}

/** Read the name at `pos`; returns the name and the offset just after it (after the first pointer). */
function readName(m: Message, pos: number): [string, number] {
  const { buf, start, end, limits } = m;
  let p = pos;
  let lowest = pos;
  let next = -1;
  let pointers = 0;
  let wireLength = 1;
  let name = '';
  for (;;) {
    need('DNS name', p, 1, end);
    const length = buf[p]!;
    if (length === 0) break;
    if ((length & 0xc0) === 0xc0) {
      need('DNS name', p, 2, end);
      const target = start + (((length & 0x3f) << 8) | buf[p + 1]!);
      if (++pointers > limits.maxDnsPointers) throw new DecodeError('E_TOO_LARGE', `DNS: more than ${limits.maxDnsPointers} compression pointers`, p);
      if (target >= lowest) throw malformed('DNS', 'compression pointer does not point backwards (loop)', p);
      if (next < 0) next = p + 2;
      p = lowest = target;
      continue;
    }
    if (length > DNS_MAX_LABEL_LENGTH) throw malformed('DNS', `label type 0x${(length & 0xc0).toString(16)}`, p);
    need('DNS name', p, 1 + length, end);
    wireLength += 1 + length;
    if (wireLength > limits.maxDnsNameLength) throw new DecodeError('E_TOO_LARGE', `DNS: name longer than ${limits.maxDnsNameLength} bytes`, p);
    name += (name === '' ? '' : '.') + labelText(buf, p + 1, length);
    p += 1 + length;
  }
  return [name === '' ? '<Root>' : name, next < 0 ? p + 1 : next];
}

function readQuestion(m: Message, pos: number): [DnsQuestion, number] {
  const [name, p] = readName(m, pos);
  need('DNS question', p, 4, m.end);
  return [{ name, type: m.buf.readUInt16BE(p), class: m.buf.readUInt16BE(p + 2) }, p + 4];
}

function txtData(buf: Buffer, o: number, end: number): string {
  const parts: string[] = [];
  for (let p = o; p < end; ) {
    const length = buf[p]!;
    need('DNS TXT', p, 1 + length, end);
    parts.push(`"${buf.toString('latin1', p + 1, p + 1 + length)}"`);
    p += 1 + length;
  }
  return parts.join(' ');
}

function fixedLength(type: number, rdLength: number, want: number, o: number): void {
  if (rdLength !== want) throw malformed('DNS', `${dnsTypeName(type)} record length ${rdLength}`, o);
}

/** The record data of `type` at `o` (length `rdLength`, already bounds-checked) as text. */
function recordData(m: Message, type: number, o: number, rdLength: number): string {
  const buf = m.buf;
  // the common address records first: no sub-message object for them
  if (type === 1) {
    fixedLength(type, rdLength, 4, o);
    return ipv4At(buf, o);
  }
  if (type === 28) {
    fixedLength(type, rdLength, 16, o);
    return ipv6At(buf, o);
  }
  const sub: Message = { buf, start: m.start, end: o + rdLength, limits: m.limits };
  switch (type) {
    case 2:
    case 5:
    case 12:
      return readName(sub, o)[0];
    case 15:
      need('DNS MX', o, 3, sub.end);
      return `${buf.readUInt16BE(o)} ${readName(sub, o + 2)[0]}`;
    case 16:
      return txtData(buf, o, sub.end);
    case 6: {
      const [mname, p] = readName(sub, o);
      return `${mname} ${readName(sub, p)[0]}`;
    }
    case 33:
      need('DNS SRV', o, 7, sub.end);
      return `${buf.readUInt16BE(o)} ${buf.readUInt16BE(o + 2)} ${buf.readUInt16BE(o + 4)} ${readName(sub, o + 6)[0]}`;
    default:
      return `${rdLength} bytes`;
  }
}

function readRecord(m: Message, pos: number): [DnsRecord, number] {
  const [q, p] = readQuestion(m, pos);
  need('DNS record', p, 6, m.end);
  const ttl = m.buf.readUInt32BE(p);
  const rdLength = m.buf.readUInt16BE(p + 4);
  need('DNS record data', p + 6, rdLength, m.end);
  return [{ name: q.name, type: q.type, class: q.class, ttl, data: recordData(m, q.type, p + 6, rdLength) }, p + 6 + rdLength];
}

/** Read up to `count` records while the shared budget lasts; returns the offset after the last read. */
function readRecords(m: Message, count: number, pos: number, out: DnsRecord[], budget: { left: number }): number {
  let p = pos;
  const take = Math.min(count, budget.left);
  budget.left -= take;
  for (let i = 0; i < take; i++) {
    const [record, next] = readRecord(m, p);
    out.push(record);
    p = next;
  }
  return p;
}

/**
 * Decode the DNS message in `buf[start, end)`. Questions past maxDnsQuestions and records past
 * maxDnsRecords are counted (`counts`, `cut`) but not listed: a large valid response is not an error.
 */
export function decodeDns(buf: Buffer, start: number, end: number, limits: DecodeLimits): DnsMessage {
  need('DNS', start, 12, end);
  const m: Message = { buf, start, end, limits };
  const flags = buf.readUInt16BE(start + 2);
  const counts: [number, number, number, number] = [buf.readUInt16BE(start + 4), buf.readUInt16BE(start + 6), buf.readUInt16BE(start + 8), buf.readUInt16BE(start + 10)];
  const [qd, an, ns, ar] = counts;
  const questions = Math.min(qd, limits.maxDnsQuestions);
  const records = Math.min(an + ns + ar, limits.maxDnsRecords);
  const msg: DnsMessage = {
    id: buf.readUInt16BE(start),
    flags,
    response: (flags & 0x8000) !== 0,
    opcode: (flags >>> 11) & 0x0f,
    rcode: flags & 0x0f,
    questions: [],
    answers: [],
    authorities: [],
    additionals: [],
    counts,
    cut: 0,
  };
  try {
    readEntries(m, msg, questions, records);
  } catch (err) {
    if (!(err instanceof DecodeError)) throw err;
    msg.damage = err;
  }
  msg.cut = qd + an + ns + ar - msg.questions.length - msg.answers.length - msg.authorities.length - msg.additionals.length;
  return msg;
}

function readEntries(m: Message, msg: DnsMessage, questions: number, records: number): void {
  const [qd, an, ns, ar] = msg.counts;
  let p = m.start + 12;
  for (let i = 0; i < questions; i++) {
    const [q, next] = readQuestion(m, p);
    msg.questions.push(q);
    p = next;
  }
  // records follow every question: past a cut in the questions, they cannot be found
  if (questions < qd) return;
  const budget = { left: records };
  p = readRecords(m, an, p, msg.answers, budget);
  p = readRecords(m, ns, p, msg.authorities, budget);
  readRecords(m, ar, p, msg.additionals, budget);
}

const OPCODE_TEXT: readonly string[] = ['Standard query', 'Inverse query', 'Server status request', 'Opcode 3', 'Zone change notification', 'Dynamic update'];
const RCODE_TEXT: readonly string[] = ['', 'Format error', 'Server failure', 'No such name', 'Not implemented', 'Refused'];

/** tshark's line: "Standard query 0x1a2b A example.com", "Standard query response 0x1a2b A example.com A 1.2.3.4". */
export function dnsInfo(msg: DnsMessage): string {
  let line = (OPCODE_TEXT[msg.opcode] ?? `Opcode ${msg.opcode}`) + (msg.response ? ' response ' : ' ') + hex16(msg.id);
  if (msg.response && msg.rcode !== 0) line += ' ' + (RCODE_TEXT[msg.rcode] ?? `Rcode ${msg.rcode}`);
  for (const q of msg.questions) line += ` ${dnsTypeName(q.type)} ${q.name}`;
  for (const a of msg.answers) line += ` ${dnsTypeName(a.type)} ${a.data}`;
  if (msg.cut > 0) line += ` (+${msg.cut} not listed)`;
  return line;
}
