/**
 * A Quartile deployment of one machine for the chaos suite and the surge benchmark, every part its own OS
 * process as in production: the embedded warehouse served by `quartile warehouse
 * serve`, a collector, an Ads Manager and one or more pipelines, on the real Kafka,
 * schema registry and Redis of ci/services. Any part can be killed (-9) and started
 * again on the same port, so the simulator keeps talking to the same URLs.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { setPriority, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { generateJwk } from '../../src/ads/tokens/keyring.ts';
import { simulationEngineConfig } from '../../src/simulate/world.ts';
import { cleanEnv, freePort, startEngineProcess, startWarehouseServer, type EngineProcess } from './engine-process.ts';
import { deleteKafkaPrefix, deleteRedisPrefix, service } from './services.ts';
import { uniqueName, waitFor } from './wait.ts';

const CI_SERVICES = fileURLToPath(new URL('../../ci/services', import.meta.url));
const execFileAsync = promisify(execFile);

/** Restarts a shared service of ci/services (kafka, redis…). */
export async function restartService(name: 'kafka' | 'redis' | 'registry'): Promise<void> {
  await execFileAsync(CI_SERVICES, ['restart', name], { timeout: 240_000 });
}

/** Whether the real services the chaos suite needs are set (QUARTILE_TEST_SERVICES decides what a missing one means). */
export function chaosSkip(): string | false {
  return [service('kafka'), service('schemaRegistry'), service('redis')].find((s) => s.skip)?.skip ?? false;
}

type Role = 'collector' | 'ads-manager' | 'pipeline' | 'pixels' | 'warehouse' | 'all';

/** One running part. */
export interface Part {
  readonly role: Role;
  readonly url: string;
  readonly port: number;
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Starts it again on the same port. */
  restart(): Promise<void>;
  alive(): boolean;
  /** OS process id (for RSS sampling). */
  pid(): number | undefined;
}

export interface ChaosCluster {
  readonly adminToken: string;
  readonly adServerPort: number;
  readonly collector: Part;
  readonly adsManager: Part;
  readonly pipelines: readonly Part[];
  /** Beacon delivery's own process, when the cluster runs one (`pixels`); otherwise the pipelines deliver. */
  readonly pixels: Part | undefined;
  /** The warehouse server process. */
  readonly warehouse: Part;
  stop(): Promise<void>;
}

interface Running {
  readonly url: string;
  kill(signal: NodeJS.Signals): Promise<unknown>;
  alive(): boolean;
  pid(): number | undefined;
}

function processPart(role: Role, start: (port: number) => Promise<Running>, port: number): Promise<Part> {
  let current: Awaited<ReturnType<typeof start>>;
  const part: Part = {
    role,
    port,
    get url() {
      return current.url;
    },
    kill: async (signal = 'SIGKILL') => {
      await current.kill(signal);
    },
    restart: async () => {
      current = await start(port);
    },
    alive: () => current.alive(),
    pid: () => current.pid(),
  };
  return start(port).then((c) => {
    current = c;
    return part;
  });
}

/** Options of a cluster. */
export interface ClusterOptions {
  readonly pipelines?: number;
  /** Run everything in one `quartile start --role all` process on the embedded backends instead (no Kafka, Redis or warehouse server). */
  readonly embedded?: boolean;
  /** Extra config for every engine process (merged over the simulation's). */
  readonly config?: Record<string, unknown>;
  /**
   * Run beacon delivery in a process of its own (`--role pixels`, the pipelines with
   * `pixels.deliver` off), at this CPU niceness (0–19): at a surge, billing keeps the
   * CPU and beacons wait in Kafka.
   */
  readonly pixelsProcess?: { readonly nice: number };
}

