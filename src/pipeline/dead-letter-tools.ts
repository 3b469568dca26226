/**
 * What operators do with the dead-letter topic: see it summarised by reason code, and
 * re-inject dead-lettered events once their cause is fixed. Replayed records carry
 * the position they were first read at (REPLAY_HEADER), so dedupe treats them as
 * replays rather than duplicates, and every sink stays idempotent.
 */
import type { DeadLetter } from '../../schemas/types.ts';
import type { RecordCodec } from '../transport/avro/record-codec.ts';
import { readToEnd } from '../transport/read-to-end.ts';
import { TOPICS } from '../transport/topics.ts';
import type { OutgoingRecord, Transport } from '../transport/transport.ts';
import { REPLAY_HEADER } from './runtime.ts';

/** One reason code's share of the dead-letter topic. */
export interface DeadLetterSummary {
  readonly code: string;
  readonly count: number;
  readonly stages: string[];
  readonly firstAt: string;
  readonly lastAt: string;
  readonly retriable: boolean;
  readonly sampleMessage: string;
}

/** Summarises the dead-letter topic by code, biggest first. */
export async function inspectDeadLetters(transport: Transport, codec: RecordCodec, options: { since?: number } = {}): Promise<DeadLetterSummary[]> {
  const byCode = new Map<string, { count: number; stages: Set<string>; first: number; last: number; retriable: boolean; message: string }>();
  await readToEnd(transport, TOPICS.deadLetter, async (record) => {
    if (record.value === null) return;
    const letter = await codec.decode(TOPICS.deadLetter, record.value);
    if (options.since !== undefined && letter.deadLetteredAt < options.since) return;
    const entry = byCode.get(letter.code) ?? { count: 0, stages: new Set<string>(), first: letter.deadLetteredAt, last: letter.deadLetteredAt, retriable: letter.retriable, message: letter.message };
    entry.count++;
    entry.stages.add(letter.stage);
    entry.first = Math.min(entry.first, letter.deadLetteredAt);
    entry.last = Math.max(entry.last, letter.deadLetteredAt);
    byCode.set(letter.code, entry);
  });
  return [...byCode]
    .map(([code, e]) => ({
      code,
      count: e.count,
      stages: [...e.stages].sort(),
      firstAt: new Date(e.first).toISOString(),
      lastAt: new Date(e.last).toISOString(),
      retriable: e.retriable,
      sampleMessage: e.message,
    }))
    .sort((a, b) => b.count - a.count || a.code.localeCompare(b.code));
}

/** What a replay did. */
export interface ReplayReport {
  readonly code: string;
  readonly replayed: number;
  readonly skipped: number;
}

/**
 * Where a dead letter read from `source` is replayed: an event goes back to the raw
 * topic; a beacon (dead-lettered by beacon delivery, from the work or the retry topic)
 * goes back to the work topic. Anything else cannot be replayed.
 */
function replayTopic(source: string): string | undefined {
  if (source === TOPICS.raw) return TOPICS.raw;
  if (source === TOPICS.beacons || source === TOPICS.beaconRetries) return TOPICS.beacons;
  return undefined;
}

/**
 * Re-injects the dead letters with `code` (dead-lettered at or after `since`) into
 * the topic they came from (see replayTopic). Progress is kept in a consumer group
 * per code, so running the same replay again sends only what was dead-lettered since;
 * pass `fromStart` to replay everything again.
 */
export async function replayDeadLetters(
  transport: Transport,
  codec: RecordCodec,
  options: { code: string; since?: number; fromStart?: boolean; dryRun?: boolean; onProgress?: (replayed: number) => void },
): Promise<ReplayReport> {
  const pending: OutgoingRecord[] = [];
  const targets: string[] = [];
  let skipped = 0;
  let replayed = 0;
  const flush = async (): Promise<void> => {
    if (pending.length === 0) return;
    if (options.dryRun !== true) {
      // One send per target topic (ads.events.raw for events, ads.beacons for beacons).
      for (const topic of new Set(targets)) await transport.send(topic, pending.filter((_, i) => targets[i] === topic));
    }
    replayed += pending.length;
    options.onProgress?.(replayed);
    pending.length = 0;
    targets.length = 0;
  };
  await readToEnd(
    transport,
    TOPICS.deadLetter,
    async (record) => {
      if (record.value === null) return;
      const letter: DeadLetter = await codec.decode(TOPICS.deadLetter, record.value);
      const target = replayTopic(letter.source.topic);
      const replayable = target !== undefined && letter.originalValue.length > 0;
      if (letter.code !== options.code || (options.since !== undefined && letter.deadLetteredAt < options.since) || !replayable) {
        if (letter.code === options.code) skipped++;
        return;
      }
      pending.push({
        key: letter.originalKey,
        value: Buffer.from(letter.originalValue),
        headers: { [REPLAY_HEADER]: `${letter.source.topic}/${letter.source.partition}/${letter.source.offset}` },
      });
      targets.push(target!);
    },
    // Re-inject each batch before its progress is committed, so a failed send is retried next time.
    { beforeCommit: flush, ...(options.fromStart === true || options.dryRun === true ? {} : { groupId: `quartile-dlq-replay-${options.code}` }) },
  );
  await flush();
  return { code: options.code, replayed, skipped };
}
