/** Our client library logged in to a test server, with what it shows collected for assertions. */
import { join } from 'node:path';
import { ChatClient, type ChatClientEvents } from '../../../src/chat/index.js';
import { withDeadline } from '../../helpers/deadline.js';

export class TestUser {
  readonly texts: Array<{ header: string; text: string }> = [];
  readonly saved: Array<ChatClientEvents['file-saved'][0]> = [];

  private constructor(readonly client: ChatClient) {
    client.on('text', (e) => this.texts.push(e));
    client.on('file-saved', (e) => this.saved.push(e));
  }

  static async join(port: number, name: string, options: { register?: boolean; password?: string; downloads: string; tls?: { ca?: Buffer }; extended?: boolean }): Promise<TestUser> {
    const client = new ChatClient({ port, downloadsDir: join(options.downloads, name), tls: options.tls, extended: options.extended });
    await client.connect();
    const user = new TestUser(client);
    await client.login({ register: options.register ?? true, name, password: options.password ?? `pw-${name}` }, () => Promise.reject(new Error('name taken')));
    return user;
  }

  /** Wait until a shown text matches. */
  async waitText(match: (t: { header: string; text: string }) => boolean, ms = 10_000, what = 'text'): Promise<{ header: string; text: string }> {
    return withDeadline(
      new Promise((resolve) => {
        const found = this.texts.find(match);
        if (found) return resolve(found);
        const on = (e: { header: string; text: string }): void => {
          if (!match(e)) return;
          this.client.off('text', on);
          resolve(e);
        };
        this.client.on('text', on);
      }),
      ms,
      () => `${this.client.name}: ${what}; got ${JSON.stringify(this.texts.slice(-5))}`,
    );
  }

  waitSaved(ms = 30_000): Promise<ChatClientEvents['file-saved'][0]> {
    return withDeadline(
      new Promise((resolve) => {
        if (this.saved.length > 0) return resolve(this.saved[0]!);
        this.client.once('file-saved', resolve);
      }),
      ms,
      `${this.client.name}: a saved file`,
    );
  }

  close(): void {
    this.client.destroy();
  }
}
