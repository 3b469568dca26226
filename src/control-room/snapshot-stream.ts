/**
 * Pushes Control Room snapshots to open pages as server-sent events. One timer builds
 * one snapshot per interval, whatever the number of pages, and only while a page is
 * open; a page that connects gets the latest snapshot at once.
 */
import type { ServerResponse } from 'node:http';
import type { FastifyReply } from 'fastify';
import { messageOf } from '../core/errors.ts';
import type { Logger } from '../telemetry/logger.ts';
import type { ControlRoomSnapshot } from './snapshot.ts';

/** Builds the next snapshot from the previous one (for rates). */
export type SnapshotProducer = (previous: ControlRoomSnapshot | undefined) => Promise<ControlRoomSnapshot>;

export class SnapshotStream {
  readonly #produce: SnapshotProducer;
  readonly #intervalMs: number;
  readonly #logger: Logger;
  readonly #clients = new Set<ServerResponse>();
  #timer: NodeJS.Timeout | undefined;
  #latest: ControlRoomSnapshot | undefined;
  #building: Promise<ControlRoomSnapshot> | undefined;
  #closed = false;

  constructor(produce: SnapshotProducer, options: { readonly intervalMs: number; readonly logger: Logger }) {
    this.#produce = produce;
    this.#intervalMs = options.intervalMs;
    this.#logger = options.logger;
  }

  /** A snapshot no older than one interval. */
  async current(): Promise<ControlRoomSnapshot> {
    if (this.#latest !== undefined && Date.now() - this.#latest.at < this.#intervalMs) return this.#latest;
    return this.#tick();
  }

  /** Takes over the reply and streams snapshots on it until the page goes away. */
  attach(reply: FastifyReply): void {
    reply.hijack();
    const res = reply.raw;
    if (this.#closed) {
      res.writeHead(503, { 'content-type': 'application/json' }).end('{"code":"HTTP_CLOSING","message":"The engine is stopping."}');
      return;
    }
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      // Proxies such as nginx would otherwise hold the events back.
      'x-accel-buffering': 'no',
    });
    // A dropped connection is retried by the browser after this delay.
    res.write(`retry: ${Math.max(1000, this.#intervalMs)}\n\n`);
    this.#clients.add(res);
    res.on('close', () => {
      this.#clients.delete(res);
      if (this.#clients.size === 0) this.#stopTimer();
    });
    void this.current().then((snapshot) => this.#send(res, snapshot));
    this.#timer ??= setInterval(() => void this.#broadcast(), this.#intervalMs);
  }

  /** Ends every stream (engine stopping): open pages must not hold the HTTP server open. */
  close(): void {
    this.#closed = true;
    this.#stopTimer();
    for (const res of this.#clients) res.end();
    this.#clients.clear();
  }

  #stopTimer(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #tick(): Promise<ControlRoomSnapshot> {
    this.#building ??= this.#produce(this.#latest)
      .then((snapshot) => (this.#latest = snapshot))
      .finally(() => (this.#building = undefined));
    return this.#building;
  }

  async #broadcast(): Promise<void> {
    try {
      const snapshot = await this.#tick();
      for (const res of this.#clients) this.#send(res, snapshot);
    } catch (error) {
      this.#logger.warn({ err: messageOf(error) }, 'control room snapshot failed; the next tick tries again');
    }
  }

  #send(res: ServerResponse, snapshot: ControlRoomSnapshot): void {
    if (!res.writableEnded) res.write(`event: snapshot\ndata: ${JSON.stringify(snapshot)}\n\n`);
  }
}