/** Starts a cluster with topics, keys and tables of its own. */
export async function startChaosCluster(options: ClusterOptions = {}): Promise<ChaosCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'quartile-chaos-'));
  const adServerPort = await freePort();
  const adminToken = randomBytes(16).toString('hex');
  const secret = (): string => randomBytes(32).toString('base64');
  const base = simulationEngineConfig(`http://127.0.0.1:${adServerPort}/vast?brk=[QUARTILE_BREAK_ID]`);
  const config = {
    ...base,
    ...options.config,
    ads: { ...(base['ads'] as object), capKeySecret: secret() },
    pixels: {
      ...(base['pixels'] as object),
      queueKey: secret(),
      retryBaseMs: 200,
      retryMaxDelayMs: 3000,
      breakerCooldownMs: 1000,
      ...((options.config?.['pixels'] as object) ?? {}),
      ...(options.pixelsProcess === undefined ? {} : { deliver: false }),
    },
    pipeline: { ...(base['pipeline'] as object), hashKeys: JSON.stringify([{ kid: 'h1', secret: randomBytes(32).toString('base64url'), createdAt: '2026-01-01T00:00:00Z' }]), ...((options.config?.['pipeline'] as object) ?? {}) },
    tokens: { jwks: JSON.stringify({ keys: [generateJwk('k1', Date.now())] }) },
    admin: { token: adminToken },
  };
  const configFile = join(dir, 'quartile.json');
  writeFileSync(configFile, JSON.stringify(config));
  const clean = cleanEnv();
  const warehousePort = await freePort();
  const redisPrefix = `${uniqueName('chaos')}:`;
  const topicPrefix = `${uniqueName('chaos')}.`;
  const env: Record<string, string> = {
    ...clean,
    QUARTILE_CONFIG: configFile,
    QUARTILE_KAFKA_BROKERS: service('kafka').url!,
    QUARTILE_SCHEMA_REGISTRY_URL: service('schemaRegistry').url!,
    QUARTILE_REDIS_URL: service('redis').url!,
    QUARTILE_KAFKA_TOPIC_PREFIX: topicPrefix,
    QUARTILE_REDIS_KEY_PREFIX: redisPrefix,
    QUARTILE_CLICKHOUSE_URL: `http://127.0.0.1:${warehousePort}`,
    QUARTILE_CLICKHOUSE_DATABASE: uniqueName('chaos').replace(/-/g, '_'),
  };
  if (options.embedded === true) {
    // One process, role all, on the embedded log, state and chDB.
    const embeddedEnv = { ...clean, QUARTILE_CONFIG: configFile };
    const all = await processPart('all', async (port) => {
      const p: EngineProcess = await startEngineProcess(['--role', 'all', '--port', String(port)], { ...embeddedEnv, QUARTILE_HTTP_PORT: String(port), QUARTILE_DATA_DIR: join(dir, 'all') });
      await waitFor('engine ready', async () => (await fetch(`${p.url}/readyz`).catch(() => undefined))?.ok === true, 120_000, 250);
      return { url: p.url, kill: (signal: NodeJS.Signals) => p.stop(signal), alive: () => p.child.exitCode === null && p.child.signalCode === null, pid: () => p.child.pid };
    }, await freePort());
    return {
      adminToken,
      adServerPort,
      collector: all,
      adsManager: all,
      pipelines: [all],
      pixels: undefined,
      warehouse: all,
      async stop() {
        if (all.alive()) await all.kill('SIGTERM').catch(() => {});
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  const warehouseDir = join(dir, 'warehouse');
  const warehouse = await processPart('warehouse', async (port) => {
    const { child } = await startWarehouseServer(warehouseDir, port);
    const exited = new Promise((resolve) => child.on('exit', resolve));
    return {
      url: `http://127.0.0.1:${port}`,
      kill: async (signal) => {
        if (child.exitCode === null && child.signalCode === null) child.kill(signal);
        await exited;
      },
      alive: () => child.exitCode === null && child.signalCode === null,
      pid: () => child.pid,
    };
  }, warehousePort);
  const engine = (role: Role, nice = 0) => async (port: number) => {
    const p: EngineProcess = await startEngineProcess(['--role', role, '--port', String(port)], { ...env, QUARTILE_HTTP_PORT: String(port), QUARTILE_DATA_DIR: join(dir, `${role}-${port}`) });
    if (nice > 0 && p.child.pid !== undefined) setPriority(p.child.pid, nice);
    await waitFor(`${role} ready`, async () => (await fetch(`${p.url}/readyz`).catch(() => undefined))?.ok === true, 120_000, 250);
    return { url: p.url, kill: (signal: NodeJS.Signals) => p.stop(signal), alive: () => p.child.exitCode === null && p.child.signalCode === null, pid: () => p.child.pid };
  };
  const parts: Part[] = [];
  try {
    const pipelines: Part[] = [];
    for (let i = 0; i < (options.pipelines ?? 1); i++) pipelines.push(await processPart('pipeline', engine('pipeline'), await freePort()));
    parts.push(...pipelines);
    const collector = await processPart('collector', engine('collector'), await freePort());
    parts.push(collector);
    const adsManager = await processPart('ads-manager', engine('ads-manager'), await freePort());
    parts.push(adsManager);
    const pixels = options.pixelsProcess === undefined ? undefined : await processPart('pixels', engine('pixels', options.pixelsProcess.nice), await freePort());
    if (pixels !== undefined) parts.push(pixels);
    return {
      adminToken,
      adServerPort,
      collector,
      adsManager,
      pipelines,
      pixels,
      warehouse,
      async stop() {
        for (const p of [collector, adsManager, ...pipelines, ...(pixels === undefined ? [] : [pixels])]) if (p.alive()) await p.kill('SIGTERM').catch(() => {});
        if (warehouse.alive()) await warehouse.kill('SIGTERM');
        rmSync(dir, { recursive: true, force: true });
        // What the run wrote under its prefixes goes too: the services outlive it.
        await deleteRedisPrefix(service('redis').url!, redisPrefix).catch(() => 0);
        await deleteKafkaPrefix(service('kafka').url!, topicPrefix).catch(() => 0);
      },
    };
  } catch (error) {
    for (const p of parts) await p.kill('SIGKILL').catch(() => {});
    await warehouse.kill('SIGKILL');
    throw error;
  }
}
