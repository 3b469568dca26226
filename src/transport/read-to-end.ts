/**
 * Reads a topic up to where it ends now, then stops: for tools (dlq inspect and
 * replay, reconcile) that need "everything so far", not a live subscription.
 */
import { randomUUID } from 'node:crypto';
import type { ConsumedRecord, Transport } from './transport.ts';

/** Options for {@link readToEnd}. */
export interface ReadToEndOptions {
  /** A consumer group to resume from and commit to; default a throwaway one (read from the start). */
  readonly groupId?: string;
  /** Give up after this long. Default 120 s. */
  readonly timeoutMs?: number;
  /** Called after each batch, before its position is committed (finish side effects here). */
  readonly beforeCommit?: () => Promise<void>;
}

/**
 * Calls `onRecord` for every record from the group's position (or the start) to the
 * topic's end as of the call, and resolves with how many there were. With a named
 * group, the position reached is committed.
 */
export async function readToEnd(
  transport: Transport,
  topic: string,
  onRecord: (record: ConsumedRecord) => void | Promise<void>,
  options: ReadToEndOptions = {},
): Promise<number> {
  const ends = new Map((await transport.offsets(topic)).map((o) => [o.partition, BigInt(o.high)]));
  const done = new Map<number, boolean>();
  const committed = options.groupId === undefined ? [] : await transport.lag(options.groupId, topic);
  for (const [partition, high] of ends) {
    const from = committed.find((c) => c.partition === partition)?.committed;
    const low = BigInt((await transport.offsets(topic)).find((o) => o.partition === partition)?.low ?? '0');
    const start = from === null || from === undefined ? low : BigInt(from);
    done.set(partition, start >= high);
  }
  if ([...done.values()].every(Boolean)) return 0;

  let count = 0;
  const consumer = transport.createConsumer({
    groupId: options.groupId ?? `quartile-reader-${randomUUID()}`,
    topics: [topic],
    fromBeginning: true,
    partitionsConcurrently: Math.max(1, ends.size),
    maxBatchRecords: 1000,
  });
  let finish: () => void = () => {};
  const finished = new Promise<void>((resolve) => {
    finish = resolve;
  });
  await consumer.run(async (batch) => {
    const end = ends.get(batch.partition) ?? 0n;
    for (const record of batch.records) {
      if (BigInt(record.offset) >= end) break;
      await onRecord(record);
      count++;
    }
    const last = BigInt(batch.records.at(-1)!.offset);
    await options.beforeCommit?.();
    if (options.groupId !== undefined) {
      const next = last + 1n < end ? last + 1n : end;
      await consumer.commit([{ topic, partition: batch.partition, offset: String(next) }]);
    }
    if (last + 1n >= end) done.set(batch.partition, true);
    if ([...done.values()].every(Boolean)) finish();
  });
  const timeout = new Promise<void>((_, reject) => {
    setTimeout(() => reject(new Error(`Reading ${topic} did not reach its end within ${(options.timeoutMs ?? 120_000) / 1000} s`)), options.timeoutMs ?? 120_000).unref();
  });
  try {
    await Promise.race([finished, timeout]);
  } finally {
    await consumer.stop();
  }
  return count;
}
