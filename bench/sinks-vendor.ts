/**
 * The vendor side of `npm run bench -- sinks`, run as a second process so that its
 * CPU is not the sink's: three servers on 127.0.0.2, .3 and .4 (three vendors) that
 * answer every beacon 200 at once and count it. Prints `{"ports":[…]}` when it
 * listens, and on SIGTERM prints `{"hits":N}` and exits. Loopback only.
 *
 * It speaks just enough HTTP/1.1 for beacons (GETs without a body, keep-alive,
 * pipelining) straight on the sockets, with no request parsing beyond finding where
 * each request ends: node:http costs several times more CPU per request than the
 * sink's own client, and on a two-core machine the bench would then measure the
 * vendor rather than the sink.
 */
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';

const RESPONSE = Buffer.from('HTTP/1.1 200 OK\r\ncontent-type: image/gif\r\ncontent-length: 0\r\nconnection: keep-alive\r\n\r\n');
const END = Buffer.from('\r\n\r\n');

let hits = 0;
const servers = ['127.0.0.2', '127.0.0.3', '127.0.0.4'].map((host) => {
  const server = createServer((socket) => {
    socket.setNoDelay(true);
    // Bytes of a request whose end has not arrived yet (a request split across reads).
    let pending: Buffer = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      const data = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      let answers = 0;
      let from = 0;
      for (let end = data.indexOf(END, from); end !== -1; end = data.indexOf(END, from)) {
        answers++;
        from = end + END.length;
      }
      pending = from === data.length ? Buffer.alloc(0) : data.subarray(from);
      if (answers === 0) return;
      hits += answers;
      socket.write(answers === 1 ? RESPONSE : Buffer.concat(Array.from({ length: answers }, () => RESPONSE)));
    });
    socket.on('error', () => socket.destroy());
  });
  return { host, server };
});
const ports = await Promise.all(servers.map(({ host, server }) => new Promise<number>((resolve) => server.listen(0, host, () => resolve((server.address() as AddressInfo).port)))));
process.stdout.write(`${JSON.stringify({ ports })}\n`);
process.on('SIGTERM', () => {
  process.stdout.write(`${JSON.stringify({ hits })}\n`);
  process.exit(0);
});
// Never outlive the benchmark by much: stop after 10 minutes whatever happens.
setTimeout(() => process.exit(0), 600_000).unref();
setInterval(() => {}, 60_000);
