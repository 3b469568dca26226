/**
 * enrich: device class and OS from the user agent, bots dropped and counted, country
 * from the trusted edge header (set by the collector), campaign, advertiser,
 * creative, price and currency from the registry, live context, and the event-time
 * skew (receivedAt − occurredAt). The hash step adds the hashed ids.
 */
import { EMIT, drop, type Processor, type StepContext, type StepResult } from '../../src/pipeline/processor.ts';
import type { PipelineEvent } from '../../src/pipeline/pipeline-event.ts';
import { UserAgentClassifier } from './device-class.ts';
import { priceMicros } from './price.ts';

export class EnrichProcessor implements Processor {
  readonly name = 'enrich' as const;
  readonly #classifier: UserAgentClassifier;

  constructor(options: { botListFile: string }) {
    this.#classifier = new UserAgentClassifier(options.botListFile);
  }

  process(event: PipelineEvent, ctx: StepContext): StepResult {
    const raw = event.raw!;
    const metadata = event.metadata!;
    const claims = event.claims!;
    const ua = this.#classifier.classify(raw.device.userAgent);
    if (ua.bot) return drop('bot');
    const record = event.source.record;
    event.enriched = {
      eventId: raw.eventId,
      eventType: raw.eventType,
      playbackSessionId: raw.playbackSessionId,
      adInstanceId: raw.adInstanceId,
      occurredAt: raw.occurredAt,
      receivedAt: raw.receivedAt,
      processedAt: ctx.now(),
      skewMs: raw.receivedAt - raw.occurredAt,
      adPlayheadMs: raw.adPlayheadMs,
      errorCode: raw.errorCode,
      metadataId: event.metadataId!,
      adId: metadata.adId,
      creativeId: metadata.creativeId,
      campaignId: metadata.campaignId,
      lineItemId: metadata.lineItemId,
      advertiserId: metadata.advertiserId,
      podSequence: claims.seq,
      pricingModel: metadata.pricing?.model ?? '',
      priceMicros: priceMicros(metadata.pricing, raw.eventType),
      currency: metadata.pricing?.currency ?? '',
      deviceClass: ua.deviceClass,
      osName: ua.osName,
      country: raw.country ?? '',
      appName: raw.app?.name ?? '',
      appVersion: raw.app?.version ?? '',
      profileHash: '',
      deviceHash: '',
      ipHash: '',
      hashKeyId: '',
      vendorIds: {},
      consent: raw.consent,
      // The token's break wins over the device's report: the decision made it.
      live: raw.live === null ? null : { liveEventId: raw.live.liveEventId, breakId: claims.brk ?? raw.live.breakId },
      source: { topic: record.topic, partition: record.partition, offset: Number(record.offset) },
    };
    return EMIT;
  }
}
