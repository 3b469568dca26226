/**
 * Readiness: every backend is checked at once, each with a timeout, and the answer
 * names the ones that are down, so an operator knows where to look.
 */
import { messageOf } from '../core/errors.ts';

/** One backend check. */
export interface ReadinessCheck {
  /** The name shown to operators: kafka, schema-registry, redis, clickhouse, chdb… */
  readonly name: string;
  check(): Promise<void>;
}

/** The outcome of one check. */
export interface CheckResult {
  readonly name: string;
  readonly up: boolean;
  readonly error?: string;
  readonly ms: number;
}

/** The readiness answer. */
export interface ReadinessReport {
  readonly ready: boolean;
  /** Names of the backends that are down. */
  readonly down: string[];
  readonly checks: CheckResult[];
}

/** Runs every check in parallel, each bounded by `timeoutMs`. */
export async function checkReadiness(checks: readonly ReadinessCheck[], timeoutMs = 2_500): Promise<ReadinessReport> {
  const results = await Promise.all(
    checks.map(async (c): Promise<CheckResult> => {
      const start = performance.now();
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          c.check(),
          new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
          }),
        ]);
        return { name: c.name, up: true, ms: Math.round(performance.now() - start) };
      } catch (error) {
        return { name: c.name, up: false, error: messageOf(error), ms: Math.round(performance.now() - start) };
      } finally {
        clearTimeout(timer);
      }
    }),
  );
  const down = results.filter((r) => !r.up).map((r) => r.name);
  return { ready: down.length === 0, down, checks: results };
}
