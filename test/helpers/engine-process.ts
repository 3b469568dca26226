/**
 * Runs `quartile start` as a real child process, the way an operator would, and
 * finds the URL it listens on.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { waitFor } from './wait.ts';

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const CLI = `${REPO_ROOT}bin/quartile.js`;

/** This process's environment without any QUARTILE_ variable: a child then sees only the config a test gives it. */
export function cleanEnv(): Record<string, string> {
  return Object.fromEntries(Object.entries(process.env).filter((e): e is [string, string] => !e[0].startsWith('QUARTILE_') && e[1] !== undefined));
}

/** A TCP port free on 127.0.0.1 right now. */
export async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Starts `quartile warehouse serve` on `port` (0: a free one) in `dataDir`; resolves with its URL once it answers /ping. */
export async function startWarehouseServer(dataDir: string, port = 0): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, [CLI, 'warehouse', 'serve', '--port', String(port)], { cwd: REPO_ROOT, env: { ...cleanEnv(), QUARTILE_DATA_DIR: dataDir }, stdio: ['ignore', 'ignore', 'pipe'] });
  let output = '';
  const url = await new Promise<string>((resolve, reject) => {
    child.stderr!.on('data', (d: Buffer) => {
      output += d.toString();
      const match = /listening on (http:\/\/[\d.]+:\d+)/.exec(output);
      if (match) resolve(match[1]!);
    });
    child.on('exit', (code) => reject(new Error(`quartile warehouse serve exited with ${code}: ${output}`)));
  });
  await waitFor('the warehouse server', async () => (await fetch(`${url}/ping`).catch(() => undefined))?.ok === true, 60_000, 200);
  return { url, child };
}

/** A started engine process. */
export interface EngineProcess {
  readonly child: ChildProcess;
  readonly url: string;
  /** Everything written to stderr and stdout so far. */
  output(): string;
  /** Sends a signal and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Starts `quartile start ARGS` with `env` (merged over a clean QUARTILE_-free environment). */
export async function startEngineProcess(args: readonly string[], env: Record<string, string>, cwd = REPO_ROOT): Promise<EngineProcess> {
  const child = spawn(process.execPath, [CLI, 'start', ...args], {
    cwd,
    env: { ...cleanEnv(), QUARTILE_HTTP_PORT: '0', QUARTILE_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`engine did not start within 60 s:\n${output}`)), 60_000);
    const check = (): void => {
      const match = /listening on (http:\/\/[\d.]+:\d+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    };
    child.stderr!.on('data', check);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`engine exited with ${code} before listening:\n${output}`));
    });
  });
  return {
    child,
    url,
    output: () => output,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null) child.kill(signal);
      return exited;
    },
  };
}
