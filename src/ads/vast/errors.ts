/**
 * IAB VAST error codes, the ones this engine reports (VAST 4.x §2.3.6.3, the table
 * `[ERRORCODE]` refers to in macros-data.json), and the helper that builds a VastError.
 */
import type { ReasonCode } from '../../core/reason-codes.ts';
import type { VastError } from './model.ts';

/** The IAB codes this engine emits, with the spec's wording. */
export const VAST_ERROR_CODES = {
  100: 'XML parsing error.',
  101: 'VAST schema validation error.',
  102: 'VAST version of response not supported.',
  301: 'Timeout of VAST URI provided in Wrapper element, or of VAST URI provided in a subsequent Wrapper element (unavailable or timed out).',
  302: 'Wrapper limit reached: too many Wrapper responses received with no InLine response.',
  303: 'No VAST response after one or more Wrappers (no ads).',
  900: 'Undefined error.',
} as const;

/** An IAB VAST error code this engine emits. */
export type VastErrorCode = keyof typeof VAST_ERROR_CODES;

/** Fields of a VastError beyond code, reason and message. */
export interface VastErrorContext {
  readonly uri?: string | undefined;
  readonly adId?: string | null | undefined;
  readonly errorUris?: readonly string[];
}

/** Builds a VastError, leaving out context fields that are unknown. */
export function vastError(code: VastErrorCode, reason: ReasonCode, message: string, context: VastErrorContext = {}): VastError {
  return {
    code,
    reason,
    message,
    ...(context.uri === undefined ? {} : { uri: context.uri }),
    ...(context.adId === undefined ? {} : { adId: context.adId }),
    errorUris: context.errorUris ?? [],
  };
}
