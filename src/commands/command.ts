/**
 * The shape of one `quartile` sub-command. src/cli.ts dispatches to these; each
 * command lives in its own file under src/commands/.
 */
export interface CommandIo {
  /** Where results go (JSON results, tables). */
  readonly stdout: NodeJS.WritableStream;
  /** Where progress and errors go. */
  readonly stderr: NodeJS.WritableStream;
  /** Input for commands that read `-`. */
  readonly stdin: NodeJS.ReadableStream;
}

/** A `quartile` sub-command. */
export interface Command {
  /** The word after `quartile`, e.g. `vast`. */
  readonly name: string;
  /** One line for `quartile --help`. */
  readonly summary: string;
  /** Full usage text for `quartile <name> --help`. */
  readonly usage: string;
  /** Runs the command and resolves to the process exit code. */
  run(args: readonly string[], io: CommandIo): Promise<number>;
}
