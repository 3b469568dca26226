/**
 * Reading fast-xml-parser's ordered tree (see parser-options.ts): element names,
 * attributes and text, with XML entities decoded only in the values the model keeps.
 *
 * An element is `{ Name: children[], ':@'?: attributes }`; a text node `{ '#text': s }`;
 * a CDATA section `{ '#cdata': [{ '#text': s }] }`.
 */
import { ATTRIBUTES_KEY, CDATA_KEY, TEXT_KEY } from './parser-options.ts';

/** One node of the ordered tree. */
export type XmlNode = Readonly<Record<string, unknown>>;

/** Attributes of one element, already stripped of any prefix. */
export type XmlAttributes = Readonly<Record<string, string>>;

/** The key of a node: an element name (possibly prefixed), `#text` or `#cdata`. */
export function keyOf(node: XmlNode): string {
  // The key is always the node's first property; ':@' comes after it.
  for (const key in node) return key;
  return '';
}

/**
 * The local name of an element key: `vast:Ad` → `Ad`. VAST may come with the IAB
 * namespace as a default (no prefix) or bound to a prefix; either way names match.
 */
export function localName(key: string): string {
  const colon = key.indexOf(':');
  return colon === -1 ? key : key.slice(colon + 1);
}

/** The children of an element node. */
export function childrenOf(node: XmlNode, key: string): readonly XmlNode[] {
  const value = node[key];
  return Array.isArray(value) ? (value as XmlNode[]) : [];
}

/** The attributes of an element that has none. */
export const NO_ATTRIBUTES: XmlAttributes = Object.freeze(Object.create(null) as Record<string, string>);

/** The attributes of an element node (an empty map when it has none). */
export function attributesOf(node: XmlNode): XmlAttributes {
  return (node[ATTRIBUTES_KEY] as XmlAttributes | undefined) ?? NO_ATTRIBUTES;
}

/** An attribute's value, trimmed and entity-decoded; null when absent or empty. */
export function attr(attributes: XmlAttributes, name: string): string | null {
  const raw = attributes[name];
  if (raw === undefined) return null;
  const value = decodeEntities(raw).trim();
  return value === '' ? null : value;
}

/** An attribute read as a whole number; null when absent or not a number. */
export function intAttr(attributes: XmlAttributes, name: string): number | null {
  return toInt(attr(attributes, name));
}

/** A whole number from text; null when it is not one. */
export function toInt(value: string | null): number | null {
  if (value === null) return null;
  const n = Number(value);
  return Number.isInteger(n) ? n : null;
}

/**
 * An xs:boolean attribute: true/1 and false/0. Case is ignored because real tags send
 * `True` (vast-client-js's fixtures do); anything else is null.
 */
export function boolAttr(attributes: XmlAttributes, name: string): boolean | null {
  const value = attr(attributes, name);
  if (value === null) return null;
  switch (value.toLowerCase()) {
    case 'true':
    case '1':
      return true;
    case 'false':
    case '0':
      return false;
    default:
      return null;
  }
}

/**
 * The text content of an element, given its children: text nodes entity-decoded, CDATA
 * kept literally, the whole trimmed (URIs come wrapped in whitespace around CDATA).
 * Child elements are ignored.
 */
export function textOf(children: readonly XmlNode[]): string {
  // The common cases, one text node or one CDATA section, need no concatenation.
  if (children.length === 1) return trimmedPiece(children[0]!).trim();
  let text = '';
  for (const child of children) text += trimmedPiece(child);
  return text.trim();
}

function trimmedPiece(node: XmlNode): string {
  const text = node[TEXT_KEY];
  if (typeof text === 'string') return decodeEntities(text);
  const cdata = node[CDATA_KEY];
  if (Array.isArray(cdata)) {
    const inner = (cdata[0] as XmlNode | undefined)?.[TEXT_KEY];
    return typeof inner === 'string' ? inner : '';
  }
  return '';
}

/** The text of an element, or null when it is empty. */
export function textOrNull(children: readonly XmlNode[]): string | null {
  const text = textOf(children);
  return text === '' ? null : text;
}

const ENTITY = /&(?:#x([0-9a-fA-F]+)|#([0-9]+)|(amp|lt|gt|quot|apos));/g;
const NAMED: Readonly<Record<string, string>> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/**
 * Decodes the five predefined XML entities and character references (XML 1.0 §4.6,
 * §4.1). No other entity can exist, since documents with a DOCTYPE are refused.
 */
export function decodeEntities(value: string): string {
  if (value.indexOf('&') === -1) return value;
  return value.replace(ENTITY, (whole, hex: string | undefined, dec: string | undefined, name: string | undefined) => {
    if (name !== undefined) return NAMED[name] ?? whole;
    const code = hex !== undefined ? Number.parseInt(hex, 16) : Number(dec);
    return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
  });
}
