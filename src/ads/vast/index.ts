/**
 * The VAST engine: parse VAST 2.0–4.3 into a typed model, resolve wrapper chains
 * safely over HTTP, and expand IAB macros. Everything other modules may use is named
 * here.
 */
export { parseVast, readVastDocument } from './parse.ts';
export { resolveVast, resolveVastDocument } from './resolve.ts';
export { expandMacros, encodeRfc3986, isoTimestamp, type ExpandMacrosOptions, type MacroValue, type MacroValues } from './macros.ts';
export { IAB_MACROS, type MacroKind } from './macros-list.ts';
export { VAST_DEFAULTS, vastOptions, type VastParseOptions, type VastResolveOptions } from './options.ts';
export { VAST_ERROR_CODES, type VastErrorCode } from './errors.ts';
export { parseTimecode, parseOffset, offsetToMs, formatTimecode, type Offset } from './time.ts';
export type {
  Ad,
  ClosedCaptionFile,
  CompanionCreative,
  Creative,
  FiredUri,
  Icon,
  InteractiveCreativeFile,
  LinearCreative,
  MediaFile,
  Mezzanine,
  NonLinearCreative,
  Resource,
  TrackingUri,
  VastError,
  VastResult,
  Verification,
  WrapperPolicy,
} from './model.ts';
