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
  if (error instanceof QuartileError) {
    io.stderr.write(`quartile: ${error.code}: ${error.message}\n`);
    return 1;
  }
  io.stderr.write(`quartile: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  return 1;
}
