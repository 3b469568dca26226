/**
 * `quartile vast parse <file|->` and `quartile vast resolve <url> [flags]`: print one
 * VastResult as JSON on stdout. The exit code is 0 whenever the input could be read,
 * whatever the VAST says (its problems are in the JSON); 1 when the file cannot be
 * read; 2 for bad usage.
 */
import { open } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { parseVast, resolveVast, VAST_DEFAULTS, type VastResolveOptions, type VastResult } from '../ads/vast/index.ts';
import type { Command, CommandIo } from './command.ts';

const USAGE = `Usage:
  quartile vast parse <file|->
      Parse one VAST document (a file, or stdin with -) without following wrappers.
  quartile vast resolve <url> [options]
      Fetch a VAST URL and follow its wrapper chain.
      --allow-private-network  also fetch loopback, private, link-local and metadata addresses
      --fire-errors            send the Error URIs of failing ads and wrappers, [ERRORCODE] filled in
      --wrapper-limit N        wrappers followed before error 302 (default ${VAST_DEFAULTS.wrapperLimit})
      --timeout-ms N           timeout of each request (default ${VAST_DEFAULTS.timeoutMs})
      --deadline-ms N          deadline for the whole chain (default ${VAST_DEFAULTS.deadlineMs})

Both print one JSON result: {version, ads, errors, errorUris}. Each error has its IAB code.
Exit codes: 0 the input was read (even if the VAST has errors), 1 the file cannot be read, 2 bad usage.`;

/** The `vast` command. */
export const vastCommand: Command = {
  name: 'vast',
  summary: 'Parse a VAST document or resolve a VAST URL and its wrappers; prints JSON.',
  usage: USAGE,
  async run(args, io) {
    const [sub, ...rest] = args;
    if (sub === '--help' || sub === '-h' || sub === 'help') {
      io.stdout.write(`${USAGE}\n`);
      return 0;
    }
    if (sub === 'parse') return parse(rest, io);
    if (sub === 'resolve') return resolve(rest, io);
    return usageError(io, sub === undefined ? 'Name a sub-command: parse or resolve.' : `Unknown sub-command "${sub}": use parse or resolve.`);
  },
};

async function parse(args: readonly string[], io: CommandIo): Promise<number> {
  const [source, ...extra] = args;
  if (source === undefined || extra.length > 0 || (source.startsWith('-') && source !== '-')) {
    return usageError(io, 'vast parse takes one argument: a file path, or - to read stdin.');
  }
  // One byte over the limit is enough for parseVast to refuse the document.
  const limit = VAST_DEFAULTS.maxBytes + 1;
  let bytes: Buffer;
  try {
    bytes = source === '-' ? await readStream(io.stdin, limit) : await readFileHead(source, limit);
  } catch (error) {
    io.stderr.write(`quartile vast parse: cannot read ${source}: ${describeReadError(error)}. Check the path, or pass - to read the document from stdin.\n`);
    return 1;
  }
  printResult(io, parseVast(bytes));
  return 0;
}

async function resolve(args: readonly string[], io: CommandIo): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...args],
      allowPositionals: true,
      strict: true,
      options: {
        'allow-private-network': { type: 'boolean' },
        'fire-errors': { type: 'boolean' },
        'wrapper-limit': { type: 'string' },
        'timeout-ms': { type: 'string' },
        'deadline-ms': { type: 'string' },
      },
    });
  } catch (error) {
    return usageError(io, (error as Error).message);
  }
  const { values, positionals } = parsed;
  const [url, ...extra] = positionals;
  if (url === undefined || extra.length > 0) return usageError(io, 'vast resolve takes one URL.');
  let scheme: string;
  try {
    scheme = new URL(url).protocol;
  } catch {
    return usageError(io, `"${url}" is not an absolute URL; give one such as https://ads.example.com/vast.xml.`);
  }
  if (scheme !== 'http:' && scheme !== 'https:') {
    return usageError(io, `Only http and https URLs are resolved, not ${scheme}; to read a file use \`quartile vast parse <file>\`.`);
  }

  const options: { -readonly [K in keyof VastResolveOptions]?: VastResolveOptions[K] } = {
    allowPrivateNetwork: values['allow-private-network'] === true,
    fireErrors: values['fire-errors'] === true,
  };
  for (const [flag, key, min] of [
    ['wrapper-limit', 'wrapperLimit', 0],
    ['timeout-ms', 'timeoutMs', 1],
    ['deadline-ms', 'deadlineMs', 1],
  ] as const) {
    const raw = values[flag];
    if (raw === undefined) continue;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min) return usageError(io, `--${flag} needs a whole number of at least ${min}, not "${raw}".`);
    options[key] = n;
  }
  printResult(io, await resolveVast(url, options));
  return 0;
}

function printResult(io: CommandIo, result: VastResult): void {
  io.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
}

function usageError(io: CommandIo, message: string): number {
  io.stderr.write(`quartile vast: ${message}\n\n${USAGE}\n`);
  return 2;
}

/** Reads at most `limit` bytes of a file: enough to parse it, or to know it is too big. */
async function readFileHead(path: string, limit: number): Promise<Buffer> {
  const file = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(limit);
    let size = 0;
    while (size < limit) {
      const { bytesRead } = await file.read(buffer, size, limit - size, null);
      if (bytesRead === 0) break;
      size += bytesRead;
    }
    return buffer.subarray(0, size);
  } finally {
    await file.close();
  }
}

/** Reads a stream until its end or until `limit` bytes, whichever comes first. */
async function readStream(stream: NodeJS.ReadableStream, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    chunks.push(buffer);
    size += buffer.length;
    if (size >= limit) break;
  }
  return Buffer.concat(chunks).subarray(0, limit);
}

function describeReadError(error: unknown): string {
  const code = (error as { code?: string }).code;
  switch (code) {
    case 'ENOENT':
      return 'no such file';
    case 'EISDIR':
      return 'it is a directory';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    default:
      return error instanceof Error ? error.message : String(error);
  }
}
