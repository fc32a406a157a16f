/**
 * The chat protocol (pure): the seed's record headers and texts, byte for byte as the original
 * server sent them (see docs/chat.md), the parsing of what clients send, and our own extension
 * (capabilities and framed, hashed, resumable file transfers).
 */
import { z } from 'zod';
import { MAX_FILE_NAME_BYTES, MAX_NAME_CHARS } from './constants.js';

/** Headers a seed client may send (the original's validate_message list). */
export const SEED_CLIENT_HEADERS = ['msg', 'cmd', 'to', 'info', 'file_transfer', 'quiz_answer'] as const;
/** Headers our own extension adds, client to server. */
export const EXTENSION_CLIENT_HEADERS = ['caps', 'file_offer', 'file_chunk', 'file_end', 'file_resume', 'file_received'] as const;
export const CLIENT_HEADERS: readonly string[] = [...SEED_CLIENT_HEADERS, ...EXTENSION_CLIENT_HEADERS];
/** Headers the server sends (the seed client accepts the first six). */
export const SERVER_HEADERS: readonly string[] = [
  'msg', 'info', 'error', 'file_transfer', 'quiz_question', 'quiz_answer',
  'caps', 'file_offer', 'file_chunk', 'file_end', 'file_accept', 'file_done', 'file_error',
];

/**
 * The capability token of our extension, sent in a `caps` record once logged in. Version 2: an upload's
 * SHA-256 comes in its `file_end` (hashed while sending), downloads resume too.
 */
export const CAPABILITY = 'wirelab/2 files=chunked-sha256-resume';
/** A client's `caps` that the server takes (anything else keeps the client in the seed's mode). */
export const CAPABILITY_VERSION = 'wirelab/2';

/** The texts of the seed's server, byte for byte (reference: chat-seed-wire.md). */
export const Texts = {
  prompt: 'Are you already registered? (yes/no):',
  registered: 'Username registered successfully.',
  nameTaken: 'Username already exists. Please choose another: ',
  invalidLogin: 'Invalid username or password.',
  joined: 'Server: You joined the server.\n',
  invalidFormat: 'Server: Invalid message format. Please adhere to the message protocol.\n',
  quizOver: 'Quiz is over. Thank you for participating!\n',
  shuttingDown: 'Server is shutting down.\n',
  joinedOther: (name: string) => `Server: Client ${name} joined the server.\n`,
  left: (name: string) => `Server: Client ${name} left the server.\n`,
  group: (name: string, text: string) => `Client ${name}: ${text}\n`,
  private: (name: string, text: string) => `${name} (private): ${text}\n`,
  announce: (line: string) => `Server: ${line}\n`,
  uploaded: (file: string, name: string) => `Server: File '${file}' uploaded by ${name}\n`,
  sentTo: (file: string, name: string) => `Server: File '${file}' sent to ${name}\n`,
  /** the announcement before relayed raw bytes (the trailing \n is the original's) */
  fileTo: (from: string, file: string) => `file_to:${from}:${file}\n`,
  fileFromServer: (file: string) => `file from server:${file}\n`,
  /** our additions, in the same style */
  badName: `Server: A user name is 1 to ${MAX_NAME_CHARS} letters, digits, '.', '_' or '-', starting with a letter or digit.\n`,
  alreadyOnline: (name: string) => `Server: ${name} is already logged in.\n`,
  throttled: 'Server: Too many failed logins. Try again later.\n',
  loginTimeout: 'Server: Login took too long.\n',
  noSuchUser: (name: string) => `Server: No user named '${name}' is online.\n`,
  tooFast: 'Server: You are sending too fast; messages are being dropped.\n',
  flooded: 'Server: Too many messages; disconnecting.\n',
  tooLong: 'Server: Message too long.\n',
  badText: 'Server: Message is not valid UTF-8.\n',
  noQuiz: 'Server: No quiz is running.\n',
  answered: 'Server: You already answered this quiz.\n',
  kicked: 'Server: You were disconnected by the operator.\n',
  badFile: (why: string) => `Server: File refused: ${why}.\n`,
  slowReader: 'Server: You are not reading; disconnecting.\n',
} as const;

const NAME_RE = new RegExp(`^[A-Za-z0-9][A-Za-z0-9._-]{0,${MAX_NAME_CHARS - 1}}$`);

/** A user name we accept: it must fit `to:NAME:TEXT`, a file path and a CSV cell without escaping. */
export function isValidUserName(name: string): boolean {
  return NAME_RE.test(name);
}

const decoder = new TextDecoder('utf-8', { fatal: true });

