/**
 * An expected refusal of an Ads Manager request: the HTTP status, the reason code, the
 * field at fault when there is one, and the headers a herd needs (a jittered
 * Retry-After, and a short Cache-Control so a CDN absorbs repeats).
 */
import { QuartileError } from '../core/errors.ts';
import type { ReasonCode } from '../core/reason-codes.ts';

/** Extra details of a refusal. */
export interface RequestErrorDetails {
  /** The request field at fault, e.g. `device.ip`. */
  readonly field?: string;
  readonly retryAfterSeconds?: number;
  /** Cache-Control of the refusal; unset = not cacheable. */
  readonly cacheControl?: string;
}

export class RequestError extends QuartileError {
  readonly status: number;
  readonly details: RequestErrorDetails;

  constructor(status: number, code: ReasonCode, message: string, details: RequestErrorDetails = {}) {
    super(code, message, { retriable: status === 503 || status === 429 });
    this.status = status;
    this.details = details;
  }

  /** The JSON body of the answer. */
  body(): { code: ReasonCode; message: string; field?: string } {
    return { code: this.code, message: this.message, ...(this.details.field === undefined ? {} : { field: this.details.field }) };
  }
}

/** A 400 naming `field`: `"field" <problem>`. */
export function badField(code: ReasonCode, field: string, problem: string): RequestError {
  return new RequestError(400, code, `"${field}" ${problem}`, { field });
}
