/** Ed25519 key files for signing masters and trusting nodes: PEM (PKCS#8 / SPKI). */
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { WirelabError, fromSystemError } from '../common/errors.js';

export const PRIVATE_KEY_FILE = 'broadcast.key';
export const PUBLIC_KEY_FILE = 'broadcast.pub';

/** Make a key pair in `dir`: broadcast.key (private, mode 0600) and broadcast.pub. Refuses to overwrite. */
export async function generateKeyFiles(dir: string): Promise<{ privateKey: string; publicKey: string }> {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const paths = { privateKey: join(dir, PRIVATE_KEY_FILE), publicKey: join(dir, PUBLIC_KEY_FILE) };
  try {
    await mkdir(dir, { recursive: true });
    await writeFile(paths.privateKey, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600, flag: 'wx' });
    await writeFile(paths.publicKey, publicKey.export({ type: 'spki', format: 'pem' }), { flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new WirelabError('E_KEY', `a key already exists in ${dir}; not overwriting it`, { cause: err });
    }
    throw fromSystemError(err, `write keys to ${dir}`);
  }
  return paths;
}

async function readKeyFile(path: string, what: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (err) {
    throw new WirelabError('E_KEY', `cannot read ${what} ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, { cause: err });
  }
}

function requireEd25519(key: KeyObject, path: string): KeyObject {
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new WirelabError('E_KEY', `${path} is a ${key.asymmetricKeyType ?? 'non-asymmetric'} key, not Ed25519`);
  }
  return key;
}

/** Load a master's private signing key. */
export async function loadPrivateKey(path: string): Promise<KeyObject> {
  const pem = await readKeyFile(path, 'private key');
  try {
    return requireEd25519(createPrivateKey(pem), path);
  } catch (err) {
    if (err instanceof WirelabError) throw err;
    throw new WirelabError('E_KEY', `${path} is not a PEM private key`, { cause: err });
  }
}

/** Load the public key a node trusts (a public key file, or the private key file it derives from). */
export async function loadPublicKey(path: string): Promise<KeyObject> {
  const pem = await readKeyFile(path, 'public key');
  try {
    return requireEd25519(createPublicKey(pem), path);
  } catch (err) {
    if (err instanceof WirelabError) throw err;
    throw new WirelabError('E_KEY', `${path} is not a PEM public key`, { cause: err });
  }
}
