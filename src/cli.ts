/**
 * The `quartile` command line. Dispatches to src/commands/*; every command answers
 * `--help`, prints results on stdout and progress or errors on stderr, and exits
 * non-zero with a message that says what to do next.
 */
import { COMMANDS } from './commands/index.ts';
import type { CommandIo } from './commands/command.ts';
import { reportError } from './commands/shared.ts';

function help(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return `Quartile: a stream-processing ads telemetry engine.

Usage: quartile <command> [options]

Commands:
${COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`).join('\n')}

Run \`quartile <command> --help\` for a command's options.
Configuration: defaults, then --config FILE (or QUARTILE_CONFIG), then QUARTILE_* variables;
\`quartile config print --docs\` lists every key.
`;
}

/** Runs the CLI with `argv` (without node and script) and resolves to the exit code. */
export async function main(argv: readonly string[], io: CommandIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.stdout.write(help());
    return name === undefined ? 2 : 0;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (command === undefined) {
    io.stderr.write(`quartile: unknown command "${name}". Run \`quartile --help\` to see the commands.\n`);
    return 2;
  }
  try {
    return await command.run(rest, io);
  } catch (error) {
    return reportError(error, io);
  }
}

const code = await main(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin });
// Let stdout drain before exiting; pending handles (sockets, timers) must not keep the CLI alive.
process.stdout.write('', () => process.exit(code));
