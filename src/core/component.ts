/**
 * A part of the engine that a role runs: the collector, the Ads Manager, the
 * pipeline, the Control Room. The engine starts components in order and stops them
 * in reverse: first every component stops taking new work (`drain`), then each one
 * finishes, commits and releases what it holds (`stop`).
 */
import type { FastifyInstance } from 'fastify';
import type { ReadinessCheck } from '../http/readiness.ts';

export interface Component {
  readonly name: string;
  /** Registers HTTP routes; called before the server listens. */
  routes?(app: FastifyInstance): void;
  /** Starts background work (consumers, timers). */
  start?(): Promise<void>;
  /** Stops taking new work; in-flight work continues. */
  drain?(): Promise<void>;
  /** Finishes or abandons in-flight work cleanly, commits, and releases resources. */
  stop(): Promise<void>;
  /** Extra readiness checks (beyond the backends). */
  readiness?(): readonly ReadinessCheck[];
}
