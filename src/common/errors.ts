/**
 * Typed errors. Every error wirelab raises on purpose is a WirelabError with a stable `code`, so that
 * callers (and the CLI) can tell a user's mistake from a bug and print one clear line for it.
 */
export type ErrorCode =
  | 'E_USAGE'
  | 'E_CONFIG'
  | 'E_ADDR_IN_USE'
  | 'E_BAD_ADDRESS'
  | 'E_FILE'
  | 'E_KEY'
  | 'E_DECODE'
  | 'E_TOO_LARGE'
  | 'E_TRUNCATED'
  | 'E_UNSUPPORTED'
  | 'E_PERMISSION'
  | 'E_MISSING_TOOL'
  | 'E_NOT_IMPLEMENTED'
  | 'E_NETWORK'
  | 'E_CLOSED'
  | 'E_TIMEOUT'
  | 'E_LAB';

export class WirelabError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** A decoder met bytes it cannot accept: malformed, truncated or over a limit. */
export class DecodeError extends WirelabError {
  /** Byte offset in the input where the problem was found, when known. */
  readonly offset: number | undefined;

  constructor(
    code: 'E_DECODE' | 'E_TOO_LARGE' | 'E_TRUNCATED' | 'E_UNSUPPORTED',
    message: string,
    offset?: number,
  ) {
    super(code, message);
    this.offset = offset;
  }
}

export function isWirelabError(err: unknown): err is WirelabError {
  return err instanceof WirelabError;
}

/**
 * Turn a Node system error from a socket or file call into a WirelabError with a clear message.
 * `what` says what we were doing ("bind UDP 0.0.0.0:12345").
 */
export function fromSystemError(err: unknown, what: string): WirelabError {
  if (err instanceof WirelabError) return err;
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case 'EADDRINUSE':
      return new WirelabError('E_ADDR_IN_USE', `${what}: address already in use`, { cause: err });
    case 'EADDRNOTAVAIL':
    case 'EAFNOSUPPORT':
    case 'ENOTFOUND':
    case 'EINVAL':
      return new WirelabError('E_BAD_ADDRESS', `${what}: address not available (${code})`, { cause: err });
    case 'EACCES':
    case 'EPERM':
      return new WirelabError('E_PERMISSION', `${what}: permission denied`, { cause: err });
    case 'ENOENT':
      return new WirelabError('E_FILE', `${what}: no such file`, { cause: err });
    default: {
      const detail = err instanceof Error ? err.message : String(err);
      return new WirelabError('E_NETWORK', `${what}: ${detail}`, { cause: err });
    }
  }
}
