/**
 * The Ads Manager: POST /v1/decisions for the playback service, POST /v1/live/cues and
 * the live.cues topic for the live origin, and GET /v1/live/breaks/:breakId for CDNs.
 * It is stateless: break plans, registry entries and cap counters live in the state
 * seam, so instances scale behind a load balancer.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Component } from '../../core/component.ts';
import type { EngineContext } from '../../core/engine.ts';
import { isQuartileError } from '../../core/errors.ts';
import { jitteredRetryAfterSeconds } from '../../core/jitter.ts';
import { EventLoopLag } from '../../collector/load-shedder.ts';
import { BeaconDispatcher } from '../../beacons/dispatcher.ts';
import { BreakStore } from '../../live/break-store.ts';
import type { BreakRecord } from '../../live/break-plan.ts';
import { cohortKeyOf, cohortSpec, consentClass, deviceClassOf, DEFAULT_COHORT, type CohortSpec } from '../../live/cohorts.ts';
import { parseCue } from '../../live/cue.ts';
import { CueConsumer } from '../../live/cue-consumer.ts';
import { HerdServer } from '../../live/herd.ts';
import { LiveActivity } from '../../live/live-activity.ts';
import { LiveBreaks } from '../../live/live-breaks.ts';
import { parseCapRules } from '../caps/cap-rules.ts';
import { loadCapKey } from '../caps/profile-key.ts';
import { decisionAd, type DecisionResponse } from '../decision/decision-response.ts';
import { DecisionService } from '../decision/decision-service.ts';
import { ErrorReporter } from '../decision/error-reporter.ts';
import { parseDecisionRequest, type DecisionRequest } from '../decision/request.ts';
import { MetadataRegistry } from '../registry/metadata-registry.ts';
import { RequestError } from '../request-error.ts';
import { loadTokenKeyring } from '../tokens/load-keyring.ts';
import { TokenService } from '../tokens/token-service.ts';
import { Shedder, type Priority } from './shedder.ts';

const NOT_READY_CACHE = 'public, max-age=1';

export class AdsManager implements Component {
  readonly name = 'ads-manager';
  /** Recent live breaks as this process saw them (cues, prefetch, herd decisions), for the Control Room. */
  readonly liveActivity = new LiveActivity();
  readonly #ctx: EngineContext;
  readonly #cohorts: CohortSpec;
  readonly #tokens: TokenService;
  readonly #errors: ErrorReporter;
  readonly #decisions: DecisionService;
  /** Started with the component: the engine's own start-up blocks the loop, and is not load. */
  #lag: EventLoopLag | undefined;
  readonly #shedder: Shedder;
  readonly #breaks: BreakStore;
  readonly #live: LiveBreaks;
  readonly #herd: HerdServer;
  readonly #cues: CueConsumer;
  #draining = false;

  constructor(ctx: EngineContext) {
    this.#ctx = ctx;
    const { config, backends, metrics, logger, codec } = ctx;
    const ads = config.ads;
    this.#cohorts = cohortSpec(config.live.cohortDimensions, config.live.cohorts);
    const { keyring } = loadTokenKeyring(config);
    this.#tokens = new TokenService(keyring, { ttlSeconds: config.tokens.ttlSeconds, binding: config.tokens.binding });
    const dispatcher = new BeaconDispatcher({ timeoutMs: ads.beaconTimeoutMs, allowPrivateNetwork: ads.allowPrivateNetwork, userAgent: ads.serverUserAgent });
    this.#errors = new ErrorReporter(dispatcher, metrics, { fire: ads.fireErrorUris, concurrency: 16, maxQueued: 10_000 });
    this.#decisions = new DecisionService({
      settings: ads,
      state: backends.state,
      registry: new MetadataRegistry(backends.state),
      tokens: this.#tokens,
      errors: this.#errors,
      metrics,
      capRules: parseCapRules(ads.capRules),
      capKey: loadCapKey(config),
    });
    this.#shedder = new Shedder(ads, () => this.#lag?.lagMs ?? 0);
    this.#breaks = new BreakStore(backends.state, metrics, { retainAfterBreakMs: config.live.retainAfterBreakMs });
    const shareTokens = config.tokens.binding === 'none';
    this.#herd = new HerdServer(this.#decisions, metrics, shareTokens);
    this.#live = new LiveBreaks({
      store: this.#breaks,
      transport: backends.transport,
      codec,
      defaultPodMaxAds: ads.defaultPodMaxAds,
      logger,
      activity: this.liveActivity,
      onCueReceived: (source) => metrics.liveCues.inc({ source }),
      prefetch: {
        decisions: this.#decisions,
        cohorts: this.#cohorts,
        maxAlternates: config.live.maxAlternates,
        concurrency: config.live.prefetchConcurrency,
        shareTokens,
        admit: (deadline) => this.#admitPrefetch(deadline),
        logger,
        onCohort: (result) => metrics.livePrefetch.inc({ result }),
      },
    });
    if (ads.sources.length === 0) logger.warn('ads.sources is empty: every decision and prefetched pod will hold no ads');
    this.#cues = new CueConsumer({ transport: backends.transport, codec, groupId: config.live.cueGroupId, onCue: (cue) => this.#live.onCue(cue), logger });
  }

  routes(app: FastifyInstance): void {
    void app.register(async (scope) => {
      scope.setErrorHandler((error: Error & { statusCode?: number; code?: string }, request, reply) => {
        if (error instanceof RequestError) return this.#refuse(reply, error);
        if (isQuartileError(error) && error.retriable) {
          // The state store or the event log is out of reach: a retry later may well succeed.
          request.log.warn({ err: error.message, code: error.code, route: request.routeOptions.url }, 'ads manager request failed on a backend; answering 503');
          return this.#refuse(reply, new RequestError(503, error.code, `${error.message} Retry after the Retry-After delay.`, { retryAfterSeconds: jitteredRetryAfterSeconds(1, 5) }));
        }
        const status = error.statusCode ?? 500;
        if (status < 500) {
          // Body parsing (bad JSON, wrong content type, too large) fails before the handler runs.
          const code = request.url.startsWith('/v1/live/cues') ? 'LIVE_BAD_CUE' : 'DECISION_BAD_REQUEST';
          return this.#refuse(reply, new RequestError(status, code, `The body could not be read: ${error.message}`, { field: 'body' }));
        }
        request.log.error({ err: error, route: request.routeOptions.url }, 'ads manager request failed');
        return reply.code(500).send({ code: 'HTTP_INTERNAL', message: 'Internal error; the engine logged the details.' });
      });
      scope.post('/v1/decisions', (request, reply) => this.#decision(request, reply));
      scope.post('/v1/live/cues', (request, reply) => this.#cue(request, reply));
      scope.get('/v1/live/breaks/:breakId', (request, reply) => this.#plan(request as FastifyRequest<{ Params: { breakId: string }; Querystring: { cohort?: string } }>, reply));
    });
  }

  #refuse(reply: FastifyReply, error: RequestError): FastifyReply {
    if (error.details.retryAfterSeconds !== undefined) void reply.header('retry-after', String(error.details.retryAfterSeconds));
    void reply.header('cache-control', error.details.cacheControl ?? 'no-store');
    return reply.code(error.status).send(error.body());
  }

  #shed(priority: Priority, why: string): RequestError {
    this.#ctx.metrics.adsShed.inc({ priority });
    // A break is short: live viewers come back sooner than VOD ones.
    const retryAfterSeconds = priority === 'live' ? jitteredRetryAfterSeconds(1, 3) : jitteredRetryAfterSeconds(1, 5);
    return new RequestError(503, 'DECISION_OVERLOADED', why, { retryAfterSeconds });
  }

  async #decision(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
    const started = performance.now();
    const decision = parseDecisionRequest(request.body);
    const priority: Priority = decision.breakId !== null ? 'live' : 'vod';
    if (this.#draining) throw this.#shed(priority, 'This Ads Manager is shutting down; retry on another instance after the Retry-After delay.');
    if (!this.#shedder.tryAcquire(priority)) {
      throw this.#shed(priority, `The Ads Manager is overloaded and is shedding ${priority === 'live' ? 'live-break' : 'VOD'} decisions; retry after the Retry-After delay.`);
    }
    try {
      const response = decision.breakId !== null ? await this.#breakDecision(decision) : await this.#vodDecision(decision);
      const kind = priority === 'live' ? 'live' : 'vod';
      this.#ctx.metrics.adsDecisions.inc({ kind, result: response.ads.length > 0 ? 'filled' : 'empty' });
      this.#ctx.metrics.adsDecisionSeconds.observe({ kind }, (performance.now() - started) / 1000);
      return reply.code(200).header('cache-control', 'no-store').send(response);
    } finally {
      this.#shedder.release();
    }
  }

  #traits(decision: DecisionRequest): { key: string; country: string | null; deviceClass: string; consentClass: string } {
    const traits = { country: decision.country, deviceClass: decision.deviceClass, userAgent: decision.device.userAgent, consent: decision.consent };
    return { key: cohortKeyOf(this.#cohorts, traits), country: decision.country, deviceClass: deviceClassOf(traits), consentClass: consentClass(decision.consent) };
  }

  #vodDecision(decision: DecisionRequest): Promise<DecisionResponse> {
    return this.#decisions.decide(decision, randomUUID(), this.#traits(decision));
  }

  async #breakDecision(decision: DecisionRequest): Promise<DecisionResponse> {
    const breakId = decision.breakId!;
    const record = await this.#breaks.get(breakId);
    if (record === null) throw unknownBreak(breakId);
    if (decision.liveEventId !== null && decision.liveEventId !== record.liveEventId) {
      throw new RequestError(400, 'DECISION_BAD_REQUEST', `"liveEventId" does not match break ${breakId}, which belongs to live event ${record.liveEventId}.`, { field: 'liveEventId' });
    }
    if (record.status !== 'ready') throw notReady(breakId);
    const response = await this.#herd.decide(decision, randomUUID(), record, this.#traits(decision).key);
    this.liveActivity.decided(record);
    return response;
  }

  async #cue(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
    if (this.#draining) throw new RequestError(503, 'LIVE_CUE_NOT_ACCEPTED', 'This Ads Manager is shutting down; retry on another instance.', { retryAfterSeconds: jitteredRetryAfterSeconds(1, 3) });
    const cue = parseCue(request.body, Date.now());
    const accepted = await this.#live.accept(cue);
    return reply.code(202).header('cache-control', 'no-store').send(accepted);
  }

  async #plan(request: FastifyRequest<{ Params: { breakId: string }; Querystring: { cohort?: string } }>, reply: FastifyReply): Promise<FastifyReply> {
    const { breakId } = request.params;
    const record = await this.#breaks.get(breakId);
    if (record === null) throw unknownBreak(breakId);
    if (record.status !== 'ready') throw notReady(breakId);
    const wanted = request.query.cohort;
    const cohorts = wanted === undefined ? Object.keys(record.cohorts) : [record.cohorts[wanted] === undefined ? DEFAULT_COHORT : wanted];
    const now = Date.now();
    // Fresh for the CDN until the break ends (at most live.planMaxAgeSeconds), never less than a second.
    const maxAge = Math.max(1, Math.min(this.#ctx.config.live.planMaxAgeSeconds, Math.ceil((record.startsAt + record.durationMs - now) / 1000)));
    // A plan never changes once ready: its preparation time names its version for revalidation.
    const etag = `"${record.preparedAt ?? 0}-${wanted === undefined ? 'all' : encodeURIComponent(wanted)}"`;
    void reply.header('cache-control', `public, max-age=${maxAge}`).header('etag', etag);
    if (request.headers['if-none-match'] === etag) return reply.code(304).send();
    return reply.code(200).send(planView(record, cohorts, this.#tokens.binding === 'none'));
  }

  async start(): Promise<void> {
    this.#lag = new EventLoopLag();
    await this.#cues.start();
  }

  async drain(): Promise<void> {
    this.#draining = true;
  }

  async stop(): Promise<void> {
    await this.#cues.stop();
    await this.#live.settle();
    await Promise.race([this.#errors.settle(), new Promise((r) => setTimeout(r, 2_000).unref())]);
    this.#lag?.stop();
  }

  /** Waits until prefetch may run (or the break is about to start), counting it as in flight. */
  async #admitPrefetch(deadline: number): Promise<() => void> {
    for (let attempt = 0; !this.#shedder.tryAcquire('prefetch'); attempt++) {
      // A prefetch that waited until the break is about to start runs anyway: a break with no ads is worse.
      if (Date.now() >= deadline - 1_000) {
        this.#shedder.force();
        break;
      }
      if (attempt === 0) this.#ctx.metrics.adsShed.inc({ priority: 'prefetch' });
      await new Promise((r) => setTimeout(r, Math.min(1_000, 50 * 2 ** attempt) * (0.5 + Math.random())));
    }
    return () => this.#shedder.release();
  }
}

function unknownBreak(breakId: string): RequestError {
  return new RequestError(404, 'LIVE_BREAK_UNKNOWN', `No cue has been received for break ${breakId}.`, {
    retryAfterSeconds: jitteredRetryAfterSeconds(1, 3),
    cacheControl: NOT_READY_CACHE,
  });
}

function notReady(breakId: string): RequestError {
  return new RequestError(503, 'LIVE_BREAK_NOT_READY', `Break ${breakId} is cued and its pods are being prefetched; retry after the Retry-After delay.`, {
    retryAfterSeconds: jitteredRetryAfterSeconds(1, 3),
    cacheControl: NOT_READY_CACHE,
  });
}

/** The public view of a ready plan: each cohort's pod as devices get it (tokens only when shareable). */
function planView(record: BreakRecord, cohorts: readonly string[], shareTokens: boolean): Record<string, unknown> {
  return {
    liveEventId: record.liveEventId,
    breakId: record.breakId,
    startsAt: record.startsAt,
    durationMs: record.durationMs,
    podMaxAds: record.podMaxAds,
    preparedAt: record.preparedAt,
    cohorts: Object.fromEntries(
      cohorts.map((cohort) => {
        const pod = record.cohorts[cohort]?.pod ?? [];
        const ads = pod.map((ad, i) => {
          const view = decisionAd(ad, i + 1, shareTokens ? ad.tokens[i]! : '');
          if (shareTokens) return view;
          const { token: _token, ...rest } = view;
          return rest;
        });
        return [cohort, { durationMs: pod.reduce((sum, ad) => sum + ad.durationMs, 0), ads }];
      }),
    ),
  };
}
