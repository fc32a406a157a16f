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
