/**
 * decrypt: the event's opaque token → its claims. Tokens are cached by their string:
 * every event of one ad play carries the same token, and at a live break every viewer
 * carries the same few. Expired, tampered, unknown-kid and wrong-session tokens are
 * dead-lettered, each with its own code.
 */
import { LruCache } from '../../src/core/lru-cache.ts';
import { QuartileError, isQuartileError } from '../../src/core/errors.ts';
import type { TokenClaims } from '../../src/ads/tokens/claims.ts';
import { sessionHash, type TokenService } from '../../src/ads/tokens/token-service.ts';
import { EMIT, fail, type Processor, type StepContext, type StepResult } from '../../src/pipeline/processor.ts';
import type { PipelineEvent } from '../../src/pipeline/pipeline-event.ts';

export class DecryptProcessor implements Processor {
  readonly name = 'decrypt' as const;
  readonly #tokens: TokenService;
  readonly #cache: LruCache<string, TokenClaims> | undefined;

  constructor(tokens: TokenService, options: { cacheEntries: number }) {
    this.#tokens = tokens;
    this.#cache = options.cacheEntries > 0 ? new LruCache({ maxEntries: options.cacheEntries, ttlMs: 0 }) : undefined;
  }

  /** Cache hits and misses, for metrics and the benchmark. */
  cacheStats(): { hits: number; misses: number } {
    return { hits: this.#cache?.hits ?? 0, misses: this.#cache?.misses ?? 0 };
  }

  process(event: PipelineEvent, ctx: StepContext): StepResult {
    const raw = event.raw!;
    try {
      let claims = this.#cache?.get(raw.token);
      if (claims === undefined) {
        claims = this.#tokens.decrypt(raw.token, { now: ctx.now() });
        this.#cache?.set(raw.token, claims);
      } else if (claims.exp * 1000 <= ctx.now()) {
        claims = this.#tokens.decrypt(raw.token, { now: ctx.now() }); // throws DECRYPT_TOKEN_EXPIRED
      }
      if (claims.sid !== null && claims.sid !== sessionHash(raw.playbackSessionId)) {
        return fail(new QuartileError('DECRYPT_SESSION_MISMATCH', 'This token is bound to another playback session.', { stage: 'decrypt' }));
      }
      event.claims = claims;
      return EMIT;
    } catch (error) {
      if (isQuartileError(error)) return fail(error);
      throw error;
    }
  }
}
