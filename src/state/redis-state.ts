/**
 * The production state store: Redis through ioredis. Multi-key atomic operations are
 * Lua scripts, so they stay atomic under concurrency from many pipeline processes.
 * Connection trouble surfaces as retriable STATE_UNAVAILABLE errors rather than
 * commands queued forever, so callers can pause and back off.
 */
import { Redis } from 'ioredis';
import { QuartileError, messageOf } from '../core/errors.ts';
import type { CounterIncrement, IncrementOnceResult, KeyValue, ScoredMember, StateStore } from './state-store.ts';

/** KEYS[1] = guard, KEYS[2..] = counters; ARGV[1] = guard TTL, then (by, ttl) per counter. */
const INCREMENT_ONCE = `
local applied = redis.call('SET', KEYS[1], '1', 'NX', 'PX', ARGV[1])
local out = { applied and 1 or 0 }
for i = 2, #KEYS do
  if applied then
    local v = redis.call('INCRBY', KEYS[i], ARGV[2 * i - 2])
    local ttl = tonumber(ARGV[2 * i - 1])
    if ttl > 0 then redis.call('PEXPIRE', KEYS[i], ttl) end
    out[#out + 1] = v
  else
    out[#out + 1] = tonumber(redis.call('GET', KEYS[i]) or '0')
  end
end
return out
`;

/** INCRBY then PEXPIRE in one step, so a counter never outlives its window. */
const INCR_WITH_TTL = `
local v = redis.call('INCRBY', KEYS[1], ARGV[1])
local ttl = tonumber(ARGV[2])
if ttl > 0 then redis.call('PEXPIRE', KEYS[1], ttl) end
return v
`;

/** SET NX returning the existing value when there is one. */
const SET_IF_ABSENT = `
local ok
if tonumber(ARGV[2]) > 0 then
  ok = redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2])
else
  ok = redis.call('SET', KEYS[1], ARGV[1], 'NX')
end
if ok then return false end
return redis.call('GET', KEYS[1])
`;

/**
 * SET_IF_ABSENT over every key of KEYS in one script: ARGV[1] = TTL, ARGV[i + 1] = the
 * value for KEYS[i]. Answers per key 0 when this call set it, else the value already
 * there (values are strings, so a number can only mean "set"). One command for a whole
 * batch costs the client one request and one reply instead of one per key, which is
 * most of what a claim costs it.
 */
const SET_IF_ABSENT_MANY = `
local ttl = tonumber(ARGV[1])
local out = {}
for i = 1, #KEYS do
  local ok
  if ttl > 0 then
    ok = redis.call('SET', KEYS[i], ARGV[i + 1], 'NX', 'PX', ttl)
  else
    ok = redis.call('SET', KEYS[i], ARGV[i + 1], 'NX')
  end
  if ok then out[i] = 0 else out[i] = redis.call('GET', KEYS[i]) end
end
return out
`;

/** SET of every key of KEYS in one script: ARGV[1] = TTL (0 = none), ARGV[i + 1] = the value for KEYS[i]. */
const SET_MANY = `
local ttl = tonumber(ARGV[1])
for i = 1, #KEYS do
  if ttl > 0 then
    redis.call('SET', KEYS[i], ARGV[i + 1], 'PX', ttl)
  else
    redis.call('SET', KEYS[i], ARGV[i + 1])
  end
end
return #KEYS
`;

/**
 * Keys per SET_IF_ABSENT_MANY or SET_MANY call: a script blocks Redis while it runs, so a large
 * batch goes as several (pipelined together) rather than one long one.
 */
const KEYS_PER_SCRIPT = 256;

interface QuartileRedis extends Redis {
  setIfAbsentMany(numKeys: number, ...args: Array<string | number>): Promise<Array<string | number>>;
  setMany(numKeys: number, ...args: Array<string | number>): Promise<number>;
  incrementOnce(numKeys: number, ...args: Array<string | number>): Promise<number[]>;
  incrWithTtl(key: string, by: number, ttl: number): Promise<number>;
  setIfAbsent(key: string, value: string, ttl: number): Promise<string | null>;
}

/** Options for the Redis store. */
export interface RedisStateOptions {
  readonly url: string;
  readonly keyPrefix: string;
  /** Time allowed to connect and for one command before it fails. */
  readonly commandTimeoutMs?: number;
}

export class RedisStateStore implements StateStore {
  readonly kind = 'redis' as const;
  readonly #redis: QuartileRedis;

  constructor(options: RedisStateOptions) {
    const redis = new Redis(options.url, {
      keyPrefix: options.keyPrefix,
      lazyConnect: false,
      connectTimeout: options.commandTimeoutMs ?? 2_000,
      commandTimeout: options.commandTimeoutMs ?? 2_000,
      // Fail commands after a few reconnect attempts instead of queueing them forever.
      maxRetriesPerRequest: 2,
      // Commands issued in the same tick (a batch's dedupe claims, session reads) go
      // out as one pipeline: one round trip instead of one per event.
      enableAutoPipelining: true,
      retryStrategy: (times) => Math.min(50 * 2 ** times, 2_000),
    });
    // Errors also reach each command's promise; this handler keeps them off the
    // process's unhandled 'error' event while Redis is down.
    redis.on('error', () => {});
    redis.defineCommand('incrementOnce', { lua: INCREMENT_ONCE });
    redis.defineCommand('incrWithTtl', { numberOfKeys: 1, lua: INCR_WITH_TTL });
    redis.defineCommand('setIfAbsent', { numberOfKeys: 1, lua: SET_IF_ABSENT });
    redis.defineCommand('setIfAbsentMany', { lua: SET_IF_ABSENT_MANY });
    redis.defineCommand('setMany', { lua: SET_MANY });
    this.#redis = redis as QuartileRedis;
  }

