/**
 * Checks a VAST document must pass before any XML parser sees it.
 *
 * - Size: a response over the limit is refused before parsing, so a hostile ad server
 *   cannot make us spend memory and CPU on it.
 * - DOCTYPE and ENTITY declarations: refused (IAB 100). A DOCTYPE is how "billion
 *   laughs" entity expansion and external entities (file and network reads, XXE) get
 *   in; VAST never needs one. Refusing it up front also lets the parser skip entity
 *   processing entirely (parser-options.ts).
 */

/** The UTF-8 size of a document, without encoding it when the answer is obvious. */
export function exceedsBytes(xml: string, maxBytes: number): boolean {
  // A UTF-16 code unit takes 1 to 3 UTF-8 bytes.
  if (xml.length > maxBytes) return true;
  if (xml.length * 3 <= maxBytes) return false;
  return Buffer.byteLength(xml, 'utf8') > maxBytes;
}

/**
 * The first markup declaration that is refused (`DOCTYPE` or `ENTITY`), or null.
 * Declarations inside CDATA sections and comments are text, not markup (an
 * HTMLResource may well contain `<!DOCTYPE html>`), so they are skipped.
 */
export function findRefusedDeclaration(xml: string): 'DOCTYPE' | 'ENTITY' | null {
  let at = xml.indexOf('<!');
  while (at !== -1) {
    if (xml.startsWith('<![CDATA[', at)) {
      const end = xml.indexOf(']]>', at + 9);
      if (end === -1) return null; // unterminated: the well-formedness check reports it
      at = xml.indexOf('<!', end + 3);
      continue;
    }
    if (xml.startsWith('<!--', at)) {
      const end = xml.indexOf('-->', at + 4);
      if (end === -1) return null;
      at = xml.indexOf('<!', end + 3);
      continue;
    }
    // XML names are case-sensitive, but `<!doctype` is refused too: no VAST has either.
    const word = xml.slice(at + 2, at + 9).toUpperCase();
    if (word.startsWith('DOCTYPE')) return 'DOCTYPE';
    if (word.startsWith('ENTITY')) return 'ENTITY';
    at = xml.indexOf('<!', at + 2);
  }
  return null;
}
