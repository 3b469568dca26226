/**
 * `npm run bench -- decisions [--seconds N] [--concurrency N] [--real]`
 *
 * Drives a live ad break the way the herd does, from a second process (undici), and
 * compares it with cold VOD decisions in the same run:
 *
 * - **herd**: POST /v1/decisions for a cued, prefetched break, each from another
 *   viewer, with a frequency-cap rule so every decision reads the viewer's counters.
 * - **vod**: POST /v1/decisions with no break: a wrapper and an inline fetched from a
 *   local ad server (in the load process), a pod assembled, registry puts and tokens
 *   minted per ad.
 * - **tokens**: mint and decrypt µs/op, interleaved with the node:crypto AES-256-GCM
 *   floor (the decipher alone on the same ciphertext, AAD and tag), and the largest
 *   token seen (worst-case ids, session-bound).
 *
 * The engine runs in this process (one core); the load and the ad server in the
 * other. `--real` uses the QUARTILE_* services (Redis for state) instead of the
 * embedded backends. Goals (issue 4): herd ≥ 5,000/s at p99 < 20 ms, no token minted
 * by the herd, decrypt within 6× the floor, tokens ≤ 350 bytes.
 */
import { fork } from 'node:child_process';
import { createDecipheriv } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import { loadConfig } from '../src/config/load.ts';
import { COMPONENT_FACTORIES } from '../src/core/components.ts';
import { startEngine } from '../src/core/engine.ts';
import { TokenKeyring, generateJwk } from '../src/ads/tokens/keyring.ts';
import { TokenService } from '../src/ads/tokens/token-service.ts';
import { MAX_ID_BYTES } from '../src/ads/tokens/claims.ts';
import { silentLogger } from '../src/telemetry/logger.ts';
import { interleave, percentile, round, say, type Figures } from './harness.ts';
import type { LoadCommand, LoadResult } from './decisions-load.ts';

function flag(args: readonly string[], name: string, fallback: number): number {
  const at = args.indexOf(name);
  const value = at === -1 ? Number.NaN : Number(args[at + 1]);
  return Number.isFinite(value) && value > 0 ? value : fallback;
}

/** Token mint and decrypt against the AES-GCM floor, in this process. */
async function tokenFigures(): Promise<{ mintUs: number; decryptUs: number; floorUs: number; worstBytes: number }> {
  const jwk = generateJwk('k20261125ab');
  const tokens = new TokenService(TokenKeyring.fromJwks({ keys: [jwk] }), { ttlSeconds: 172_800, binding: 'none' });
  const bound = new TokenService(TokenKeyring.fromJwks({ keys: [jwk] }), { ttlSeconds: 172_800, binding: 'session' });
  const input = { mid: 'AAECAwQFBgcICQoLDA0ODw', ad: 'ad-1001', cr: 'cr-7731', cmp: 'cmp-2026-final', seq: 2, brk: 'brk-17' };
  const token = await tokens.mint(input);
  const long = 'x'.repeat(MAX_ID_BYTES);
  const worst = await bound.mint({ mid: input.mid, ad: long, cr: long, cmp: long, seq: 255, brk: long, playbackSessionId: 'ps' });

  // The floor: the AES-256-GCM decipher alone, on bytes already decoded.
  const [header, , iv, ciphertext, tag] = token.split('.') as [string, string, string, string, string];
  const key = Buffer.from(jwk.k, 'base64url');
  const ivBytes = Buffer.from(iv, 'base64url');
  const cipherBytes = Buffer.from(ciphertext, 'base64url');
  const tagBytes = Buffer.from(tag, 'base64url');
  const aad = Buffer.from(header, 'ascii');
  const floor = (): Buffer => {
    const decipher = createDecipheriv('aes-256-gcm', key, ivBytes);
    decipher.setAAD(aad);
    decipher.setAuthTag(tagBytes);
    return Buffer.concat([decipher.update(cipherBytes), decipher.final()]);
  };
  const batch = 200;
  const [decrypt, aes] = await interleave(
    [
      { name: 'decrypt', opsPerCall: batch, run: () => { for (let i = 0; i < batch; i++) tokens.decrypt(token); } },
      { name: 'aes-gcm floor', opsPerCall: batch, run: () => { for (let i = 0; i < batch; i++) floor(); } },
    ],
    { rounds: 8, roundMs: 250 },
  );
  const [mint] = await interleave([{ name: 'mint', opsPerCall: 20, run: async () => { for (let i = 0; i < 20; i++) await tokens.mint(input); } }], { rounds: 4, roundMs: 250 });
  return {
    mintUs: 1e6 / mint!.medianOpsPerSec,
    decryptUs: 1e6 / decrypt!.medianOpsPerSec,
    floorUs: 1e6 / aes!.medianOpsPerSec,
    worstBytes: Math.max(Buffer.byteLength(token), Buffer.byteLength(worst)),
  };
}

function summarize(name: string, result: LoadResult): { perSec: number; p50: number; p99: number } {
  const perSec = (result.count * 1000) / result.elapsedMs;
  const p50 = percentile(result.latenciesMs, 50);
  const p99 = percentile(result.latenciesMs, 99);
  say(
    `${name}: ${result.count} decisions in ${round(result.elapsedMs / 1000)} s = ${round(perSec)}/s, p50 ${round(p50)} ms, p99 ${round(p99)} ms, ` +
      `errors ${result.errors}, statuses ${JSON.stringify(result.statuses)}`,
  );
  return { perSec, p50, p99 };
}