/** The payload as text, or null when it is not valid UTF-8. */
export function payloadText(payload: Buffer): string | null {
  try {
    return decoder.decode(payload);
  } catch {
    return null;
  }
}

/** A client record, parsed. */
export type ClientRequest =
  | { type: 'group'; text: string }
  | { type: 'private'; to: string; text: string }
  | { type: 'command'; command: string }
  | { type: 'info'; text: string }
  | { type: 'upload'; name: string }
  | { type: 'relay'; to: string; name: string }
  | { type: 'quiz-answer'; answers: string[] }
  | { type: 'caps'; caps: string }
  | { type: 'file-offer'; offer: FileOffer }
  | { type: 'file-chunk'; id: number; data: Buffer }
  | { type: 'file-end'; id: number; sha256: string }
  | { type: 'file-resume'; resume: FileResume }
  | { type: 'file-received'; id: number }
  | { type: 'invalid'; reason: 'header' | 'text' | 'format' };

/** Does a seed file transfer of raw bytes follow this record? (The decoder's `rawAfter`.) */
export function isRawTransfer(header: string, payload: Buffer): boolean {
  if (header !== 'file_transfer') return false;
  return payload.subarray(0, 15).toString('latin1') === 'file_to_server:' || payload.subarray(0, 8).toString('latin1') === 'file_to:';
}

/** Split at the first ':' (the seed's `split(':', 1)`). */
function splitFirst(text: string): [string, string] | null {
  const at = text.indexOf(':');
  return at < 0 ? null : [text.slice(0, at), text.slice(at + 1)];
}

/** Parse one record from a client. Never throws. */
export function parseClientRecord(header: string, payload: Buffer): ClientRequest {
  if (header === 'file_chunk') {
    if (payload.length < 4) return { type: 'invalid', reason: 'format' };
    return { type: 'file-chunk', id: payload.readUInt32BE(0), data: payload.subarray(4) };
  }
  if (!CLIENT_HEADERS.includes(header)) return { type: 'invalid', reason: 'header' };
  const text = payloadText(payload);
  if (text === null) return { type: 'invalid', reason: 'text' };
  switch (header) {
    case 'msg':
      return { type: 'group', text };
    case 'to': {
      const parts = splitFirst(text);
      return parts ? { type: 'private', to: parts[0], text: parts[1] } : { type: 'invalid', reason: 'format' };
    }
    case 'cmd':
      return { type: 'command', command: text.trim() };
    case 'info':
      return { type: 'info', text };
    case 'quiz_answer':
      return { type: 'quiz-answer', answers: text.split(/\s+/).filter((a) => a !== '') };
    case 'file_transfer':
      return parseFileTransfer(text);
    case 'caps':
      return { type: 'caps', caps: text };
    case 'file_offer': {
      const offer = parseJson(FileOfferSchema, text);
      return offer ? { type: 'file-offer', offer } : { type: 'invalid', reason: 'format' };
    }
    case 'file_end': {
      const end = parseJson(FileEndSchema, text);
      return end ? { type: 'file-end', id: end.id, sha256: end.sha256 } : { type: 'invalid', reason: 'format' };
    }
    case 'file_resume': {
      const resume = parseJson(FileResumeSchema, text);
      return resume ? { type: 'file-resume', resume } : { type: 'invalid', reason: 'format' };
    }
    case 'file_received': {
      const received = parseJson(FileIdSchema, text);
      return received ? { type: 'file-received', id: received.id } : { type: 'invalid', reason: 'format' };
    }
    default:
      return { type: 'invalid', reason: 'header' };
  }
}

function parseFileTransfer(text: string): ClientRequest {
  if (text.startsWith('file_to_server:')) return { type: 'upload', name: text.slice('file_to_server:'.length) };
  if (text.startsWith('file_to:')) {
    const parts = splitFirst(text.slice('file_to:'.length));
    if (parts) return { type: 'relay', to: parts[0], name: parts[1] };
  }
  return { type: 'invalid', reason: 'format' };
}

/**
 * A file name from the network, made safe to create inside one folder, or null when it cannot be:
 * one trailing newline is dropped (the seed's client keeps it); a name with a path separator, NUL,
 * a control character, a leading dot, or over the length limit is refused.
 */
