/** Wire text on its way to a terminal (docs/cli.md: text from the wire is escaped). */

// C0 controls but tab, DEL and the C1 controls (U+0080-U+009F, among them CSI U+009B), and the
// Unicode line and paragraph separators: any of them can move the cursor, start an escape sequence
// (ESC [ ..., OSC ESC ] ... BEL) or break one event onto two lines.
// eslint-disable-next-line no-control-regex
const CONTROLS = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u2028\u2029]/g;

/** `text` with every control character written as `\xHH` (or `\uHHHH`); tab and printable text unchanged. */
export function escapeControls(text: string): string {
  return text.replace(CONTROLS, (c) => {
    const code = c.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

/**
 * The longest prefix of `text` whose UTF-8 encoding fits in `maxBytes`, cut only between whole
 * characters (a cut inside a character is what ends the seeds' node.py receive thread).
 */
export function fitUtf8(text: string, maxBytes: number): string {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length <= maxBytes) return text;
  let end = maxBytes;
  while (end > 0 && (bytes[end]! & 0xc0) === 0x80) end--; // back to the first byte of a character
  return bytes.subarray(0, end).toString('utf8');
}