  async #call<T>(what: string, op: () => Promise<T>): Promise<T> {
    try {
      return await op();
    } catch (cause) {
      throw new QuartileError('STATE_UNAVAILABLE', `Redis ${what} failed: ${messageOf(cause)}`, { retriable: true, cause });
    }
  }

  get(key: string): Promise<string | null> {
    return this.#call('GET', () => this.#redis.get(key));
  }

  getMany(keys: readonly string[]): Promise<Array<string | null>> {
    if (keys.length === 0) return Promise.resolve([]);
    return this.#call('MGET', () => this.#redis.mget(...keys));
  }

  async set(key: string, value: string, ttlMs?: number): Promise<void> {
    await this.#call('SET', () =>
      ttlMs !== undefined && ttlMs > 0 ? this.#redis.set(key, value, 'PX', ttlMs) : this.#redis.set(key, value),
    );
  }

  async setMany(entries: readonly KeyValue[], ttlMs?: number): Promise<void> {
    if (entries.length === 0) return;
    // One script per KEYS_PER_SCRIPT keys, not a command per key: see SET_IF_ABSENT_MANY.
    await this.#call('SET (many)', () => Promise.all(this.#scriptCalls(entries, ttlMs, (n, args) => this.#redis.setMany(n, ...args))));
  }

  /** Splits entries into script calls of KEYS_PER_SCRIPT keys: keys, then the TTL, then the values. */
  #scriptCalls<T>(entries: readonly KeyValue[], ttlMs: number | undefined, call: (numKeys: number, args: Array<string | number>) => Promise<T>): Array<Promise<T>> {
    const calls: Array<Promise<T>> = [];
    for (let from = 0; from < entries.length; from += KEYS_PER_SCRIPT) {
      const chunk = entries.slice(from, from + KEYS_PER_SCRIPT);
      const args: Array<string | number> = chunk.map((e) => e.key);
      args.push(ttlMs ?? 0);
      for (const e of chunk) args.push(e.value);
      calls.push(call(chunk.length, args));
    }
    return calls;
  }

  setIfAbsent(key: string, value: string, ttlMs?: number): Promise<string | null> {
    return this.#call('SET NX', () => this.#redis.setIfAbsent(key, value, ttlMs ?? 0));
  }

  async setIfAbsentMany(entries: readonly KeyValue[], ttlMs?: number): Promise<Array<string | null>> {
    if (entries.length === 0) return [];
    // The keys of one script must live on one node: this store talks to one Redis. A
    // Redis Cluster deployment would group the entries by hash slot first.
    const answers = await this.#call('SET NX (many)', () => Promise.all(this.#scriptCalls(entries, ttlMs, (n, args) => this.#redis.setIfAbsentMany(n, ...args))));
    const out: Array<string | null> = [];
    for (const answer of answers) for (const v of answer) out.push(typeof v === 'string' ? v : null);
    return out;
  }

  delete(keys: readonly string[]): Promise<number> {
    if (keys.length === 0) return Promise.resolve(0);
    return this.#call('DEL', () => this.#redis.del(...keys));
  }

  incrBy(key: string, by: number, ttlMs?: number): Promise<number> {
    return this.#call('INCRBY', () => this.#redis.incrWithTtl(key, by, ttlMs ?? 0));
  }

  async incrementOnce(guardKey: string, guardTtlMs: number, increments: readonly CounterIncrement[]): Promise<IncrementOnceResult> {
    const args: Array<string | number> = [guardKey, ...increments.map((i) => i.key), guardTtlMs];
    for (const i of increments) args.push(i.by, i.ttlMs);
    const [applied, ...values] = await this.#call('increment-once', () => this.#redis.incrementOnce(increments.length + 1, ...args));
    return { applied: applied === 1, values };
  }

  async sortedAdd(key: string, members: readonly ScoredMember[], ttlMs?: number): Promise<void> {
    if (members.length === 0) return;
    const args = members.flatMap((m) => [m.score, m.member]);
    await this.#call('ZADD', async () => {
      const tx = this.#redis.multi().zadd(key, ...args);
      if (ttlMs !== undefined && ttlMs > 0) tx.pexpire(key, ttlMs);
      await tx.exec();
    });
  }

  async sortedRange(key: string, min: number, max: number, limit?: number): Promise<ScoredMember[]> {
    // Redis spells infinite bounds -inf / +inf.
    const lo = min === Number.NEGATIVE_INFINITY ? '-inf' : String(min);
    const hi = max === Number.POSITIVE_INFINITY ? '+inf' : String(max);
    const flat = await this.#call('ZRANGEBYSCORE', () =>
      limit === undefined
        ? this.#redis.zrangebyscore(key, lo, hi, 'WITHSCORES')
        : this.#redis.zrangebyscore(key, lo, hi, 'WITHSCORES', 'LIMIT', 0, limit),
    );
    const out: ScoredMember[] = [];
    for (let i = 0; i + 1 < flat.length; i += 2) out.push({ member: flat[i]!, score: Number(flat[i + 1]) });
    return out;
  }

  sortedRemove(key: string, members: readonly string[]): Promise<number> {
    if (members.length === 0) return Promise.resolve(0);
    return this.#call('ZREM', () => this.#redis.zrem(key, ...members));
  }

  async ttl(key: string): Promise<number | null> {
    const ms = await this.#call('PTTL', () => this.#redis.pttl(key));
    if (ms === -2) return null;
    return ms;
  }

  async ping(): Promise<void> {
    await this.#call('PING', () => this.#redis.ping());
  }

  async close(): Promise<void> {
    await this.#redis.quit().catch(() => this.#redis.disconnect());
  }
}
