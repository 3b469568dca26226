/**
 * The simulation's VAST ad server: for each break it serves a pod of `podSize` InLine
 * ads whose impression and tracking URIs point at the simulated vendors. Its answer
 * depends only on the break, so every cohort of a break gets the same pod.
 *
 * A tracking URI reads `http://<vendor host>:<port>/t/<break index>/<sequence>/<event>`,
 * which lets a vendor server tell which beacon a hit is, the way a real vendor's
 * endpoint encodes placement and event in its path.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SIM_VENDORS, type SimEventType } from './sim-vendors.ts';

/** A campaign of the simulated pods (ad `sequence` n runs campaign n mod 3). */
export interface SimCampaign {
  readonly id: string;
  readonly advertiserId: string;
  /** CPM, in USD. */
  readonly cpm: number;
}

export const SIM_CAMPAIGNS: readonly SimCampaign[] = [
  { id: 'sim-winter-launch', advertiserId: 'sim-adv-auto', cpm: 12.5 },
  { id: 'sim-playoffs-promo', advertiserId: 'sim-adv-sports', cpm: 20 },
  { id: 'sim-holiday-sale', advertiserId: 'sim-adv-retail', cpm: 8 },
];

/** The campaign of the ad at `sequence` (from 1). */
export function campaignOf(sequence: number): SimCampaign {
  return SIM_CAMPAIGNS[(sequence - 1) % SIM_CAMPAIGNS.length]!;
}

/** The break index a simulation encodes at the end of its break ids (`<live event>.b<index>`). */
export function breakIndexOf(breakId: string): number | undefined {
  const match = /\.b(\d+)$/.exec(breakId);
  return match === null ? undefined : Number(match[1]);
}

export interface AdServerOptions {
  readonly podSize: number;
  readonly adDurationSec: number;
  /** When an ad becomes skippable, in seconds. */
  readonly skipOffsetSec: number;
  /** Port of each vendor server, by vendor name. */
  readonly vendorPorts: Readonly<Record<string, number>>;
  /** 0 picks a free port. */
  readonly port: number;
}

function hms(seconds: number): string {
  const pad = (n: number): string => String(n).padStart(2, '0');
  return `${pad(Math.floor(seconds / 3600))}:${pad(Math.floor((seconds % 3600) / 60))}:${pad(seconds % 60)}`;
}

/** The tracking URI of one vendor for one event of one ad. */
export function trackingUri(vendorHost: string, port: number, breakIndex: number, sequence: number, event: SimEventType): string {
  return `http://${vendorHost}:${port}/t/${breakIndex}/${sequence}/${event}?cb=[CACHEBUSTING]&ifa=[IFA]`;
}

/** The VAST document of one break. */
export function podVast(breakIndex: number, options: Omit<AdServerOptions, 'port'>): string {
  const ads: string[] = [];
  for (let seq = 1; seq <= options.podSize; seq++) {
    const campaign = campaignOf(seq);
    const uris = (event: SimEventType): string[] =>
      SIM_VENDORS.filter((v) => v.tracks.includes(event)).map((v) => trackingUri(v.host, options.vendorPorts[v.name] ?? 0, breakIndex, seq, event));
    const tracking = (['start', 'firstQuartile', 'midpoint', 'thirdQuartile', 'complete', 'skip'] as const)
      .flatMap((event) => uris(event).map((uri) => `<Tracking event="${event}"><![CDATA[${uri}]]></Tracking>`))
      .join('');
    const id = `sim-${breakIndex}-${seq}`;
    ads.push(`<Ad id="${id}" sequence="${seq}"><InLine>
  <AdSystem>quartile-simulator</AdSystem><AdTitle>${campaign.id} spot ${seq}</AdTitle>
  ${uris('impression').map((u) => `<Impression><![CDATA[${u}]]></Impression>`).join('')}
  <Pricing model="CPM" currency="USD">${campaign.cpm}</Pricing>
  <Creatives><Creative id="${id}-cr"><Linear skipoffset="${hms(options.skipOffsetSec)}">
    <Duration>${hms(options.adDurationSec)}</Duration>
    <TrackingEvents>${tracking}</TrackingEvents>
    <MediaFiles><MediaFile delivery="progressive" type="video/mp4" width="1920" height="1080" bitrate="4000"><![CDATA[https://cdn.example/sim/${id}.mp4]]></MediaFile></MediaFiles>
  </Linear></Creative></Creatives>
  <Extensions><Extension type="quartile"><CampaignId>${campaign.id}</CampaignId><LineItemId>${campaign.id}-li</LineItemId><AdvertiserId>${campaign.advertiserId}</AdvertiserId></Extension></Extensions>
</InLine></Ad>`);
  }
  return `<VAST version="4.2">${ads.join('\n')}</VAST>`;
}

/** A running ad server. */
export interface AdServer {
  /** The ad source URL template for `ads.sources` (the engine fills in the break id). */
  readonly sourceUrl: string;
  /** VAST requests served. */
  requests(): number;
  close(): Promise<void>;
}

/** Starts the ad server on 127.0.0.1. */
export async function startAdServer(options: AdServerOptions): Promise<AdServer> {
  let requests = 0;
  const server: Server = createServer((request, response) => {
    requests++;
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    const index = breakIndexOf(url.searchParams.get('brk') ?? '');
    if (url.pathname !== '/vast' || index === undefined) {
      response.writeHead(200, { 'content-type': 'application/xml' }).end('<VAST version="4.2"></VAST>');
      return;
    }
    response.writeHead(200, { 'content-type': 'application/xml' }).end(podVast(index, options));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    sourceUrl: `http://127.0.0.1:${port}/vast?brk=[QUARTILE_BREAK_ID]`,
    requests: () => requests,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
