/** The seeds' config file (the seed project's config.txt): one `IP:PORT` per line. */
import { readFile } from 'node:fs/promises';
import { WirelabError, fromSystemError, isWirelabError } from '../common/errors.js';
import { parseEndpoint, type Endpoint } from './protocol.js';
import { MAX_ID_SPACES } from './constants.js';

/** Most seeds a config may list (each owns an id space). */
const MAX_SEEDS = MAX_ID_SPACES;

/** Parse config text: blank lines and `#` comments are skipped; duplicates are an error. */
export function parseSeedConfig(text: string, what = 'seed config'): Endpoint[] {
  const seeds: Endpoint[] = [];
  const seen = new Set<string>();
  for (const [index, raw] of text.split(/\r?\n/).entries()) {
    const line = raw.replace(/#.*/, '').trim();
    if (line === '') continue;
    let endpoint: Endpoint;
    try {
      endpoint = parseEndpoint(line);
    } catch (err) {
      if (!isWirelabError(err)) throw err;
      throw new WirelabError('E_CONFIG', `${what} line ${index + 1}: ${err.message}`);
    }
    const key = `${endpoint.host}:${endpoint.port}`;
    if (seen.has(key)) throw new WirelabError('E_CONFIG', `${what} line ${index + 1}: ${key} listed twice`);
    seen.add(key);
    seeds.push(endpoint);
    if (seeds.length > MAX_SEEDS) throw new WirelabError('E_CONFIG', `${what}: more than ${MAX_SEEDS} seeds`);
  }
  if (seeds.length === 0) throw new WirelabError('E_CONFIG', `${what}: no seeds listed`);
  return seeds;
}

export async function readSeedConfig(path: string): Promise<Endpoint[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw fromSystemError(err, `read ${path}`);
  }
  return parseSeedConfig(text, path);
}
