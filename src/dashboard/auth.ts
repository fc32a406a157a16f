/**
 * Who may see the dashboard. On a loopback address, anyone on this machine, but only through a
 * loopback host name (a page from elsewhere cannot rebind its own name to 127.0.0.1 and read the
 * API). On any other address, a token: `Authorization: Bearer T`, `?token=T` (which also sets a
 * same-site cookie, so the page's own requests carry it), or that cookie. WebSocket upgrades must
 * come from the page's own origin.
 */
import { timingSafeEqual, createHash } from 'node:crypto';
import { isIP } from 'node:net';
import type { FastifyReply, FastifyRequest } from 'fastify';

const COOKIE = 'wirelab_token';
const LOOPBACK_NAMES = new Set(['localhost', '127.0.0.1', '::1', '[::1]']);

/** Is this a loopback bind address? */
export function isLoopback(host: string): boolean {
  if (host === 'localhost' || host === '::1') return true;
  return isIP(host) === 4 && host.startsWith('127.');
}

function hostName(hostHeader: string | undefined): string {
  if (hostHeader === undefined) return '';
  if (hostHeader.startsWith('[')) return hostHeader.slice(0, hostHeader.indexOf(']') + 1);
  return hostHeader.split(':')[0] ?? '';
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

function cookieToken(header: string | undefined): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const [name, ...value] = part.trim().split('=');
    if (name === COOKIE) return decodeURIComponent(value.join('='));
  }
  return undefined;
}

export class Gate {
  private readonly tokenDigest: Buffer | undefined;

  /** `token` undefined: loopback mode (host-name check only). */
  constructor(
    private readonly token: string | undefined,
    private readonly boundHost: string,
  ) {
    this.tokenDigest = token === undefined ? undefined : digest(token);
  }

  /** fastify onRequest hook: answers 403/401 itself and returns false when the request may not go on. */
  check(request: FastifyRequest, reply: FastifyReply): boolean {
    if (this.tokenDigest === undefined) {
      const name = hostName(request.headers.host);
      if (!LOOPBACK_NAMES.has(name) && !name.startsWith('127.') && name !== this.boundHost) {
        void reply.code(403).send({ error: 'this dashboard answers only to a loopback host name (http://127.0.0.1:PORT/)' });
        return false;
      }
    }
    if (request.headers.upgrade !== undefined && !this.sameOrigin(request)) {
      void reply.code(403).send({ error: 'cross-origin WebSocket refused' });
      return false;
    }
    if (this.tokenDigest === undefined) return true;
    const query = (request.query ?? {}) as Record<string, unknown>;
    const fromQuery = typeof query.token === 'string' ? query.token : undefined;
    const auth = request.headers.authorization;
    const given = fromQuery ?? (auth?.startsWith('Bearer ') ? auth.slice(7) : undefined) ?? cookieToken(request.headers.cookie);
    if (given !== undefined && timingSafeEqual(digest(given), this.tokenDigest)) {
      if (fromQuery !== undefined) void reply.header('set-cookie', `${COOKIE}=${encodeURIComponent(this.token!)}; Path=/; HttpOnly; SameSite=Strict`);
      return true;
    }
    // the page itself and its assets are not secret: it says what is missing
    const path = request.url.split('?')[0] ?? '';
    if (!path.startsWith('/api/') && path !== '/ws' && path !== '/metrics') return true;
    void reply.code(401).send({ error: 'token required: open the URL printed when the dashboard started' });
    return false;
  }

  private sameOrigin(request: FastifyRequest): boolean {
    const origin = request.headers.origin;
    if (origin === undefined) return true; // not a browser
    try {
      return new URL(origin).host === request.headers.host;
    } catch {
      return false;
    }
  }
}