export function safeFileName(raw: string): string | null {
  const name = raw.endsWith('\n') ? raw.slice(0, -1) : raw;
  if (name.length === 0 || Buffer.byteLength(name, 'utf8') > MAX_FILE_NAME_BYTES) return null;
  if (name.startsWith('.') || name.endsWith(' ') || name.endsWith('.')) return null;
  // eslint-disable-next-line no-control-regex
  if (/[/\\\u0000-\u001f\u007f-\u009f\u2028\u2029:*?"<>|]/.test(name)) return null;
  return name;
}

/** Escape wire text before it reaches a terminal: control characters (not tab or newline) as \xHH. */
export function escapeControl(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** A CSV cell, escaped against spreadsheet formula injection (OWASP CSV Injection) and quoted when needed. */
export function csvCell(value: string): string {
  let cell = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  if (/[",\r\n]/.test(cell)) cell = `"${cell.replace(/"/g, '""')}"`;
  return cell;
}

// ---- our extension: framed files ------------------------------------------------------------

const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/);
const transferId = z.number().int().min(0).max(0xffffffff);
const bytes = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
/** Client to server: the SHA-256 comes in `file_end`, so that the client reads the file once. */
const FileOfferSchema = z.object({
  id: transferId,
  /** null: to the server; a name: to that user */
  to: z.string().max(MAX_NAME_CHARS).nullable().optional(),
  name: z.string().min(1).max(MAX_FILE_NAME_BYTES * 4),
  size: bytes,
  /** the file's modification time (ms): part of the resume key, so that an edited file starts over */
  mtime: bytes.optional(),
});
/** Server to client: the server knows the hash of what it sends; `offset` > 0 on a resumed download. */
const DownloadOfferSchema = z.object({
  id: transferId,
  from: z.string().max(MAX_NAME_CHARS),
  name: z.string().min(1).max(MAX_FILE_NAME_BYTES * 4),
  size: bytes,
  sha256: sha256Hex,
  offset: bytes.optional(),
});
const FileIdSchema = z.object({ id: transferId });
const FileEndSchema = z.object({ id: transferId, sha256: sha256Hex });
const FileResumeSchema = z.object({ sha256: sha256Hex, size: bytes, offset: bytes });
const FileAcceptSchema = z.object({ id: z.number().int(), offset: z.number().int().min(0) });
const FileDoneSchema = z.object({ id: z.number().int(), name: z.string(), size: z.number().int(), sha256: sha256Hex });
const FileErrorSchema = z.object({ id: z.number().int(), reason: z.string(), sha256: sha256Hex.optional() });

export type FileOffer = z.infer<typeof FileOfferSchema>;
export type DownloadOffer = z.infer<typeof DownloadOfferSchema>;
export type FileResume = z.infer<typeof FileResumeSchema>;
export type FileAccept = z.infer<typeof FileAcceptSchema>;
export type FileDone = z.infer<typeof FileDoneSchema>;
export type FileError = z.infer<typeof FileErrorSchema>;

function parseJson<T>(schema: z.ZodType<T>, text: string): T | null {
  try {
    const result = schema.safeParse(JSON.parse(text));
    return result.success ? result.data : null;
  } catch {
    return null;
  }
}

export const parseFileOffer = (text: string): FileOffer | null => parseJson(FileOfferSchema, text);
export const parseDownloadOffer = (text: string): DownloadOffer | null => parseJson(DownloadOfferSchema, text);
export const parseFileAccept = (text: string): FileAccept | null => parseJson(FileAcceptSchema, text);
export const parseFileDone = (text: string): FileDone | null => parseJson(FileDoneSchema, text);
export const parseFileError = (text: string): FileError | null => parseJson(FileErrorSchema, text);
export const parseFileId = (text: string): { id: number } | null => parseJson(FileIdSchema, text);

/** Bytes of a file_chunk record before the file bytes: u16 10, "file_chunk", u32 length, u32 id. */
export const CHUNK_RECORD_PREFIX = 2 + 10 + 4 + 4;

/**
 * A whole file_chunk record with room for `dataLength` file bytes at CHUNK_RECORD_PREFIX, so that a
 * file can be read straight into it (one buffer, no copy). `setChunkLength` fixes the length when
 * fewer bytes came. `memory` (at least that long) is used instead of a new buffer when given.
 */
export function allocChunkRecord(id: number, dataLength: number, memory?: Buffer): Buffer {
  const out = memory ?? Buffer.allocUnsafe(CHUNK_RECORD_PREFIX + dataLength);
  out.writeUInt16BE(10, 0);
  out.write('file_chunk', 2, 'latin1');
  out.writeUInt32BE(4 + dataLength, 12);
  out.writeUInt32BE(id, 16);
  return out;
}

/** The record cut to `dataLength` file bytes. */
export function setChunkLength(record: Buffer, dataLength: number): Buffer {
  record.writeUInt32BE(4 + dataLength, 12);
  return record.subarray(0, CHUNK_RECORD_PREFIX + dataLength);
}
