/** `quartile config print [--docs]`: the effective config (secrets redacted), or its reference. */
import { fieldEntries, redactedConfig } from '../config/load.ts';
import type { Command } from './command.ts';
import { UsageError, cliConfig, parseFlags } from './shared.ts';

/** The configuration reference as a Markdown table (the README embeds it). */
export function docsTable(): string {
  const rows = fieldEntries().map((e) => ({
    key: e.path,
    env: e.envVar,
    type: e.field.type,
    default: JSON.stringify(e.field.default),
    doc: e.field.doc,
  }));
  const lines = ['| key | environment | type | default | what it is |', '|---|---|---|---|---|'];
  for (const r of rows) lines.push(`| \`${r.key}\` | \`${r.env}\` | ${r.type.replaceAll('|', '\\|')} | \`${r.default}\` | ${r.doc} |`);
  return `${lines.join('\n')}\n`;
}

export const configCommand: Command = {
  name: 'config',
  summary: 'Print the effective configuration (secrets redacted) or the reference of every key',
  usage: `Usage: quartile config print [--config FILE] [--docs]

  print          The effective config as JSON: defaults, then FILE, then QUARTILE_* variables.
                 Secrets are shown as *** (URLs keep their host, lose their password).
  --docs         Print every key with its environment variable, type, default and doc, as Markdown.
  --config FILE  A JSON or YAML config file (also QUARTILE_CONFIG).`,
  async run(args, io) {
    const { values, positionals } = parseFlags(args, { docs: { type: 'boolean' } });
    if (values.help) {
      io.stdout.write(`${this.usage}\n`);
      return 0;
    }
    if (positionals[0] !== 'print' || positionals.length > 1) throw new UsageError('Say `quartile config print`.');
    if (values.docs) {
      io.stdout.write(docsTable());
      return 0;
    }
    io.stdout.write(`${JSON.stringify(redactedConfig(cliConfig(values.config)), null, 2)}\n`);
    return 0;
  },
};
