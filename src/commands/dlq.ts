/**
 * `quartile dlq inspect|replay`: the dead-letter topic, summarised by reason code, and
 * re-injected once a cause is fixed. On Kafka it works directly; the embedded log
 * lives inside the engine process, so there it goes through the engine's operator API
 * (`--engine URL`, with QUARTILE_ADMIN_TOKEN).
 */
import { request } from 'undici';
import { createProgress } from '../cli-ui/progress.ts';
import { openTransport } from '../core/backends.ts';
import { messageOf } from '../core/errors.ts';
import { parseSince } from '../core/time-spec.ts';
import { inspectDeadLetters, replayDeadLetters, type DeadLetterSummary, type ReplayReport } from '../pipeline/dead-letter-tools.ts';
import { RecordCodec } from '../transport/avro/record-codec.ts';
import type { Command, CommandIo } from './command.ts';
import { CommandError, UsageError, cliConfig, cliLogger, parseFlags } from './shared.ts';

/** What to do when the engine refuses an operator call, by status. */
const ENGINE_REFUSALS: Readonly<Record<number, string>> = {
  401: 'QUARTILE_ADMIN_TOKEN here is not the engine’s admin token: set it to the value the engine was started with.',
  403: 'the engine has no admin token, so operator actions are off: restart it with QUARTILE_ADMIN_TOKEN set.',
  404: 'this engine runs no pipeline: point --engine at one started with --role pipeline or all.',
};

async function viaEngine<T>(engine: string, token: string, method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
  if (token === '') throw new UsageError('Set QUARTILE_ADMIN_TOKEN (the engine’s admin token) to use --engine.');
  const url = `${engine.replace(/\/$/, '')}${path}`;
  let response: Awaited<ReturnType<typeof request>>;
  try {
    response = await request(url, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'x-quartile-operator': process.env['USER'] ?? 'cli' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  } catch (error) {
    throw new CommandError(`Cannot reach the engine at ${engine} (${messageOf(error)}): start it with \`quartile start\`, or pass its address to --engine.`);
  }
  const text = await response.body.text();
  if (response.statusCode !== 200) {
    const next = ENGINE_REFUSALS[response.statusCode] ?? 'see the engine’s log for the cause, then run the command again.';
    throw new CommandError(`The engine answered ${response.statusCode} (${text}): ${next}`);
  }
  return JSON.parse(text) as T;
}

function printSummary(io: CommandIo, codes: readonly DeadLetterSummary[]): void {
  if (codes.length === 0) {
    io.stdout.write('The dead-letter topic is empty.\n');
    return;
  }
  const width = Math.max(4, ...codes.map((c) => c.code.length));
  io.stdout.write(`${'code'.padEnd(width)}  ${'count'.padStart(8)}  retriable  last                      stages\n`);
  for (const c of codes) {
    io.stdout.write(`${c.code.padEnd(width)}  ${String(c.count).padStart(8)}  ${(c.retriable ? 'yes' : 'no').padEnd(9)}  ${c.lastAt.padEnd(24)}  ${c.stages.join(',')}\n`);
  }
  io.stdout.write(`\nReplay a code once its cause is fixed: quartile dlq replay --code ${codes[0]!.code}\n`);
}

export const dlqCommand: Command = {
  name: 'dlq',
  summary: 'Summarise the dead-letter topic by reason code, or replay one code',
  usage: `Usage: quartile dlq inspect [--since T] [--json] [--engine URL]
       quartile dlq replay --code CODE [--since T] [--from-start] [--dry-run] [--engine URL]

  inspect       Counts dead letters per reason code, with stages and last time.
  replay        Re-injects the dead letters of CODE: events into ads.events.raw, vendor
                beacons (SINK_PIXEL_* codes) into ads.beacons, where delivery fires them
                again. Progress is kept per code, so running it again replays only newer
                ones (--from-start: all).
  --since T     Only dead letters from T on: ISO 8601, epoch ms, or an age (30m, 2h, 7d).
  --engine URL  Go through a running engine's operator API (needed for the embedded log);
                uses QUARTILE_ADMIN_TOKEN.`,
  async run(args, io) {
    const { values, positionals } = parseFlags(args, {
      since: { type: 'string' },
      json: { type: 'boolean' },
      engine: { type: 'string' },
      code: { type: 'string' },
      'from-start': { type: 'boolean' },
      'dry-run': { type: 'boolean' },
    });
    if (values.help) {
      io.stdout.write(`${this.usage}\n`);
      return 0;
    }
    const verb = positionals[0];
    if ((verb !== 'inspect' && verb !== 'replay') || positionals.length > 1) throw new UsageError('Say `quartile dlq inspect` or `quartile dlq replay --code CODE`.');
    if (verb === 'replay' && (values.code === undefined || values.code === '')) throw new UsageError('replay needs --code, e.g. --code RESOLVE_MISSING_METADATA.');
    const config = cliConfig(values.config);
    let since: number | undefined;
    try {
      since = parseSince(values.since);
    } catch (error) {
      throw new UsageError((error as Error).message);
    }

    if (values.engine !== undefined) {
      if (verb === 'inspect') {
        const query = values.since === undefined ? '' : `?since=${encodeURIComponent(values.since)}`;
        const { codes } = await viaEngine<{ codes: DeadLetterSummary[] }>(values.engine, config.admin.token, 'GET', `/v1/admin/dlq${query}`);
        if (values.json) io.stdout.write(`${JSON.stringify(codes)}\n`);
        else printSummary(io, codes);
      } else {
        const report = await viaEngine<ReplayReport>(values.engine, config.admin.token, 'POST', '/v1/admin/dlq/replay', {
          code: values.code,
          since: values.since,
          fromStart: values['from-start'] === true,
        });
        io.stdout.write(`${JSON.stringify(report)}\n`);
      }
      return 0;
    }

    const transport = openTransport(config, cliLogger(config, io));
    if (transport.kind === 'embedded') {
      await transport.close();
      throw new UsageError('No QUARTILE_KAFKA_BROKERS set: the embedded log lives inside the engine. Pass --engine http://127.0.0.1:8080 (with QUARTILE_ADMIN_TOKEN).');
    }
    const codec = new RecordCodec({ registry: config.schemaRegistry });
    try {
      if (verb === 'inspect') {
        const codes = await inspectDeadLetters(transport, codec, since === undefined ? {} : { since });
        if (values.json) io.stdout.write(`${JSON.stringify(codes)}\n`);
        else printSummary(io, codes);
      } else {
        // The topic is read once, so the number of matching dead letters is not known ahead.
        const progress = createProgress({ label: `dlq replay ${values.code!}`, stream: io.stderr });
        const report = await replayDeadLetters(transport, codec, {
          code: values.code!,
          fromStart: values['from-start'] === true,
          dryRun: values['dry-run'] === true,
          ...(since === undefined ? {} : { since }),
          onProgress: (n) => progress.update(n, values['dry-run'] === true ? 'found (dry run)' : 'replayed'),
        });
        progress.done(`done, ${report.skipped} skipped`);
        io.stdout.write(`${JSON.stringify(report)}\n`);
      }
      return 0;
    } finally {
      await transport.close();
    }
  },
};
