/**
 * fast-xml-parser settings for VAST, chosen for speed and safety. bench/README.md
 * records what each choice was measured to be worth.
 */
import { XMLParser, type X2jOptions } from 'fast-xml-parser';

/** Key of a CDATA section in the ordered tree, so CDATA is never entity-decoded. */
export const CDATA_KEY = '#cdata';
/** Key of a text node in the ordered tree. */
export const TEXT_KEY = '#text';
/** Key of an element's attributes in the ordered tree. */
export const ATTRIBUTES_KEY = ':@';

/** The options every VAST parse uses. */
export const VAST_PARSER_OPTIONS: Partial<X2jOptions> = {
  // The ordered tree ({tag: children[], ':@': attrs}) is fast-xml-parser's first-stage
  // output; asking for it skips the second stage that folds it into plain objects
  // (and with it every isArray call). build-model.ts walks it once.
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: '',
  // No coercion: VAST ids such as "0012" or AdSystem "2.0" must stay strings, and the
  // model converts only the few numeric fields it has.
  parseTagValue: false,
  parseAttributeValue: false,
  // A DOCTYPE is refused before parsing (xml-safety.ts), so no custom entity can
  // exist; the five predefined ones and character references are decoded by the
  // model only in the values it keeps (text.ts).
  processEntities: false,
  htmlEntities: false,
  // CDATA kept apart from text: its content is literal and must not be entity-decoded.
  cdataPropName: CDATA_KEY,
  textNodeName: TEXT_KEY,
  // Extensions are opaque to VAST: keep each one's inner XML as is, unparsed.
  stopNodes: ['..Extension'],
  ignoreDeclaration: true,
  ignorePiTags: true,
  trimValues: true,
  // Callbacks get no path string; building one for every tag cost about 10%.
  jPath: false,
  // VAST nests about ten levels; a deeper document is hostile or broken.
  maxNestedTags: 64,
};

/** One shared parser: XMLParser keeps no state between parse() calls. */
export const vastXmlParser = new XMLParser(VAST_PARSER_OPTIONS);
