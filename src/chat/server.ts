/**
 * The chat server: one event loop for every client, speaking the seed's protocol byte for byte to a
 * seed client and our extension to a client that negotiates it. Accounts in SQLite, messages, files,
 * quizzes, and an operator console (see console.ts).
 */
import { EventEmitter } from 'node:events';
import { createServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { AccountStore } from './accounts.js';
import { ChunkPool } from './chunk-pool.js';
import { Connection } from './connection.js';
import { FileStore } from './files.js';
import { encodeRecord, type Frame } from './framing.js';
import { LoginDialogue } from './login.js';
import { sweepKeptFiles } from './kept-files.js';
import { CAPABILITY, CAPABILITY_VERSION, Texts, parseClientRecord, type ClientRequest } from './protocol.js';
import type { QuizSession } from './quiz.js';
import { formatLeaderboard } from './quiz-format.js';
import { Transfers } from './transfers.js';
import type { ChatServerDeps, ChatServerEvents, ChatServerOptions } from './server-types.js';
import { logServerEvents } from './server-log.js';
import { fromSystemError } from '../common/errors.js';
import { PeriodicTask, systemClock, type Clock } from '../common/lifecycle.js';
import { silentLogger } from '../common/log.js';
import {
  DEFAULT_PORT,
  FILE_CHUNK_BYTES,
  LOGIN_TIMEOUT_MS,
  MAX_CONNECTIONS,
  MAX_PENDING_PER_ADDRESS,
  MAX_PRESENCE_USERS,
  MAX_FILE_BYTES,
  MAX_QUEUED_BYTES,
  MAX_TEXT_BYTES,
  PARTIAL_TTL_MS,
  MAX_PARTIAL_BYTES,
  QUIZ_MS,
  SHUTDOWN_GRACE_MS,
} from './constants.js';

/** A TLS handshake must be done in this long (ms). */
const TLS_HANDSHAKE_MS = 10_000;

type Fields = Record<string, unknown>;

export class ChatServer extends EventEmitter<ChatServerEvents> {
  readonly store: FileStore;
  readonly transfers: Transfers;
  private accounts: AccountStore | null = null;
  private server: Server | null = null;
  private readonly connections = new Set<Connection>();
  private readonly users = new Map<string, Connection>();
  private readonly loginTimers = new Map<Connection, NodeJS.Timeout>();
  /** connections not logged in yet, per address */
  private readonly pendingByAddress = new Map<string, number>();
  private quiz: QuizSession | null = null;
  private quizTimer: NodeJS.Timeout | undefined;
  private nextId = 1;
  private readonly login: LoginDialogue;
  private closing: Promise<void> | null = null;
  private counters = { messages: 0, privateMessages: 0, files: 0, protocolErrors: 0, logins: 0, failedLogins: 0 };
  private readonly clock: Clock;
  /** logs what the warning digests still count, and stops their timers */
  private readonly stopLog: () => void;
  private readonly sweeper: PeriodicTask;
  /** memory for incoming file chunks, shared by all connections: 64 chunks (16 MiB) at most kept */
  private readonly chunkPool = new ChunkPool(FILE_CHUNK_BYTES + 4, 64);

  constructor(
    readonly options: ChatServerOptions,
    deps: ChatServerDeps = {},
  ) {
    super();
    this.clock = deps.clock ?? systemClock;
    const logger = deps.logger ?? silentLogger;
    this.stopLog = logServerEvents(this, logger, this.clock);
    // a quarter of the TTL between sweeps (within 1 s .. 1 h): a part outlives its TTL by at most that
    const ttl = options.partialTtlMs ?? PARTIAL_TTL_MS;
    this.sweeper = new PeriodicTask(Math.min(3_600_000, Math.max(1_000, ttl / 4)), () => this.sweep(), (err) => logger.warn({ err }, 'could not sweep the resume data'), this.clock);
    this.store = new FileStore(options.dataDir);
    this.transfers = new Transfers({
      store: this.store,
      maxFileBytes: options.maxFileBytes ?? MAX_FILE_BYTES,
      online: (name) => this.users.get(name),
      onlineAll: () => [...this.users.values()],
      onFile: (event) => {
        this.counters.files++;
        this.emit('file', event);
      },
      onRefused: (conn, name, reason) => this.emit('file-refused', { from: conn.name, name, reason }),
    });
    this.login = new LoginDialogue({
      accounts: () => this.accounts!,
      isOnline: (name) => this.users.has(name),
      isClosing: () => this.closing !== null,
      join: (conn, name) => this.join(conn, name),
      protocolError: (conn, reason) => this.protocolError(conn, reason, false),
      registered: (conn, name) => this.emit('registered', { name, address: conn.address }),
      failed: (conn, name, reason) => {
        this.counters.failedLogins++;
        this.emit('login-failed', { name, address: conn.address, reason });
      },
    });
  }

  /** Open the database and folders, then listen. Resolves with the bound port. */
  async start(): Promise<number> {
    await this.store.prepare();
    await this.sweep();
    this.accounts = new AccountStore(this.options.dataDir, Date.now, this.options.hashCost);
    const onSocket = (socket: Socket): void => this.accept(socket);
    this.server = this.options.tls ? createTlsServer({ cert: this.options.tls.cert, key: this.options.tls.key, handshakeTimeout: TLS_HANDSHAKE_MS }, onSocket) : createServer(onSocket);
    this.server.maxConnections = this.options.maxConnections ?? MAX_CONNECTIONS;
    const host = this.options.host ?? '127.0.0.1';
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', (err) => reject(fromSystemError(err, `listen on ${host}:${this.options.port ?? DEFAULT_PORT}`)));
      this.server!.listen(this.options.port ?? DEFAULT_PORT, host, () => resolve());
    });
    this.server.on('error', () => undefined);
    // after the listen: a server that could not start leaves no timer behind (the process ends)
    this.sweeper.start();
    const port = this.port;
    this.emit('listening', { host, port, tls: this.options.tls !== undefined });
    return port;
  }

  /** Remove expired parts of uploads and unconfirmed downloads (see kept-files.ts). */
  async sweep(): Promise<void> {
    const removed = await sweepKeptFiles(this.store, {
      now: this.clock.now(),
      ttlMs: this.options.partialTtlMs ?? PARTIAL_TTL_MS,
      maxBytes: this.options.maxPartialBytes ?? MAX_PARTIAL_BYTES,
      inUse: this.transfers.inUse,
    });
    if (removed.files > 0) this.emit('partials-removed', removed);
  }

  get port(): number {
    const address = this.server?.address();
    return typeof address === 'object' && address !== null ? address.port : 0;
  }

  /** Names of the users logged in. */
  onlineNames(): string[] {
    return [...this.users.keys()];
  }

  user(name: string): Connection | undefined {
    return this.users.get(name);
  }

  stats(): Fields {
    return { connections: this.connections.size, online: this.users.size, ...this.counters };
  }

  private accept(socket: Socket): void {
    const address = socket.remoteAddress ?? 'unknown';
    const pending = this.pendingByAddress.get(address) ?? 0;
    if (this.closing || pending >= MAX_PENDING_PER_ADDRESS) {
      socket.destroy();
      return;
    }
    this.pendingByAddress.set(address, pending + 1);
    const conn = new Connection(this.nextId++, socket, {
      onFrame: (c, frame) => this.onFrame(c, frame),
      onClose: (c, reason) => this.onClose(c, reason),
      onSlow: (c) => this.emit('slow-client', { id: c.id, name: c.name }),
    }, { maxQueuedBytes: this.options.maxQueuedBytes ?? MAX_QUEUED_BYTES, chunkPool: this.chunkPool });
    this.connections.add(conn);
    const timer = setTimeout(() => {
      conn.send('error', Texts.loginTimeout);
      void conn.close('login timeout');
    }, this.options.loginTimeoutMs ?? LOGIN_TIMEOUT_MS);
    this.loginTimers.set(conn, timer);
    this.emit('connected', { id: conn.id, address: conn.address });
    conn.send('info', Texts.prompt);
  }

  private notPending(conn: Connection): void {
    if (!this.loginTimers.has(conn)) return;
    clearTimeout(this.loginTimers.get(conn));
    this.loginTimers.delete(conn);
    const left = (this.pendingByAddress.get(conn.address) ?? 1) - 1;
    if (left > 0) this.pendingByAddress.set(conn.address, left);
    else this.pendingByAddress.delete(conn.address);
  }

  private onClose(conn: Connection, reason: string): void {
    this.notPending(conn);
    this.connections.delete(conn);
    this.transfers.disconnected(conn);
    if (conn.name !== null && this.users.get(conn.name) === conn) {
      this.users.delete(conn.name);
      if (!this.closing && this.users.size < MAX_PRESENCE_USERS) this.broadcast('info', Texts.left(conn.name));
    }
    this.emit('left', { id: conn.id, name: conn.name, address: conn.address, reason });
    if (this.quiz?.complete((u) => this.users.has(u))) void this.endQuiz();
  }

  /** One record to every logged-in client (but `except`), framed once. */
  broadcast(header: string, text: string, except?: Connection): void {
    const bytes = encodeRecord(header, text);
    for (const conn of this.users.values()) if (conn !== except) conn.sendBytes(bytes);
  }

  private protocolError(conn: Connection, reason: string, fatal: boolean): void {
    this.counters.protocolErrors++;
    this.emit('protocol-error', { id: conn.id, address: conn.address, name: conn.name, reason });
    conn.send('error', Texts.invalidFormat);
    if (fatal) void conn.close(reason);
  }

  private onFrame(conn: Connection, frame: Frame): void | Promise<void> {
    switch (frame.kind) {
      case 'error':
        return this.protocolError(conn, frame.message, frame.fatal);
      case 'raw':
        return conn.rawSink?.write(frame.data);
      case 'raw-end':
        return this.transfers.endRaw(conn);
      case 'record':
        return conn.auth === 'done' ? this.onRecord(conn, frame.header, frame.payload) : this.login.onRecord(conn, frame.header, frame.payload);
    }
  }

  /** The login dialogue is over: `conn` is NAME from now on. */
  private join(conn: Connection, name: string): void {
    this.notPending(conn);
    conn.name = name;
    conn.auth = 'done';
    this.users.set(name, conn);
    this.counters.logins++;
    conn.send('info', Texts.joined);
    if (this.users.size <= MAX_PRESENCE_USERS) this.broadcast('info', Texts.joinedOther(name), conn);
    this.emit('joined', { name, address: conn.address, extended: conn.extended });
  }

  // ---- after login ---------------------------------------------------------------------------

  private onRecord(conn: Connection, header: string, payload: Buffer): void | Promise<void> {
    if (header !== 'file_chunk') {
      const verdict = conn.allowRecord(Date.now());
      if (verdict === 'flood') {
        conn.send('error', Texts.flooded);
        return conn.close('flooding');
      }
      if (verdict === 'drop') {
        if (header === 'file_transfer') conn.rawSink = { write: () => undefined, end: () => Promise.resolve(), abort: () => undefined };
        conn.send('error', Texts.tooFast);
        return;
      }
    }
    return this.handle(conn, parseClientRecord(header, payload));
  }

  private handle(conn: Connection, request: ClientRequest): void | Promise<void> {
    const name = conn.name!;
    switch (request.type) {
      case 'group':
        if (!this.textOk(conn, request.text)) return;
        this.counters.messages++;
        this.broadcast('msg', Texts.group(name, request.text), conn);
        this.emit('message', { from: name, to: null, text: request.text });
        return;
      case 'private':
        return this.privateMessage(conn, request.to, request.text);
      case 'command':
        return this.command(conn, request.command);
      case 'info':
        return;
      case 'upload':
        return this.transfers.startRaw(conn, request.name, null);
      case 'relay':
        return this.transfers.startRaw(conn, request.name, request.to);
      case 'quiz-answer':
        return this.quizAnswer(conn, request.answers);
      case 'caps':
        // an older version of our client gets our token, sees it is not its own, and keeps to the seed's mode
        conn.extended = request.caps.startsWith(CAPABILITY_VERSION);
        conn.send('caps', CAPABILITY);
        return;
      case 'file-offer':
        return this.transfers.offer(conn, request.offer);
      case 'file-chunk':
        return this.transfers.chunk(conn, request.id, request.data);
      case 'file-end':
        return this.transfers.end(conn, request.id, request.sha256);
      case 'file-resume':
        return this.transfers.resume(conn, request.resume);
      case 'file-received':
        return this.transfers.received(conn, request.id);
      case 'invalid':
        if (request.reason === 'text') {
          conn.send('error', Texts.badText);
          return;
        }
        return this.protocolError(conn, `invalid ${request.reason}`, false);
    }
  }

  private textOk(conn: Connection, text: string): boolean {
    if (Buffer.byteLength(text) <= MAX_TEXT_BYTES) return true;
    conn.send('error', Texts.tooLong);
    return false;
  }

  private privateMessage(conn: Connection, to: string, text: string): void {
    if (!this.textOk(conn, text)) return;
    const target = this.users.get(to);
    if (!target) {
      conn.send('error', Texts.noSuchUser(to));
      return;
    }
    this.counters.privateMessages++;
    target.send('info', Texts.private(conn.name!, text));
    this.emit('message', { from: conn.name!, to, text });
  }

  private command(conn: Connection, command: string): void | Promise<void> {
    if (command === 'disconnect') return conn.close('disconnect');
    if (command === 'users') {
      conn.send('info', `Server: Online: ${this.onlineNames().sort().join(', ')}\n`);
      return;
    }
    return this.protocolError(conn, `unknown command '${command}'`, false);
  }

  // ---- quiz ---------------------------------------------------------------------------------

  /** Send the questions to every logged-in client; ends after `quizMs` or when all have answered. */
  startQuiz(session: QuizSession, payload: string): void {
    if (this.quiz) throw new Error('a quiz is already running');
    this.quiz = session;
    this.broadcast('quiz_question', payload);
    this.quizTimer = setTimeout(() => void this.endQuiz(), this.options.quizMs ?? QUIZ_MS);
    this.emit('quiz-started', { questions: session.quiz.questions.length, participants: [...session.participants] });
  }

  get quizRunning(): boolean {
    return this.quiz !== null;
  }

  private quizAnswer(conn: Connection, answers: string[]): void {
    const quiz = this.quiz;
    if (!quiz || !quiz.participants.has(conn.name!)) {
      conn.send('error', Texts.noQuiz);
      return;
    }
    if (quiz.hasAnswered(conn.name!)) {
      conn.send('error', Texts.answered);
      return;
    }
    const score = quiz.answer(conn.name!, answers);
    conn.send('info', Texts.quizOver);
    this.emit('quiz-answer', { name: conn.name!, score, total: quiz.quiz.answers.length });
    if (quiz.complete((u) => this.users.has(u))) void this.endQuiz();
  }

  /** End the quiz: the leaderboard to everybody, once the CSV is written. */
  async endQuiz(): Promise<void> {
    const quiz = this.quiz;
    if (!quiz) return;
    this.quiz = null;
    clearTimeout(this.quizTimer);
    await quiz.settled();
    const total = quiz.quiz.answers.length;
    this.broadcast('info', formatLeaderboard(quiz.scores, total));
    this.emit('quiz-ended', { scores: quiz.scores, total });
  }

  // ---- operator -------------------------------------------------------------------------------

  /** A line from the operator: to every client as `Server: LINE`. */
  announce(line: string): void {
    this.broadcast('info', Texts.announce(line));
    this.emit('announcement', { text: line });
  }

  /** Disconnect a user; false when nobody of that name is online. */
  kick(name: string): boolean {
    const conn = this.users.get(name);
    if (!conn) return false;
    conn.send('info', Texts.kicked);
    void conn.close('kicked');
    this.emit('kicked', { name });
    return true;
  }

  /** Tell every client, let queued writes finish (up to a grace period), close sockets and the database. Idempotent. */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    clearTimeout(this.quizTimer);
    this.sweeper.stop();
    for (const conn of [...this.loginTimers.keys()]) this.notPending(conn);
    const closed = new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    const notice = encodeRecord('info', Texts.shuttingDown);
    await Promise.all([...this.connections].map((conn) => {
      conn.sendBytes(notice);
      return conn.close('shutdown', SHUTDOWN_GRACE_MS);
    }));
    await closed;
    await this.quiz?.settled();
    this.accounts?.close();
    this.stopLog();
    this.emit('shutdown', this.stats());
  }
}
