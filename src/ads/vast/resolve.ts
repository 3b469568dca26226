/**
 * Resolving VAST wrapper chains over HTTP: each Wrapper's VASTAdTagURI is fetched,
 * parsed and followed until InLine ads are reached, within a per-request timeout, a
 * total deadline and a wrapper limit. Every failure is reported with its IAB code and
 * the Error URIs of the wrappers involved; with `fireErrors` those URIs are sent.
 */
import pLimit, { type LimitFunction } from 'p-limit';
import { isQuartileError, messageOf } from '../../core/errors.ts';
import { httpGet } from '../../net/http-get.ts';
import type { ParsedDocument } from './build-model.ts';
import { decodeVastBytes } from './decode.ts';
import { vastError } from './errors.ts';
import { expandMacros } from './macros.ts';
import { mergeWrappers } from './merge.ts';
import type { Ad, FiredUri, VastError, VastResult } from './model.ts';
import { vastOptions, type VastResolveOptions } from './options.ts';
import { emptyResult, noAds, readVastDocument, sortAds, unplayable } from './parse.ts';

/**
 * Fetches the VAST at `url` and follows its wrappers. Never throws for a bad ad
 * server: every problem is in `errors`, with its IAB code. Throws only for invalid
 * options (a bug in the caller).
 */
export async function resolveVast(url: string, options: Partial<VastResolveOptions> = {}): Promise<VastResult> {
  const session = newSession(vastOptions(options));
  const fetched = await fetchDocument(session, url, { errorUris: [], adId: undefined });
  if (!fetched.ok) return finish(session, emptyResult(fetched.error));
  return finish(session, await resolveTop(session, fetched.doc, fetched.url));
}

/**
 * Follows the wrappers of a VAST document already in hand. Relative VASTAdTagURIs
 * resolve against `baseUrl` (the URL the document came from); with a null base they
 * cannot be followed and are reported with 301.
 */
export async function resolveVastDocument(xml: string, baseUrl: string | null, options: Partial<VastResolveOptions> = {}): Promise<VastResult> {
  const session = newSession(vastOptions(options));
  const outcome = readVastDocument(xml, session.options.maxBytes, baseUrl ?? undefined);
  if (!outcome.ok) return finish(session, emptyResult(outcome.error));
  return finish(session, await resolveTop(session, outcome.doc, baseUrl));
}

/** State shared by one resolution. */
interface Session {
  readonly options: Readonly<VastResolveOptions>;
  /** performance.now() after which nothing more is fetched. */
  readonly deadline: number;
  readonly deadlineSignal: AbortSignal;
  readonly limit: LimitFunction;
}

function newSession(options: Readonly<VastResolveOptions>): Session {
  return {
    options,
    deadline: performance.now() + options.deadlineMs,
    deadlineSignal: AbortSignal.timeout(options.deadlineMs),
    limit: pLimit(options.maxConcurrency),
  };
}

/** What resolving part of the tree gives: ads, the errors met, root Error URIs seen. */
interface Outcome {
  readonly ads: Ad[];
  readonly errors: VastError[];
  readonly errorUris: string[];
}

/** One wrapper followed: the ad, and the absolute form of its VASTAdTagURI. */
interface Hop {
  readonly wrapper: Ad;
  readonly uri: string;
}

async function resolveTop(session: Session, doc: ParsedDocument, docUrl: string | null): Promise<VastResult> {
  const outcome = await resolveDocument(session, doc, docUrl, [], docUrl === null ? [] : [docUrl]);
  const errors = [...doc.errors, ...outcome.errors];
  if (doc.ads.length === 0) errors.push(noAds('The VAST response holds no ad.', doc.errorUris, docUrl === null ? {} : { uri: docUrl }));
  return { version: doc.version, ads: sortAds(outcome.ads), errors, errorUris: [...doc.errorUris, ...outcome.errorUris] };
}

/**
 * Resolves every ad of one document, in parallel, and applies `fallbackOnNoAd`: a pod
 * wrapper that yields no ad and asks for fallback takes the first buffet ad that
 * resolved (VAST 4.x, Wrapper attribute fallbackOnNoAd); without it the slot is skipped.
 */
