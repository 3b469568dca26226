/**
 * Parsing one VAST document, without following wrappers: the safety checks, the
 * well-formedness check, fast-xml-parser, then the model (build-model.ts).
 */
import { XMLValidator } from 'fast-xml-parser';
import { messageOf } from '../../core/errors.ts';
import { buildDocument, type DocumentOutcome } from './build-model.ts';
import { decodeVastBytes } from './decode.ts';
import { vastError } from './errors.ts';
import type { Ad, VastError, VastResult } from './model.ts';
import { vastOptions, type VastParseOptions } from './options.ts';
import { vastXmlParser } from './parser-options.ts';
import type { XmlNode } from './xml-node.ts';
import { exceedsBytes, findRefusedDeclaration } from './xml-safety.ts';

/**
 * Reads one document into the model, or says why it cannot: 900 when it is over
 * `maxBytes`, 100 for a DOCTYPE or malformed XML, 101 when it is not VAST, 102 for
 * VAST 1.0 or an unknown version. `uri` is where it came from, for the error.
 */
export function readVastDocument(xml: string, maxBytes: number, uri?: string): DocumentOutcome {
  if (exceedsBytes(xml, maxBytes)) {
    return { ok: false, error: vastError(900, 'VAST_TOO_LARGE', `The document is larger than ${maxBytes} bytes; it was not parsed.`, { uri }) };
  }
  const declaration = findRefusedDeclaration(xml);
  if (declaration !== null) {
    return {
      ok: false,
      error: vastError(100, 'VAST_DOCTYPE_REFUSED', `The document declares <!${declaration}>; DOCTYPE and entity declarations are refused, nothing was expanded or read.`, {
        uri,
      }),
    };
  }
  // fast-xml-parser's parse() tolerates unclosed and mismatched tags (a truncated
  // response would parse "successfully"), so well-formedness is checked first.
  const valid = XMLValidator.validate(xml);
  if (valid !== true) {
    const { msg, line, col } = valid.err;
    return { ok: false, error: vastError(100, 'VAST_XML_INVALID', `Not well-formed XML at line ${line}, column ${col}: ${msg}`, { uri }) };
  }
  let tree: XmlNode[];
  try {
    tree = vastXmlParser.parse(xml) as XmlNode[];
  } catch (error) {
    return { ok: false, error: vastError(100, 'VAST_XML_INVALID', `Not well-formed XML: ${messageOf(error)}`, { uri }) };
  }
  return buildDocument(tree, uri);
}

/**
 * Parses one VAST document (text, or bytes in any encoding it declares) into a
 * VastResult. Wrappers are returned as `kind: 'wrapper'` ads, not followed; use
 * `resolveVast` to follow them. Never throws for bad input: problems are in `errors`.
 */
export function parseVast(xml: string | Uint8Array, options: Partial<VastParseOptions> = {}): VastResult {
  const { maxBytes } = vastOptions(options);
  if (typeof xml !== 'string' && xml.byteLength > maxBytes) {
    return emptyResult(vastError(900, 'VAST_TOO_LARGE', `The document is larger than ${maxBytes} bytes; it was not parsed.`));
  }
  const outcome = readVastDocument(typeof xml === 'string' ? xml : decodeVastBytes(xml), maxBytes);
  if (!outcome.ok) return emptyResult(outcome.error);
  const { doc } = outcome;
  const errors: VastError[] = [...doc.errors];
  const ads = doc.ads.filter((ad) => {
    const error = unplayable(ad, doc.errorUris);
    if (error !== null) errors.push(error);
    return error === null;
  });
  if (doc.ads.length === 0) errors.push(noAds('The VAST response holds no ad.', doc.errorUris));
  return { version: doc.version, ads: sortAds(ads), errors, errorUris: doc.errorUris };
}

/** A result with no ad and one error. */
export function emptyResult(error: VastError, version: string | null = null): VastResult {
  return { version, ads: [], errors: [error], errorUris: [] };
}

/** IAB 303, the "no ad" error, reported to the given Error URIs. */
export function noAds(message: string, errorUris: readonly string[], context: { uri?: string; adId?: string | null } = {}): VastError {
  return vastError(303, 'VAST_NO_ADS', message, { ...context, errorUris });
}

/**
 * Why an InLine ad cannot be played (IAB 303: it has no Linear, NonLinear or Companion,
 * as vast-client-js also reports), or null when it can. Wrappers are not judged here.
 */
export function unplayable(ad: Ad, rootErrorUris: readonly string[]): VastError | null {
  if (ad.kind !== 'inline' || ad.creatives.length > 0) return null;
  return noAds('The InLine ad has no creative; it was dropped.', [...ad.errorUris, ...rootErrorUris], { adId: ad.id });
}

/** Pod ads first, by `sequence` (stable), then buffet ads in document order (VAST 4.x, ad pods and buffets). */
export function sortAds(ads: readonly Ad[]): Ad[] {
  const pod = ads.filter((ad) => ad.sequence !== null).sort((a, b) => (a.sequence ?? 0) - (b.sequence ?? 0));
  return [...pod, ...ads.filter((ad) => ad.sequence === null)];
}
