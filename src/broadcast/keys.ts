/**
 * Ed25519 key files for signing masters and trusting nodes: PEM (PKCS#8 / SPKI). The private key is
 * written 0600 in a 0700 directory whatever the umask; a private key that others can read is warned
 * about; a key is opened without waiting (O_NONBLOCK) and refused unless it is a regular file, so
 * that a FIFO given as a key cannot hang the command.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { chmod, lstat, mkdir, open, writeFile } from 'node:fs/promises';
import { constants as fsConstants } from 'node:fs';
import { dirname, join } from 'node:path';
import { WirelabError } from '../common/errors.js';

export const PRIVATE_KEY_FILE = 'broadcast.key';
export const PUBLIC_KEY_FILE = 'broadcast.pub';
/** Largest key file read, bytes: an Ed25519 PEM is about 120. */
const MAX_KEY_FILE_BYTES = 64 * 1024;

const errno = (err: unknown): string => (err as NodeJS.ErrnoException).code ?? String(err);

/** The --out directory: an existing directory, or a new one in an existing directory (never a recursive mkdir). */
async function prepareKeyDir(dir: string): Promise<void> {
  const info = await lstat(dir).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT' || err.code === 'ENOTDIR') return undefined;
    throw new WirelabError('E_USAGE', `--out ${dir}: ${errno(err)}`, { cause: err });
  });
  if (info) {
    if (!info.isDirectory()) throw new WirelabError('E_USAGE', `--out ${dir}: not a directory`);
    return;
  }
  const parent = dirname(dir);
  const parentInfo = await lstat(parent).catch(() => undefined);
  if (!parentInfo?.isDirectory()) throw new WirelabError('E_USAGE', `--out ${dir}: ${parent} is not an existing directory`);
  try {
    await mkdir(dir, { mode: 0o700 });
    await chmod(dir, 0o700); // the umask may have taken bits away (or left none)
  } catch (err) {
    throw new WirelabError('E_USAGE', `--out ${dir}: cannot create it (${errno(err)})`, { cause: err });
  }
}

/** Make a key pair in `dir`: broadcast.key (private, mode 0600) and broadcast.pub (0644). Refuses to overwrite. */
export async function generateKeyFiles(dir: string): Promise<{ privateKey: string; publicKey: string }> {
  await prepareKeyDir(dir);
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const paths = { privateKey: join(dir, PRIVATE_KEY_FILE), publicKey: join(dir, PUBLIC_KEY_FILE) };
  try {
    await writeFile(paths.privateKey, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600, flag: 'wx' });
    await chmod(paths.privateKey, 0o600);
    await writeFile(paths.publicKey, publicKey.export({ type: 'spki', format: 'pem' }), { mode: 0o644, flag: 'wx' });
    await chmod(paths.publicKey, 0o644);
  } catch (err) {
    if (errno(err) === 'EEXIST') throw new WirelabError('E_KEY', `a key already exists in ${dir}; not overwriting it`, { cause: err });
    throw new WirelabError('E_USAGE', `--out ${dir}: cannot write the keys (${errno(err)})`, { cause: err });
  }
  return paths;
}

/**
 * Read a key file: a regular file of at most 64 KiB. Opened non-blocking, so that a FIFO is seen for
 * what it is (fstat) instead of waiting for a writer.
 */
async function readKeyFile(path: string, what: string): Promise<{ pem: Buffer; mode: number }> {
  let handle;
  try {
    handle = await open(path, fsConstants.O_RDONLY | fsConstants.O_NONBLOCK);
  } catch (err) {
    throw new WirelabError('E_KEY', `cannot read ${what} ${path}: ${errno(err)}`, { cause: err });
  }
  try {
    const info = await handle.stat();
    if (!info.isFile()) {
      const kind = info.isFIFO() ? 'a FIFO' : info.isDirectory() ? 'a directory' : info.isCharacterDevice() || info.isBlockDevice() ? 'a device' : 'not a file';
      throw new WirelabError('E_USAGE', `${what} ${path} is ${kind}, not a regular file`);
    }
    if (info.size > MAX_KEY_FILE_BYTES) throw new WirelabError('E_KEY', `${what} ${path} is ${info.size} bytes: not a key file`);
    return { pem: await handle.readFile(), mode: info.mode & 0o777 };
  } catch (err) {
    if (err instanceof WirelabError) throw err;
    throw new WirelabError('E_KEY', `cannot read ${what} ${path}: ${errno(err)}`, { cause: err });
  } finally {
    await handle.close();
  }
}

function requireEd25519(key: KeyObject, path: string): KeyObject {
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new WirelabError('E_KEY', `${path} is a ${key.asymmetricKeyType ?? 'non-asymmetric'} key, not Ed25519`);
  }
  return key;
}

/**
 * Load a master's private signing key. `warn` hears about a key that the group or others may read
 * (anyone who reads it can sign as the master).
 */
export async function loadPrivateKey(path: string, warn?: (message: string) => void): Promise<KeyObject> {
  const { pem, mode } = await readKeyFile(path, 'private key');
  let key: KeyObject;
  try {
    key = requireEd25519(createPrivateKey(pem), path);
  } catch (err) {
    if (err instanceof WirelabError) throw err;
    throw new WirelabError('E_KEY', `${path} is not a PEM private key`, { cause: err });
  }
  if ((mode & 0o077) !== 0) {
    warn?.(`private key ${path} can be read by others (mode ${mode.toString(8).padStart(4, '0')}); anyone who reads it can sign as this master: chmod 600 ${path}`);
  }
  return key;
}

const PRIVATE_PEM = /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/;

/**
 * Load the public key a node trusts. A private key is refused: handing the signing key to every node
 * would let any of them (or anyone who reads it there) sign messages as the master.
 */
export async function loadPublicKey(path: string): Promise<KeyObject> {
  const { pem } = await readKeyFile(path, 'public key');
  if (PRIVATE_PEM.test(pem.toString('latin1'))) {
    throw new WirelabError('E_USAGE', `--trust takes the public key (${PUBLIC_KEY_FILE}); ${path} is a private key, which would let every node sign as the master`);
  }
  try {
    return requireEd25519(createPublicKey(pem), path);
  } catch (err) {
    if (err instanceof WirelabError) throw err;
    throw new WirelabError('E_KEY', `${path} is not a PEM public key`, { cause: err });
  }
}
