/**
 * Raw IP link types (LINKTYPE_RAW 101, DLT_RAW 12 and 14, LINKTYPE_IPV4 228, LINKTYPE_IPV6 229): no
 * link header; for the generic ones the IP version nibble says which protocol follows.
 */
import { ETHERTYPE_IPV4, ETHERTYPE_IPV6 } from './constants.js';
import { malformed, need } from './bytes.js';

/** The EtherType of the raw IP packet at `offset`, from its version nibble. */
export function rawIpEtherType(buf: Buffer, offset: number, end: number): number {
  need('raw IP', offset, 1, end);
  const version = buf[offset]! >>> 4;
  if (version === 4) return ETHERTYPE_IPV4;
  if (version === 6) return ETHERTYPE_IPV6;
  throw malformed('raw IP', `version ${version}`, offset);
}
