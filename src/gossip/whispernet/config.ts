/** The original's config.txt: `IP:PORT` per line, where the IP may be `localhost` (read as 127.0.0.1). */
import { readFile } from 'node:fs/promises';
import { fromSystemError } from '../../common/errors.js';
import { parseSeedConfig } from '../config.js';
import { localhostAsIpv4 } from './codec.js';
import type { WhisperEndpoint } from './codec.js';

export async function readWhispernetConfig(path: string): Promise<WhisperEndpoint[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw fromSystemError(err, `read ${path}`);
  }
  return parseSeedConfig(localhostAsIpv4(text), path);
}
