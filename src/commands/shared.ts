/** Helpers every sub-command uses: flags, config, logger, errors. */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { loadConfig } from '../config/load.ts';
import type { QuartileConfig } from '../config/spec.ts';
import { QuartileError, messageOf } from '../core/errors.ts';
import type { ReasonCode } from '../core/reason-codes.ts';
import { createLogger, type Logger } from '../telemetry/logger.ts';
import type { CommandIo } from './command.ts';

/** Flags every command accepts. */
export const COMMON_OPTIONS = {
  config: { type: 'string', short: 'c' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies ParseArgsConfig['options'];

/** Parses flags strictly; an unknown flag is a usage error that names it. */
export function parseFlags<O extends NonNullable<ParseArgsConfig['options']>>(args: readonly string[], options: O) {
  try {
    return parseArgs({ args: [...args], options: { ...COMMON_OPTIONS, ...options }, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError(messageOf(error));
  }
}

/** A mistake in how the command was called; the CLI prints it, with its reason code when it has one. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
  readonly code: ReasonCode | undefined;

  constructor(message: string, code?: ReasonCode) {
    super(message);
    this.code = code;
  }
}

/**
 * A failure the user can fix that is not about the command line (an engine that
 * refuses, a file that is missing): its message ends with what to do next.
 */
export class CommandError extends Error {
  override readonly name = 'CommandError';
}

/** Loads the config, honouring `--config`. */
export function cliConfig(configFile: string | undefined, overrides?: Record<string, unknown>): QuartileConfig {
  return loadConfig({ file: configFile, ...(overrides === undefined ? {} : { overrides }) });
}

/** A logger for CLI work: JSON lines on stderr so stdout stays machine-readable. */
export function cliLogger(config: QuartileConfig, io: CommandIo): Logger {
  return createLogger({ level: config.logLevel, destination: io.stderr });
}

/** Prints an error with what to do next, and returns the exit code. */
export function reportError(error: unknown, io: CommandIo): number {
  if (error instanceof UsageError) {
    io.stderr.write(`quartile: ${error.code === undefined ? '' : `${error.code}: `}${error.message}\nRun with --help to see the usage.\n`);
    return 2;
  }
  if (error instanceof CommandError) {
    io.stderr.write(`quartile: ${error.message}\n`);
    return 1;
  }
  if (error instanceof QuartileError) {
    io.stderr.write(`quartile: ${error.code}: ${error.message}\n`);
    // A retriable error is a service out of reach or busy, not a mistake in the command.
    if (error.retriable) io.stderr.write('This is usually temporary: check that the service named above is up (ci/services status, or the engine\'s /readyz), then run the command again.\n');
    return 1;
  }
  io.stderr.write(`quartile: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  io.stderr.write('This is a bug in Quartile, not in how it was called: report it with the lines above (QUARTILE_LOG_LEVEL=debug shows more).\n');
  return 1;
}
