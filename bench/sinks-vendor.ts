/**
 * The vendor side of `npm run bench -- sinks`, run as a second process so that its
 * CPU is not the sink's: three HTTP servers on 127.0.0.2, .3 and .4 (three vendors)
 * that answer every beacon 200 at once and count it. Prints `{"ports":[…]}` when it
 * listens, and on SIGTERM prints `{"hits":N}` and exits. Loopback only.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

let hits = 0;
const servers = ['127.0.0.2', '127.0.0.3', '127.0.0.4'].map((host) => {
  const server = createServer((_req, res) => {
    hits++;
    res.writeHead(200, { 'content-type': 'image/gif', 'content-length': '0' });
    res.end();
  });
  server.keepAliveTimeout = 30_000;
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
