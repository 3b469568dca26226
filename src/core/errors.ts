import { REASON_CODES, type ReasonCode } from './reason-codes.ts';

/** Options every Quartile error accepts. */
export interface QuartileErrorOptions {
  /** True when the same operation may succeed if tried again (a network blip, a rebalance). */
  readonly retriable?: boolean;
  /** The pipeline stage or component that raised it, e.g. `decrypt` or `sinks/pixels`. */
  readonly stage?: string;
  /** The underlying error, kept for logs and debugging. */
  readonly cause?: unknown;
}

/**
 * The one error type Quartile raises for expected failures. It carries a stable
 * reason `code`, whether it is `retriable`, and its `cause` (as kafkajs and undici do),
 * so callers branch on values rather than on message text.
 */
export class QuartileError extends Error {
  override readonly name = 'QuartileError';
  readonly code: ReasonCode;
  readonly retriable: boolean;
  readonly stage: string | undefined;

  constructor(code: ReasonCode, message?: string, options: QuartileErrorOptions = {}) {
    super(message ?? REASON_CODES[code], options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.retriable = options.retriable ?? false;
    this.stage = options.stage;
  }

  /** A plain object for logs and API answers; never includes the cause's stack. */
  toJSON(): { code: ReasonCode; message: string; retriable: boolean; stage?: string } {
    return {
      code: this.code,
      message: this.message,
      retriable: this.retriable,
      ...(this.stage === undefined ? {} : { stage: this.stage }),
    };
  }
}

/** True when `error` is a QuartileError, optionally with the given code. */
export function isQuartileError(error: unknown, code?: ReasonCode): error is QuartileError {
  return error instanceof QuartileError && (code === undefined || error.code === code);
}

/** The message of any thrown value, for wrapping foreign errors. */
export function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