async function resolveDocument(session: Session, doc: ParsedDocument, docUrl: string | null, chain: readonly Hop[], visited: readonly string[]): Promise<Outcome> {
  const results = await Promise.all(doc.ads.map((ad) => resolveAd(session, ad, doc, docUrl, chain, visited)));
  const used = new Set<number>();
  doc.ads.forEach((ad, i) => {
    const result = results[i]!;
    if (ad.kind !== 'wrapper' || ad.sequence === null || result.ads.length > 0 || ad.wrapperPolicy?.fallbackOnNoAd !== true) return;
    const donor = doc.ads.findIndex((other, j) => other.sequence === null && !used.has(j) && results[j]!.ads.length > 0);
    if (donor === -1) return;
    used.add(donor);
    const [replacement] = results[donor]!.ads.splice(0, 1);
    result.ads.push({ ...replacement!, sequence: ad.sequence });
  });
  const out: Outcome = { ads: [], errors: [], errorUris: [] };
  for (const result of results) {
    out.ads.push(...result.ads);
    out.errors.push(...result.errors);
    out.errorUris.push(...result.errorUris);
  }
  return out;
}

async function resolveAd(session: Session, ad: Ad, doc: ParsedDocument, docUrl: string | null, chain: readonly Hop[], visited: readonly string[]): Promise<Outcome> {
  const outcome: Outcome = { ads: [], errors: [], errorUris: [] };
  if (ad.kind === 'inline') {
    const merged = mergeWrappers(
      chain.map((hop) => hop.wrapper),
      chain.map((hop) => hop.uri),
      ad,
    );
    const error = unplayable(merged, doc.errorUris);
    if (error === null) outcome.ads.push(merged);
    else outcome.errors.push(withUri(error, docUrl));
    return outcome;
  }

  // The Error URIs of every wrapper involved, outermost first: they hear of any failure below.
  const chainErrorUris = [...chain.flatMap((hop) => hop.wrapper.errorUris), ...ad.errorUris];
  const context = { adId: ad.id, errorUris: chainErrorUris };
  const template = ad.vastAdTagUri ?? '';
  let target: string;
  let requestUrl: string;
  try {
    target = new URL(template, docUrl ?? undefined).href;
    // Macros in a request URI are filled in (VAST 4.x: "VAST request URIs" contexts);
    // loops are detected on the URI as written, since [CACHEBUSTING] changes every time.
    requestUrl = new URL(expandMacros(template, session.options.macros), docUrl ?? undefined).href;
  } catch {
    const why = docUrl === null ? 'is relative and the document has no base URL' : 'is not a URL';
    outcome.errors.push(vastError(301, 'NET_URL_INVALID', `The VASTAdTagURI "${template}" ${why}.`, context));
    return outcome;
  }
  if (chain.length >= session.options.wrapperLimit) {
    outcome.errors.push(
      vastError(302, 'VAST_WRAPPER_LIMIT', `More than ${session.options.wrapperLimit} wrappers in a row; ${target} was not followed.`, { ...context, uri: target }),
    );
    return outcome;
  }
  if (visited.includes(target)) {
    outcome.errors.push(vastError(302, 'VAST_WRAPPER_LOOP', `The wrapper points back at ${target}, already in its chain.`, { ...context, uri: target }));
    return outcome;
  }

  const fetched = await fetchDocument(session, requestUrl, context);
  if (!fetched.ok) {
    outcome.errors.push(fetched.error);
    return outcome;
  }
  const nested = fetched.doc;
  outcome.errorUris.push(...nested.errorUris);
  for (const error of nested.errors) outcome.errors.push({ ...error, errorUris: [...chainErrorUris, ...error.errorUris] });

  const policy = ad.wrapperPolicy;
  let candidates = nested.ads;
  let refusal = 'The VAST response to the wrapper holds no ad.';
  if (policy !== null && !policy.followAdditionalWrappers) {
    candidates = candidates.filter((candidate) => candidate.kind === 'inline');
    if (candidates.length < nested.ads.length) refusal = 'followAdditionalWrappers="false" and the response holds only wrappers.';
  }
  if (policy !== null && !policy.allowMultipleAds && candidates.length > 1) {
    const pod = candidates.length;
    // "Only the first stand-alone Ad (with no sequence values) is allowed."
    candidates = candidates.filter((candidate) => candidate.sequence === null).slice(0, 1);
    if (candidates.length === 0) refusal = `allowMultipleAds="false" and the response is a pod of ${pod} ads with no stand-alone ad.`;
  }
  if (candidates.length === 0) {
    outcome.errors.push(noAds(refusal, [...chainErrorUris, ...nested.errorUris], { adId: ad.id, uri: fetched.url }));
    return outcome;
  }

  const below = await resolveDocument(session, { ...nested, ads: candidates }, fetched.url, [...chain, { wrapper: ad, uri: target }], [
    ...visited,
    target,
    fetched.url,
  ]);
  // A single ad takes the wrapper's place, pod position included.
  const ads = below.ads.length === 1 ? [{ ...below.ads[0]!, sequence: ad.sequence }] : below.ads;
  outcome.ads.push(...ads);
  outcome.errors.push(...below.errors);
  outcome.errorUris.push(...below.errorUris);
  return outcome;
}

