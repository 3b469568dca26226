/**
 * The IAB VAST macro list, by name, with the kind of value each takes. Derived from
 * IAB Tech Lab's machine-readable list (../shared/reference/iab-vast/macros-data.json,
 * the `type` of each entry); test/unit/vast/macros.test.ts fails if the two drift apart.
 *
 * The kind decides how a value is written (VAST 4.x, "Macros"):
 * - `string`, `integer`: the value, percent-encoded;
 * - `timecode`: a number of milliseconds is written `HH:MM:SS.mmm`;
 * - `list`: each item percent-encoded, items joined by commas (the IAB examples keep
 *   the separating comma unencoded, e.g. `video%2Fmp4,application%2Fx-mpegURL`).
 */

/** How a macro's value is written. */
export type MacroKind = 'string' | 'integer' | 'timecode' | 'list';

/** Every IAB VAST macro name and the kind of its value. */
export const IAB_MACROS: Readonly<Record<string, MacroKind>> = Object.freeze({
  TIMESTAMP: 'string',
  CACHEBUSTING: 'integer',
  CONTENTPLAYHEAD: 'timecode',
  MEDIAPLAYHEAD: 'timecode',
  BREAKPOSITION: 'integer',
  BLOCKEDADCATEGORIES: 'list',
  ADCATEGORIES: 'list',
  ADCOUNT: 'integer',
  TRANSACTIONID: 'string',
  PLACEMENTTYPE: 'integer',
  ADTYPE: 'string',
  UNIVERSALADID: 'list',
  BREAKMAXDURATION: 'integer',
  BREAKMAXADS: 'integer',
  BREAKMINADLENGTH: 'integer',
  BREAKMAXADLENGTH: 'integer',
  IFA: 'string',
  IFATYPE: 'string',
  CLIENTUA: 'string',
  SERVERUA: 'string',
  DEVICEUA: 'string',
  SERVERSIDE: 'integer',
  DEVICEIP: 'string',
  LATLONG: 'list',
  DOMAIN: 'string',
  PAGEURL: 'string',
  APPBUNDLE: 'string',
  VASTVERSIONS: 'list',
  APIFRAMEWORKS: 'list',
  EXTENSIONS: 'list',
  VERIFICATIONVENDORS: 'list',
  OMIDPARTNER: 'string',
  MEDIAMIME: 'list',
  PLAYERCAPABILITIES: 'list',
  CLICKTYPE: 'integer',
  PLAYERSTATE: 'list',
  INVENTORYSTATE: 'list',
  PLAYERSIZE: 'list',
  ADPLAYHEAD: 'timecode',
  ASSETURI: 'string',
  CONTENTID: 'string',
  CONTENTURI: 'string',
  PODSEQUENCE: 'integer',
  ADSERVINGID: 'string',
  CLICKPOS: 'list',
  ERRORCODE: 'integer',
  REASON: 'integer',
  LIMITADTRACKING: 'integer',
  REGULATIONS: 'list',
  GDPRCONSENT: 'string',
  STOREID: 'string',
  STOREURL: 'string',
  PLAYBACKMETHODS: 'integer',
  CONTENTCAT: 'list',
  GPPSTRING: 'string',
  GPPSECTIONID: 'list',
  DSAREQUIRED: 'integer',
  DSAPARAMS: 'list',
  DSAPUBRENDER: 'integer',
});
