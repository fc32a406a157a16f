/**
 * The chat system (seed 003): the seed's framed protocol and raw file transfers, our extension
 * (framed, hashed, resumable files), the server, the client library and the operator console.
 */
export { ChatServer } from './server.js';
export type { ChatServerOptions, ChatServerEvents, ChatServerDeps } from './server-types.js';
export { AccountStore, type HashCost } from './accounts.js';
export { ChatClient, type ChatClientOptions, type ChatClientEvents, type Credentials } from './client.js';
export { runConsoleLine, type ConsoleResult } from './console.js';
export { FrameDecoder, encodeRecord, type Frame, type DecoderOptions } from './framing.js';
export { Texts, CAPABILITY, escapeControl, safeFileName, csvCell } from './protocol.js';
export { formatQuestions, parseQuestions, parseAnswers, scoreAnswers } from './quiz-format.js';
export { DEFAULT_PORT, MAX_PARTIAL_BYTES, MAX_QUEUED_BYTES, PARTIAL_TTL_MS } from './constants.js';
