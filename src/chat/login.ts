/**
 * The seed's login dialogue on the server: "Are you already registered? (yes/no):", then a new name
 * (refused while taken) and a password, or a name and a password to check. Passwords are hashed by
 * the account store and never kept or logged here.
 */
import type { AccountStore } from './accounts.js';
import type { Connection } from './connection.js';
import { Texts, isValidUserName, payloadText } from './protocol.js';
import { MAX_PASSWORD_BYTES } from './constants.js';

export interface LoginHost {
  accounts(): AccountStore;
  isOnline(name: string): boolean;
  isClosing(): boolean;
  join(conn: Connection, name: string): void;
  protocolError(conn: Connection, reason: string): void;
  registered(conn: Connection, name: string): void;
  failed(conn: Connection, name: string, reason: string): void;
}

export class LoginDialogue {
  /** names chosen by a registration whose password has not come yet */
  private readonly registering = new Set<string>();

  constructor(private readonly host: LoginHost) {}

  /** One record from a client not logged in yet. */
  onRecord(conn: Connection, header: string, payload: Buffer): void | Promise<void> {
    const text = payloadText(payload);
    if (header === 'file_transfer') {
      conn.rawSink = { write: () => undefined, end: () => Promise.resolve(), abort: () => undefined };
    }
    if (header !== 'info' || text === null || conn.auth === 'busy') return this.host.protocolError(conn, 'record before login');
    switch (conn.auth) {
      case 'answer': {
        const answer = text.trim().toLowerCase();
        if (answer === 'yes') conn.auth = 'login-name';
        else if (answer === 'no') conn.auth = 'new-name';
        else conn.send('info', Texts.prompt);
        return;
      }
      case 'login-name':
        conn.pendingName = text.trim();
        conn.auth = 'login-password';
        return;
      case 'login-password':
        return this.login(conn, text);
      case 'new-name':
        return this.chooseName(conn, text.trim());
      case 'new-password':
        return this.register(conn, text);
      case 'done':
        return;
    }
  }

  private chooseName(conn: Connection, name: string): void {
    if (!isValidUserName(name)) {
      conn.send('error', Texts.badName);
      conn.send('info', Texts.nameTaken);
      return;
    }
    if (this.registering.has(name) || this.host.accounts().exists(name)) {
      conn.send('info', Texts.nameTaken);
      return;
    }
    this.registering.add(name);
    conn.pendingName = name;
    conn.auth = 'new-password';
    conn.send('info', Texts.registered);
  }

  private async register(conn: Connection, password: string): Promise<void> {
    const name = conn.pendingName;
    conn.auth = 'busy';
    try {
      const ok = Buffer.byteLength(password) <= MAX_PASSWORD_BYTES && (await this.host.accounts().register(name, password));
      if (conn.isClosed || this.host.isClosing()) return;
      if (!ok) {
        conn.auth = 'new-name';
        conn.send('info', Texts.nameTaken);
        return;
      }
      this.host.registered(conn, name);
      this.host.join(conn, name);
    } finally {
      this.registering.delete(name);
    }
  }

  private async login(conn: Connection, password: string): Promise<void> {
    const name = conn.pendingName;
    conn.auth = 'busy';
    const result = Buffer.byteLength(password) > MAX_PASSWORD_BYTES ? 'invalid' : await this.host.accounts().login(name, password, conn.address);
    if (conn.isClosed || this.host.isClosing()) return;
    if (result === 'ok' && this.host.isOnline(name)) {
      conn.send('info', Texts.alreadyOnline(name));
      this.host.failed(conn, name, 'already logged in');
      return conn.close('already logged in');
    }
    if (result !== 'ok') {
      if (result === 'throttled') conn.send('error', Texts.throttled);
      conn.send('info', Texts.invalidLogin);
      this.host.failed(conn, name, result);
      return conn.close('login failed');
    }
    this.host.join(conn, name);
  }
}