export default async function decisionsBench(args: readonly string[]): Promise<Figures> {
  const seconds = flag(args, '--seconds', 8);
  const concurrency = flag(args, '--concurrency', 32);
  const real = args.includes('--real');

  const child = fork(fileURLToPath(new URL('./decisions-load.ts', import.meta.url)), [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const next = <T>(): Promise<T> => new Promise((resolve) => child.once('message', (m) => resolve(m as T)));
  const { tagUrl } = await next<{ tagUrl: string }>();

  const dataDir = mkdtempSync(join(tmpdir(), 'quartile-bench-'));
  const env: Record<string, string | undefined> = { QUARTILE_DATA_DIR: dataDir, QUARTILE_HTTP_PORT: '0', QUARTILE_LOG_LEVEL: 'silent' };
  if (real) for (const name of ['QUARTILE_KAFKA_BROKERS', 'QUARTILE_SCHEMA_REGISTRY_URL', 'QUARTILE_REDIS_URL']) env[name] = process.env[name];
  const config = loadConfig({
    env,
    overrides: {
      ads: {
        allowPrivateNetwork: true,
        fireErrorUris: false,
        sources: [{ id: 'bench', url: `${tagUrl}?cohort=[QUARTILE_COHORT]&cb=[CACHEBUSTING]` }],
        capRules: [{ scope: 'campaign', max: 3, window: '24h' }],
        // The benchmark measures how far one core goes: shedding would cap it.
        maxInFlight: 100_000,
      },
      live: { cohorts: ['US.ctv.personalized', 'US.mobile.personalized'], cueGroupId: `bench-${process.pid}-${Date.now()}` },
    },
  });
  const engine = await startEngine({ config, role: 'ads-manager', logger: silentLogger(), components: COMPONENT_FACTORIES });
  await engine.setupDone;
  say(`decisions: engine on ${engine.context.backends.state.kind} state, ${concurrency} connections from a second process, ${seconds} s per phase`);

  try {
    const liveEventId = 'bench-final';
    const breakId = `bench-${Date.now()}`;
    const cue = await request(`${engine.url}/v1/live/cues`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ liveEventId, breakId, startsAt: Date.now() + 60_000, durationMs: 90_000, podMaxAds: 4 }),
    });
    await cue.body.dump();
    for (let status = 0; status !== 200; ) {
      const plan = await request(`${engine.url}/v1/live/breaks/${breakId}`);
      await plan.body.dump();
      status = plan.statusCode;
      if (status !== 200) await new Promise((r) => setTimeout(r, 50));
    }
    const planText = await (await request(`${engine.url}/v1/live/breaks/${breakId}`)).body.text();
    const prefetched = new Set([...planText.matchAll(/"token":"([^"]+)"/g)].map((m) => m[1]!));

    const classes = ['ctv', 'mobile', 'desktop'];
    const herdBodies = Array.from({ length: 2_000 }, (_, i) =>
      JSON.stringify({
        playbackSessionId: `ps-${i}`,
        contentId: liveEventId,
        liveEventId,
        breakId,
        breakPosition: 'midroll',
        country: i % 5 === 0 ? 'FR' : 'US',
        deviceClass: classes[i % 3],
        device: { ip: `198.51.100.${i % 250}`, profileId: `viewer-${i}` },
        consent: { gdprApplies: false, limitAdTracking: false },
      }),
    );
    const vodBodies = herdBodies.map((b) => b.replace(`"liveEventId":"${liveEventId}","breakId":"${breakId}",`, ''));

    const phase = async (cmd: LoadCommand['cmd'], bodies: string[], phaseSeconds: number, phaseConcurrency: number): Promise<LoadResult> => {
      child.send({ cmd, url: `${engine.url}/v1/decisions`, seconds: phaseSeconds, concurrency: phaseConcurrency, bodies, sampleEvery: 10 } satisfies LoadCommand);
      return next<LoadResult>();
    };
    await phase('herd', herdBodies, 2, concurrency); // warm-up
    const herd = summarize('herd (prefetched live break)', await phase('herd', herdBodies, seconds, concurrency));
    const herdTokens = (await phase('herd', herdBodies, 1, concurrency)).tokens;
    const minted = herdTokens.filter((t) => !prefetched.has(t)).length;
    say(`herd tokens sampled: ${herdTokens.length}, not from the prefetched pods: ${minted}`);
    await phase('vod', vodBodies, 1, 8); // warm-up
    const vod = summarize('vod (cold: wrapper + inline fetched, registry, tokens)', await phase('vod', vodBodies, Math.max(3, seconds / 2), 8));

    const t = await tokenFigures();
    const tokenBytesMax = Math.max(t.worstBytes, ...herdTokens.map((x) => Buffer.byteLength(x)));
    say(`tokens: mint ${round(t.mintUs)} µs/op, decrypt ${round(t.decryptUs)} µs/op, AES-256-GCM floor ${round(t.floorUs)} µs/op, ratio ${round(t.decryptUs / t.floorUs)}; largest ${tokenBytesMax} bytes`);
    return {
      herdPerSec: round(herd.perSec),
      herdP99Ms: round(herd.p99),
      decryptVsFloor: round(t.decryptUs / t.floorUs),
      tokenBytesMax,
      herdP50Ms: round(herd.p50),
      herdMintedTokens: minted,
      vodPerSec: round(vod.perSec),
      vodP50Ms: round(vod.p50),
      vodP99Ms: round(vod.p99),
      herdVsVod: round(herd.perSec / vod.perSec),
      mintUs: round(t.mintUs),
      decryptUs: round(t.decryptUs),
      floorUs: round(t.floorUs),
      state: engine.context.backends.state.kind,
    };
  } finally {
    child.send({ cmd: 'exit' });
    await engine.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}
