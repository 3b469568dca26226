/** `quartile topics create|list`: the topics Quartile needs, created through the admin client. */
import { openTransport } from '../core/backends.ts';
import { topicSpecs } from '../transport/topics.ts';
import type { Command } from './command.ts';
import { UsageError, cliConfig, cliLogger, parseFlags } from './shared.ts';

export const topicsCommand: Command = {
  name: 'topics',
  summary: 'Create (idempotently) or list the topics Quartile uses',
  usage: `Usage: quartile topics create|list [--config FILE]

  create   Creates every missing topic with kafka.partitions partitions (safe to run again).
           Kafka's topic auto-creation is not relied on: on KRaft brokers kafkajs fails with it.
  list     Lists the topics on the broker.`,
  async run(args, io) {
    const { values, positionals } = parseFlags(args, {});
    if (values.help) {
      io.stdout.write(`${this.usage}\n`);
      return 0;
    }
    const verb = positionals[0];
    if ((verb !== 'create' && verb !== 'list') || positionals.length > 1) throw new UsageError('Say `quartile topics create` or `quartile topics list`.');
    const config = cliConfig(values.config);
    const transport = openTransport(config, cliLogger(config, io));
    try {
      if (verb === 'create') {
        const specs = topicSpecs(config.kafka);
        const created = await transport.ensureTopics(specs);
        for (const spec of specs) {
          io.stdout.write(`${created.includes(spec.name) ? 'created' : 'exists '} ${spec.name} (${spec.partitions} partitions)\n`);
        }
        if (transport.kind === 'embedded') {
          io.stderr.write('note: no QUARTILE_KAFKA_BROKERS set, so these topics were made in this process’s embedded log only.\n');
        }
      } else {
        for (const name of await transport.listTopics()) io.stdout.write(`${name}\n`);
      }
      return 0;
    } finally {
      await transport.close();
    }
  },
};
