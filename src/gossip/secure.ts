/**
 * The network key (Serf's -encrypt, memberlist's keyring): with a keyring, every gossip connection
 * is authenticated and encrypted with AES-256-GCM (node:crypto). docs/gossip.md, "Network key".
 *
 * - Each side opens with a 28-byte preamble: `WLG1`, the 8-byte fingerprint (SHA-256 prefix) of its
 *   primary key, and 16 random bytes (its salt).
 * - Each direction has its own session key: HKDF-SHA256 of the sender's key, salted with the
 *   sender's salt then the receiver's. Both salts are fresh per connection, so a session key is
 *   never used on two connections, and frames recorded on one connection fail on any other.
 * - A frame is `length (4 bytes, big-endian) | ciphertext | 16-byte tag`, the length header as
 *   additional data; the 12-byte nonce is a per-direction frame counter, so no nonce repeats under a key.
 * - The keyring's first key is the primary (used to send); every key in it is accepted from the
 *   other side, so a key can be rotated in without a flag day: install the new key everywhere as a
 *   secondary, make it primary everywhere, then remove the old one.
 */
import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { DecodeError, WirelabError, fromSystemError } from '../common/errors.js';

const MAGIC = Buffer.from('WLG1', 'ascii');
const FINGERPRINT_BYTES = 8;
const SALT_BYTES = 16;
export const PREAMBLE_BYTES = MAGIC.length + FINGERPRINT_BYTES + SALT_BYTES;
export const TAG_BYTES = 16;
const KEY_BYTES = 32;
const INFO = Buffer.from('wirelab gossip v1', 'ascii');

export interface Keyring {
  /** sends with this one (32 bytes) */
  primary: Buffer;
  /** every key accepted from the other side, the primary first */
  keys: Buffer[];
}

function fingerprint(key: Buffer): Buffer {
  return createHash('sha256').update(key).digest().subarray(0, FINGERPRINT_BYTES);
}

/** Parse a secret file: one key a line (32 bytes as base64 or as 64 hex digits), the first is the primary; `#` comments. */
export function parseKeyring(text: string, what = 'secret file'): Keyring {
  const keys: Buffer[] = [];
  for (const [index, raw] of text.split(/\r?\n/).entries()) {
    const line = raw.replace(/#.*/, '').trim();
    if (line === '') continue;
    const key = /^[0-9a-fA-F]{64}$/.test(line) ? Buffer.from(line, 'hex') : /^[A-Za-z0-9+/]{43}=$/.test(line) ? Buffer.from(line, 'base64') : undefined;
    if (!key || key.length !== KEY_BYTES) {
      throw new WirelabError('E_KEY', `${what} line ${index + 1}: not a 32-byte key (base64 of 32 bytes, or 64 hex digits)`);
    }
    keys.push(key);
  }
  if (keys.length === 0) throw new WirelabError('E_KEY', `${what}: no key in it`);
  return { primary: keys[0]!, keys };
}

/**
 * Read a keyring from a file. Returns a warning too when the file is readable by group or others
 * (the key is the network's only secret).
 */
export async function readKeyring(path: string): Promise<{ keyring: Keyring; warning?: string }> {
  let text: string;
  let mode: number;
  try {
    const info = await stat(path);
    if (!info.isFile()) throw new WirelabError('E_CONFIG', `${path}: not a regular file`);
    mode = info.mode;
    text = await readFile(path, 'utf8');
  } catch (err) {
    if (err instanceof WirelabError) throw err;
    throw fromSystemError(err, `read ${path}`);
  }
  const keyring = parseKeyring(text, path);
  const warning = (mode & 0o077) !== 0 ? `${path} is readable by others (mode ${(mode & 0o777).toString(8)}); chmod 600 it` : undefined;
  return { keyring, warning };
}

function sessionKey(key: Buffer, senderSalt: Buffer, receiverSalt: Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', key, Buffer.concat([senderSalt, receiverSalt]), INFO, KEY_BYTES));
}

function nonce(counter: bigint): Buffer {
  const n = Buffer.alloc(12);
  n.writeBigUInt64BE(counter, 4);
  return n;
}

/** One connection's encryption state, sans-IO: the caller sends `preamble`, feeds the other side's, then seals and opens frames. */
export class SecureChannel {
  readonly preamble: Buffer;
  private readonly salt: Buffer;
  private received = Buffer.alloc(0);
  private sendKey: Buffer | undefined;
  private receiveKey: Buffer | undefined;
  private sent = 0n;
  private opened = 0n;

  constructor(private readonly keyring: Keyring) {
    this.salt = randomBytes(SALT_BYTES);
    this.preamble = Buffer.concat([MAGIC, fingerprint(keyring.primary), this.salt]);
  }

  get ready(): boolean {
    return this.receiveKey !== undefined;
  }

  /**
   * Feed bytes while the other side's preamble is incomplete. Returns the bytes after it once it is
   * complete (maybe empty), undefined while more are needed. Throws DecodeError for a stranger (bad
   * magic) or a key not in our keyring.
   */
  acceptPreamble(chunk: Buffer): Buffer | undefined {
    const need = PREAMBLE_BYTES - this.received.length;
    this.received = Buffer.concat([this.received, chunk.subarray(0, need)]);
    if (this.received.length < PREAMBLE_BYTES) return undefined;
    if (!this.received.subarray(0, MAGIC.length).equals(MAGIC)) throw new DecodeError('E_DECODE', 'not a keyed gossip connection (no network-key preamble)');
    const theirs = this.received.subarray(MAGIC.length, MAGIC.length + FINGERPRINT_BYTES);
    const key = this.keyring.keys.find((k) => fingerprint(k).equals(theirs));
    if (!key) throw new DecodeError('E_DECODE', 'the other side uses a network key not in our keyring');
    const theirSalt = this.received.subarray(MAGIC.length + FINGERPRINT_BYTES);
    this.receiveKey = sessionKey(key, theirSalt, this.salt);
    this.sendKey = sessionKey(this.keyring.primary, this.salt, theirSalt);
    return chunk.subarray(need);
  }

  /** Encrypt one frame body; returns the whole frame to write. */
  seal(body: Buffer): Buffer {
    if (!this.sendKey) throw new WirelabError('E_KEY', 'seal before the preamble exchange');
    const header = Buffer.alloc(4);
    header.writeUInt32BE(body.length + TAG_BYTES, 0);
    const cipher = createCipheriv('aes-256-gcm', this.sendKey, nonce(this.sent++));
    cipher.setAAD(header);
    const ciphertext = Buffer.concat([cipher.update(body), cipher.final()]);
    return Buffer.concat([header, ciphertext, cipher.getAuthTag()]);
  }

  /** Decrypt one frame body (ciphertext and tag, without the length header); throws DecodeError when it is not authentic. */
  open(sealed: Buffer): Buffer {
    if (!this.receiveKey) throw new DecodeError('E_DECODE', 'frame before the preamble');
    if (sealed.length < TAG_BYTES) throw new DecodeError('E_DECODE', 'sealed frame shorter than its tag');
    const header = Buffer.alloc(4);
    header.writeUInt32BE(sealed.length, 0);
    const decipher = createDecipheriv('aes-256-gcm', this.receiveKey, nonce(this.opened++));
    decipher.setAAD(header);
    decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
    try {
      return Buffer.concat([decipher.update(sealed.subarray(0, sealed.length - TAG_BYTES)), decipher.final()]);
    } catch {
      throw new DecodeError('E_DECODE', 'frame failed authentication (wrong key, tampered, replayed or reordered)');
    }
  }
}
