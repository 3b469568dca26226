/**
 * Structured JSON logs through pino. Raw device identifiers must never reach logs, so
 * the logger redacts the field names that carry them wherever they appear, as a last
 * line of defence behind the code that never logs them in the first place.
 */
import { pino, type Logger, type LevelWithSilent } from 'pino';

export type { Logger } from 'pino';

/** Field paths redacted in every log line. */
export const REDACTED_PATHS: readonly string[] = [
  'ip',
  'userAgent',
  'ifa',
  'deviceId',
  'profileId',
  '*.ip',
  '*.userAgent',
  '*.ifa',
  '*.deviceId',
  '*.profileId',
  '*.device',
  'device',
  'password',
  '*.password',
  'token',
  '*.token',
  'authorization',
  '*.authorization',
  'req.headers.authorization',
  'req.headers["x-quartile-key"]',
  'req.headers["x-forwarded-for"]',
  'req.headers["user-agent"]',
  'req.remoteAddress',
  'req.remotePort',
];

/** Options for {@link createLogger}. */
export interface LoggerOptions {
  readonly level: LevelWithSilent;
  /** Where lines go; defaults to stdout. */
  readonly destination?: NodeJS.WritableStream;
  /** Fixed fields on every line, e.g. the process role. */
  readonly base?: Record<string, unknown>;
}

/** A pino logger with Quartile's redaction rules. */
export function createLogger(options: LoggerOptions): Logger {
  return pino(
    {
      level: options.level,
      base: { service: 'quartile', pid: process.pid, ...options.base },
      redact: { paths: [...REDACTED_PATHS], censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    options.destination ?? process.stdout,
  );
}

/** A logger that drops everything, for tests and library use. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
