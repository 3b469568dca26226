/**
 * Bytes to text for VAST documents: the byte-order mark first, then the charset of
 * the Content-Type header, then the XML declaration's encoding, else UTF-8
 * (XML 1.0 Appendix F, "Autodetection of Character Encodings").
 */

const DECLARED = /^<\?xml[^>]*\bencoding\s*=\s*["']([A-Za-z0-9._-]+)["']/;
const CHARSET = /;\s*charset\s*=\s*"?([A-Za-z0-9._-]+)"?/i;

/** Decodes a VAST document; an unknown or unsupported encoding falls back to UTF-8. */
export function decodeVastBytes(bytes: Uint8Array, contentType?: string): string {
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) return decode(bytes.subarray(3), 'utf-8');
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return decode(bytes.subarray(2), 'utf-16le');
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return decode(bytes.subarray(2), 'utf-16be');
  const fromHeader = contentType === undefined ? undefined : CHARSET.exec(contentType)?.[1];
  // The declaration is ASCII whatever the encoding, so its first bytes can be read as latin1.
  const head = Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(bytes.length, 200)).toString('latin1');
  const declared = DECLARED.exec(head)?.[1];
  return decode(bytes, fromHeader ?? declared ?? 'utf-8');
}

function decode(bytes: Uint8Array, label: string): string {
  try {
    return new TextDecoder(label).decode(bytes);
  } catch {
    // The label names no encoding this runtime knows.
    return new TextDecoder('utf-8').decode(bytes);
  }
}
