/**
 * A local HTTP server on 127.0.0.1 for wrapper-chain tests: each path answers a fixed
 * response (or a function of the request), and every request is recorded.
 */
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

/** How one path answers. */
export interface Route {
  readonly status?: number;
  readonly body?: string;
  readonly headers?: Readonly<Record<string, string>>;
  /** Milliseconds to wait before answering. */
  readonly delayMs?: number;
}

/** A running test server. */
export interface VastServer {
  /** Absolute URL of a path on this server. */
  url(path: string): string;
  /** Every request received, as path plus query, in order. */
  readonly hits: string[];
  close(): Promise<void>;
}

/** Starts a server; paths not in `routes` answer 404. */
export async function startVastServer(routes: Readonly<Record<string, Route | ((request: IncomingMessage) => Route)>>): Promise<VastServer> {
  const hits: string[] = [];
  const server = createServer((request, response) => {
    const target = request.url ?? '/';
    hits.push(target);
    const entry = routes[new URL(target, 'http://localhost').pathname];
    const route = typeof entry === 'function' ? entry(request) : (entry ?? { status: 404, body: 'not found' });
    const answer = (): void => {
      if (response.destroyed) return;
      response.writeHead(route.status ?? 200, { 'content-type': 'application/xml', ...route.headers });
      response.end(route.body ?? '');
    };
    if (route.delayMs === undefined) answer();
    else setTimeout(answer, route.delayMs).unref();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: (path) => `http://127.0.0.1:${port}${path}`,
    hits,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A VAST 4.2 wrapper pointing at `next`. */
export function wrapperXml(
  next: string,
  options: { id?: string; sequence?: number; attributes?: string; tag?: string; version?: string; extra?: string } = {},
): string {
  const tag = options.tag ?? options.id ?? 'w';
  return `<VAST version="${options.version ?? '4.2'}">
  <Ad id="${options.id ?? 'w'}"${options.sequence === undefined ? '' : ` sequence="${options.sequence}"`}>
    <Wrapper ${options.attributes ?? ''}>
      <AdSystem>${tag}</AdSystem>
      <VASTAdTagURI><![CDATA[${next}]]></VASTAdTagURI>
      <Error><![CDATA[https://${tag}.example/error?code=[ERRORCODE]]]></Error>
      <Impression><![CDATA[https://${tag}.example/impression]]></Impression>
      ${options.extra ?? ''}
    </Wrapper>
  </Ad>
</VAST>`;
}

/** A VAST 4.2 InLine with one linear creative. */
export function inlineXml(options: { id?: string; sequence?: number; tag?: string } = {}): string {
  const tag = options.tag ?? options.id ?? 'inline';
  return `<VAST version="4.2">
  <Ad id="${options.id ?? 'inline'}"${options.sequence === undefined ? '' : ` sequence="${options.sequence}"`}>
    <InLine>
      <AdSystem>${tag}</AdSystem>
      <AdTitle>${tag}</AdTitle>
      <Error><![CDATA[https://${tag}.example/error?code=[ERRORCODE]]]></Error>
      <Impression><![CDATA[https://${tag}.example/impression]]></Impression>
      <Creatives>
        <Creative id="${tag}-c">
          <Linear>
            <Duration>00:00:15</Duration>
            <TrackingEvents><Tracking event="start"><![CDATA[https://${tag}.example/start]]></Tracking></TrackingEvents>
            <MediaFiles><MediaFile delivery="progressive" type="video/mp4" width="640" height="360"><![CDATA[https://cdn.example/${tag}.mp4]]></MediaFile></MediaFiles>
          </Linear>
        </Creative>
      </Creatives>
    </InLine>
  </Ad>
</VAST>`;
}