type Fetched = { readonly ok: true; readonly doc: ParsedDocument; readonly url: string } | { readonly ok: false; readonly error: VastError };

/** Fetches and reads one VAST document; any failure comes back as a VastError for `context`. */
async function fetchDocument(session: Session, url: string, context: { readonly errorUris: readonly string[]; readonly adId: string | null | undefined }): Promise<Fetched> {
  const { options } = session;
  const remaining = Math.floor(session.deadline - performance.now());
  const fail = (code: 100 | 301 | 303, reason: VastError['reason'], message: string): Fetched => ({
    ok: false,
    error: vastError(code, reason, message, { ...context, uri: url }),
  });
  if (remaining <= 0) return fail(301, 'VAST_DEADLINE_EXCEEDED', `The ${options.deadlineMs} ms deadline ran out before ${url} was fetched.`);

  let response;
  try {
    response = await session.limit(() =>
      httpGet(url, {
        timeoutMs: Math.min(options.timeoutMs, remaining),
        maxBytes: options.maxBytes,
        maxRedirects: options.maxRedirects,
        allowPrivateNetwork: options.allowPrivateNetwork,
        headers: options.headers,
        signal: session.deadlineSignal,
      }),
    );
  } catch (error) {
    if (!isQuartileError(error)) return fail(301, 'NET_UNREACHABLE', `Cannot fetch ${url}: ${messageOf(error)}`);
    // When what was left of the deadline bounded this request's timeout, its timeout IS
    // the deadline (the timer can fire a hair before the deadline instant, since the
    // remaining time is rounded down, so the clock alone is not enough to tell).
    const deadlineBound = remaining < options.timeoutMs;
    if (error.code === 'NET_TIMEOUT' && (deadlineBound || performance.now() >= session.deadline)) {
      return fail(301, 'VAST_DEADLINE_EXCEEDED', `The ${options.deadlineMs} ms deadline ran out while fetching ${url}.`);
    }
    return fail(301, error.code, error.message);
  }
  if (response.status < 200 || response.status >= 300) return fail(301, 'NET_HTTP_STATUS', `HTTP ${response.status} from ${response.url}.`);

  const contentType = response.headers['content-type'];
  const text = decodeVastBytes(response.body, typeof contentType === 'string' ? contentType : undefined);
  // An empty answer is how many ad servers say "no ad" (IAB 303, not a parse error).
  if (text.trim() === '') return fail(303, 'VAST_NO_ADS', `The response from ${response.url} is empty.`);
  const outcome = readVastDocument(text, options.maxBytes, response.url);
  if (!outcome.ok) return { ok: false, error: { ...outcome.error, ...(context.adId === undefined ? {} : { adId: context.adId }), errorUris: context.errorUris } };
  return { ok: true, doc: outcome.doc, url: response.url };
}

function withUri(error: VastError, uri: string | null): VastError {
  return uri === null || error.uri !== undefined ? error : { ...error, uri };
}

/** Fires the Error URIs when asked, then returns the result. */
async function finish(session: Session, result: VastResult): Promise<VastResult> {
  if (!session.options.fireErrors) return result;
  const { options } = session;
  const requests: Promise<FiredUri>[] = [];
  for (const error of result.errors) {
    for (const template of error.errorUris) {
      const uri = expandMacros(template, { ...options.macros, ERRORCODE: error.code });
      requests.push(session.limit(() => fire(uri, options)));
    }
  }
  return { ...result, firedErrorUris: await Promise.all(requests) };
}

async function fire(uri: string, options: Readonly<VastResolveOptions>): Promise<FiredUri> {
  try {
    const response = await httpGet(uri, {
      timeoutMs: options.timeoutMs,
      maxBytes: options.maxBytes,
      maxRedirects: options.maxRedirects,
      allowPrivateNetwork: options.allowPrivateNetwork,
      headers: options.headers,
      discardBody: true,
    });
    return { uri, status: response.status };
  } catch (error) {
    return { uri, status: null, reason: isQuartileError(error) ? error.code : 'NET_UNREACHABLE' };
  }
}
