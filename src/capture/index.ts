/**
 * The public face of capture: packets from files (pcap, pcapng) and live interfaces, capture files
 * written, and the decoders (re-exported from ./decode).
 */
export type { RawPacket, PacketSummary } from './types.js';
export {
  CaptureReader,
  ByteQueue,
  defaultLimits,
  detectFormat,
  readCaptureFile,
  readCaptureFileInto,
  STDIN_PATH,
  type CaptureFormat,
  type PacketSink,
  type ReadIntoOptions,
  type ReaderLimits,
  type ReadFileOptions,
  type ReadProgress,
} from './reader.js';
export { BpfProgram, parseBpfDecimal, validateBpf, BPF_MAX_INSTRUCTIONS, type BpfInstruction } from './bpf.js';
export { compileFilter, PacketFilter, type CompileResult } from './bpf-compile.js';
export { parsePcapFileHeader, type PcapFileHeader } from './pcap.js';
export { convertTimestamp, type PcapngInterface } from './pcapng.js';
export {
  CaptureWriter,
  formatForPath,
  type CaptureWriterOptions,
  type CaptureWriterStats,
  type WriteFormat,
} from './writer.js';
export {
  LiveCapture,
  chooseEngine,
  parseDumpcapStats,
  parseTcpdumpStats,
  type CaptureEngine,
  type LiveCaptureDeps,
  type LiveCaptureEvents,
  type LiveCaptureOptions,
  type LiveCaptureStats,
} from './live.js';
export { DEFAULT_MAX_BLOCK_BYTES, DEFAULT_MAX_INTERFACES, DEFAULT_MAX_PACKET_BYTES, LINKTYPE_ETHERNET } from './constants.js';
// decode/index.ts is itself a public face (no internals), so all of it is capture's API too
export * from './decode/index.js';
