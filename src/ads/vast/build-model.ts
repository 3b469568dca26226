/**
 * Builds the VAST model from fast-xml-parser's ordered tree in one walk: every element
 * is visited once, by the function that knows its context (the element reference of the
 * VAST 4.x specification). Unknown elements are skipped, as the spec asks players to do.
 */
import { vastError } from './errors.ts';
import type {
  Ad,
  ClosedCaptionFile,
  CompanionCreative,
  Creative,
  Icon,
  InteractiveCreativeFile,
  LinearCreative,
  MediaFile,
  Mezzanine,
  NonLinearCreative,
  Resource,
  TrackingUri,
  Verification,
  VastError,
  WrapperPolicy,
} from './model.ts';
import { TEXT_KEY, vastXmlParser } from './parser-options.ts';
import { listAt } from './record.ts';
import { offsetToMs, parseTimecode } from './time.ts';
import {
  attr,
  attributesOf,
  boolAttr,
  childrenOf,
  intAttr,
  keyOf,
  localName,
  NO_ATTRIBUTES,
  textOf,
  textOrNull,
  toInt,
  type XmlAttributes,
  type XmlNode,
} from './xml-node.ts';

/** One VAST document read into the model, before any wrapper is followed. */
export interface ParsedDocument {
  /** The `version` attribute of `<VAST>`. */
  readonly version: string | null;
  /** Every `<Ad>`, InLine or Wrapper, in document order. */
  readonly ads: readonly Ad[];
  /** Root-level `<Error>` URIs: the ones to fire when the response holds no ad. */
  readonly errorUris: readonly string[];
  /** Ads that had to be skipped (IAB 101), one error each. */
  readonly errors: readonly VastError[];
}

/** What reading a document's root gives: the document, or why there is none. */
export type DocumentOutcome = { readonly ok: true; readonly doc: ParsedDocument } | { readonly ok: false; readonly error: VastError };

// VAST 2.0 to 4.3 are supported; VAST 4 players are expected to read 2.0 and 3.0 too.
const SUPPORTED_MAJOR = new Set([2, 3, 4]);

/** Builds the model of a whole document from its top-level nodes. */
export function buildDocument(top: readonly XmlNode[], uri?: string): DocumentOutcome {
  let root: XmlNode | undefined;
  let rootKey = '';
  for (const node of top) {
    const key = keyOf(node);
    if (key.charCodeAt(0) === 35 /* '#' */) continue;
    if (root !== undefined) return failure(100, 'VAST_XML_INVALID', 'The document has more than one root element.', uri);
    root = node;
    rootKey = key;
  }
  if (root === undefined) return failure(100, 'VAST_XML_INVALID', 'The document holds no XML element.', uri);

  const name = localName(rootKey);
  // VAST 1.0 documents have the root <VideoAdServingTemplate>; refused as vast-client-js does.
  if (name === 'VideoAdServingTemplate') {
    return failure(102, 'VAST_VERSION_UNSUPPORTED', 'VAST 1.0 (<VideoAdServingTemplate>) is not supported; VAST 2.0 to 4.3 are.', uri);
  }
  if (name !== 'VAST') return failure(101, 'VAST_SCHEMA_INVALID', `The root element is <${rootKey}>, not <VAST>.`, uri);

  const version = attr(attributesOf(root), 'version');
  const major = version === null ? null : Number.parseInt(version, 10);
  if (major !== null && !SUPPORTED_MAJOR.has(major)) {
    return failure(102, 'VAST_VERSION_UNSUPPORTED', `VAST version ${version} is not supported; VAST 2.0 to 4.3 are.`, uri);
  }

  const ads: Ad[] = [];
  const errorUris: string[] = [];
  const errors: VastError[] = [];
  // allowMultipleAds arrived in VAST 3.0; older wrappers never restricted their responses.
  const legacy = major !== null && major < 3;
  for (const node of childrenOf(root, rootKey)) {
    const key = keyOf(node);
    switch (localName(key)) {
      case 'Ad': {
        const ad = buildAd(node, key, legacy);
        if ('code' in ad) errors.push(uri === undefined ? ad : { ...ad, uri });
        else ads.push(ad);
        break;
      }
      case 'Error':
        pushText(errorUris, childrenOf(node, key));
        break;
      default:
        break;
    }
  }
  return { ok: true, doc: { version, ads, errorUris, errors } };
}

function failure(code: 100 | 101 | 102, reason: 'VAST_XML_INVALID' | 'VAST_SCHEMA_INVALID' | 'VAST_VERSION_UNSUPPORTED', message: string, uri?: string): DocumentOutcome {
  return { ok: false, error: vastError(code, reason, message, { uri }) };
}

function buildAd(node: XmlNode, key: string, legacy: boolean): Ad | VastError {
  const attributes = attributesOf(node);
  const id = attr(attributes, 'id');
  for (const child of childrenOf(node, key)) {
    const childKey = keyOf(child);
    const name = localName(childKey);
    if (name === 'InLine' || name === 'Wrapper') {
      return buildAdBody(childrenOf(child, childKey), attributes, name === 'Wrapper' ? attributesOf(child) : null, legacy);
    }
  }
  return vastError(101, 'VAST_SCHEMA_INVALID', 'An <Ad> has neither <InLine> nor <Wrapper>; it was skipped.', { adId: id });
}

/** Everything an InLine or a Wrapper holds; `wrapperAttributes` is null for an InLine. */
function buildAdBody(children: readonly XmlNode[], adAttributes: XmlAttributes, wrapperAttributes: XmlAttributes | null, legacy: boolean): Ad | VastError {
  const isWrapper = wrapperAttributes !== null;
  let adSystem: string | null = null;
  let adSystemVersion: string | null = null;
  let adTitle: string | null = null;
  let adServingId: string | null = null;
  let advertiser: string | null = null;
  let description: string | null = null;
  let expiresSeconds: number | null = null;
  let pricing: Ad['pricing'] = null;
  let vastAdTagUri: string | null = null;
  let verifications: Verification[] | null = null;
  let verificationExtension: string | null = null;
  const categories: { authority: string | null; value: string }[] = [];
  const impressionUris: string[] = [];
  const errorUris: string[] = [];
  const viewable = { viewable: [] as string[], notViewable: [] as string[], viewUndetermined: [] as string[] };
  const creatives: Creative[] = [];
  const extensions: { type: string | null; xml: string }[] = [];

  for (const node of children) {
    const key = keyOf(node);
    switch (localName(key)) {
      case 'AdSystem':
        adSystem = textOrNull(childrenOf(node, key));
        adSystemVersion = attr(attributesOf(node), 'version');
        break;
      case 'AdTitle':
        adTitle = textOrNull(childrenOf(node, key));
        break;
      case 'AdServingId':
        adServingId = textOrNull(childrenOf(node, key));
        break;
      case 'Advertiser':
        advertiser = textOrNull(childrenOf(node, key));
        break;
      case 'Description':
        description = textOrNull(childrenOf(node, key));
        break;
      case 'Category': {
        const value = textOrNull(childrenOf(node, key));
        if (value !== null) categories.push({ authority: attr(attributesOf(node), 'authority'), value });
        break;
      }
      case 'Expires':
        expiresSeconds = toInt(textOrNull(childrenOf(node, key)));
        break;
      case 'Pricing':
        pricing = buildPricing(node, key);
        break;
      case 'Error':
        pushText(errorUris, childrenOf(node, key));
        break;
      case 'Impression':
        pushText(impressionUris, childrenOf(node, key));
        break;
      case 'ViewableImpression':
        buildViewable(childrenOf(node, key), viewable);
        break;
      case 'AdVerifications':
        verifications = buildVerifications(childrenOf(node, key));
        break;
      case 'Creatives':
        buildCreatives(childrenOf(node, key), isWrapper, creatives);
        break;
      case 'Extensions':
        for (const extension of childrenOf(node, key)) {
          const extensionKey = keyOf(extension);
          if (localName(extensionKey) !== 'Extension') continue;
          const type = attr(attributesOf(extension), 'type');
          const xml = rawText(childrenOf(extension, extensionKey));
          extensions.push({ type, xml });
          // Before VAST 4.1, OMID verification travelled in this extension (IAB OM SDK guidance).
          if (type === 'AdVerifications' && verificationExtension === null) verificationExtension = xml;
        }
        break;
      case 'VASTAdTagURI':
        vastAdTagUri = textOrNull(childrenOf(node, key));
        break;
      case 'VASTAdTagURL':
        // VAST 1 spelling, still met in VAST 2 wrappers: <VASTAdTagURL><URL>…</URL>.
        vastAdTagUri ??= legacyTagUrl(childrenOf(node, key));
        break;
      default:
        break;
    }
  }

  const id = attr(adAttributes, 'id');
  let wrapperPolicy: WrapperPolicy | null = null;
  if (wrapperAttributes !== null) {
    if (vastAdTagUri === null) {
      return vastError(101, 'VAST_SCHEMA_INVALID', 'A <Wrapper> has no <VASTAdTagURI>; the ad was skipped.', { adId: id, errorUris });
    }
    // Defaults as the VAST 4.x <Wrapper> attributes define them.
    wrapperPolicy = {
      followAdditionalWrappers: boolAttr(wrapperAttributes, 'followAdditionalWrappers') ?? true,
      allowMultipleAds: boolAttr(wrapperAttributes, 'allowMultipleAds') ?? legacy,
      fallbackOnNoAd: boolAttr(wrapperAttributes, 'fallbackOnNoAd'),
    };
  }
  if (verifications === null && verificationExtension !== null) verifications = verificationsFromExtension(verificationExtension);

  return {
    id,
    sequence: intAttr(adAttributes, 'sequence'),
    kind: isWrapper ? 'wrapper' : 'inline',
    vastAdTagUri,
    adType: attr(adAttributes, 'adType'),
    adSystem,
    adSystemVersion,
    adTitle,
    adServingId,
    advertiser,
    description,
    categories,
    expiresSeconds,
    wrapperPolicy,
    wrapperUris: [],
    impressionUris,
    errorUris,
    viewable,
    pricing,
    verifications: verifications ?? [],
    creatives,
    extensions,
  };
}

function buildPricing(node: XmlNode, key: string): Ad['pricing'] {
  const text = textOrNull(childrenOf(node, key));
  const value = text === null ? Number.NaN : Number(text);
  if (!Number.isFinite(value)) return null;
  const attributes = attributesOf(node);
  return { model: attr(attributes, 'model') ?? '', currency: attr(attributes, 'currency') ?? '', value };
}

function buildViewable(children: readonly XmlNode[], into: { viewable: string[]; notViewable: string[]; viewUndetermined: string[] }): void {
  for (const node of children) {
    const key = keyOf(node);
    switch (localName(key)) {
      case 'Viewable':
        pushText(into.viewable, childrenOf(node, key));
        break;
      case 'NotViewable':
        pushText(into.notViewable, childrenOf(node, key));
        break;
      case 'ViewUndetermined':
        pushText(into.viewUndetermined, childrenOf(node, key));
        break;
      default:
        break;
    }
  }
}

function buildVerifications(children: readonly XmlNode[]): Verification[] {
  const out: Verification[] = [];
  for (const node of children) {
    const key = keyOf(node);
    if (localName(key) !== 'Verification') continue;
    const javascriptUris: string[] = [];
    const executableUris: string[] = [];
    const tracking: Record<string, string[]> = {};
    let parameters: string | null = null;
    for (const child of childrenOf(node, key)) {
      const childKey = keyOf(child);
      switch (localName(childKey)) {
        case 'JavaScriptResource':
          pushText(javascriptUris, childrenOf(child, childKey));
          break;
        case 'ExecutableResource':
          pushText(executableUris, childrenOf(child, childKey));
          break;
        case 'VerificationParameters':
          parameters = textOrNull(childrenOf(child, childKey));
          break;
        case 'TrackingEvents':
          for (const event of childrenOf(child, childKey)) {
            const eventKey = keyOf(event);
            if (localName(eventKey) !== 'Tracking') continue;
            const name = attr(attributesOf(event), 'event');
            const uri = textOrNull(childrenOf(event, eventKey));
            if (name !== null && uri !== null) listAt(tracking, name).push(uri);
          }
          break;
        default:
          break;
      }
    }
    out.push({ vendor: attr(attributesOf(node), 'vendor'), javascriptUris, executableUris, parameters, tracking });
  }
  return out;
}

/** Reads `<AdVerifications>` out of the raw XML an `AdVerifications` extension kept. */
function verificationsFromExtension(xml: string): Verification[] {
  // The extension's XML was part of a document that passed the well-formedness check.
  for (const node of vastXmlParser.parse(xml) as XmlNode[]) {
    const key = keyOf(node);
    if (localName(key) === 'AdVerifications') return buildVerifications(childrenOf(node, key));
  }
  return [];
}

/** What every entry of one `<Creative>` shares. */
interface CreativeContext {
  readonly id: string | null;
  readonly adId: string | null;
  readonly sequence: number | null;
  readonly creativeApiFramework: string | null;
  /** Shared by the entries and filled as the walk meets <UniversalAdId>, wherever it sits. */
  readonly universalAdIds: { idRegistry: string; value: string }[];
}

function buildCreatives(children: readonly XmlNode[], isWrapper: boolean, into: Creative[]): void {
  for (const node of children) {
    const key = keyOf(node);
    if (localName(key) !== 'Creative') continue;
    const attributes = attributesOf(node);
    const context: CreativeContext = {
      id: attr(attributes, 'id'),
      // VAST 3 wrote AdID; vast-client-js's fixtures also have adID.
      adId: attr(attributes, 'adId') ?? attr(attributes, 'AdID') ?? attr(attributes, 'adID'),
      sequence: intAttr(attributes, 'sequence'),
      creativeApiFramework: attr(attributes, 'apiFramework'),
      universalAdIds: [],
    };
    for (const child of childrenOf(node, key)) {
      const childKey = keyOf(child);
      switch (localName(childKey)) {
        case 'UniversalAdId': {
          const universal = attributesOf(child);
          // VAST 4.0 put the value in an idValue attribute; 4.1 moved it to the text.
          const value = textOrNull(childrenOf(child, childKey)) ?? attr(universal, 'idValue');
          if (value !== null) context.universalAdIds.push({ idRegistry: attr(universal, 'idRegistry') ?? 'unknown', value });
          break;
        }
        case 'Linear':
          into.push(buildLinear(childrenOf(child, childKey), attributesOf(child), context));
          break;
        case 'NonLinearAds':
          buildNonLinearAds(childrenOf(child, childKey), context, isWrapper, into);
          break;
        case 'CompanionAds':
          buildCompanionAds(childrenOf(child, childKey), attributesOf(child), context, into);
          break;
        default:
          break;
      }
    }
  }
}

function buildLinear(children: readonly XmlNode[], attributes: XmlAttributes, context: CreativeContext): LinearCreative {
  let durationMs: number | null = null;
  let clickThrough: string | null = null;
  let adParameters: string | null = null;
  const tracking = newTracking();
  const clickTrackingUris: string[] = [];
  const customClickUris: string[] = [];
  const mediaFiles: MediaFile[] = [];
  const mezzanine: Mezzanine[] = [];
  const interactiveCreativeFiles: InteractiveCreativeFile[] = [];
  const closedCaptionFiles: ClosedCaptionFile[] = [];
  const icons: Icon[] = [];

  for (const node of children) {
    const key = keyOf(node);
    switch (localName(key)) {
      case 'Duration':
        durationMs = parseTimecode(textOrNull(childrenOf(node, key)));
        break;
      case 'TrackingEvents':
        buildTracking(childrenOf(node, key), tracking);
        break;
      case 'AdParameters':
        adParameters = textOrNull(childrenOf(node, key));
        break;
      case 'VideoClicks':
        for (const click of childrenOf(node, key)) {
          const clickKey = keyOf(click);
          switch (localName(clickKey)) {
            case 'ClickThrough':
              clickThrough = textOrNull(childrenOf(click, clickKey));
              break;
            case 'ClickTracking':
              pushText(clickTrackingUris, childrenOf(click, clickKey));
              break;
            case 'CustomClick':
              pushText(customClickUris, childrenOf(click, clickKey));
              break;
            default:
              break;
          }
        }
        break;
      case 'MediaFiles':
        buildMediaFiles(childrenOf(node, key), mediaFiles, mezzanine, interactiveCreativeFiles, closedCaptionFiles);
        break;
      case 'Icons':
        for (const icon of childrenOf(node, key)) {
          const iconKey = keyOf(icon);
          if (localName(iconKey) === 'Icon') icons.push(buildIcon(childrenOf(icon, iconKey), attributesOf(icon)));
        }
        break;
      default:
        break;
    }
  }
  const skipOffset = attr(attributes, 'skipoffset');
  return {
    type: 'linear',
    ...context,
    durationMs,
    skipOffset,
    skipOffsetMs: offsetToMs(skipOffset, durationMs),
    mediaFiles,
    clickThrough,
    clickTrackingUris,
    tracking,
    adParameters,
    mezzanine,
    interactiveCreativeFiles,
    closedCaptionFiles,
    customClickUris,
    icons,
  };
}

function buildMediaFiles(
  children: readonly XmlNode[],
  mediaFiles: MediaFile[],
  mezzanine: Mezzanine[],
  interactive: InteractiveCreativeFile[],
  captions: ClosedCaptionFile[],
): void {
  for (const node of children) {
    const key = keyOf(node);
    const name = localName(key);
    if (name === 'ClosedCaptionFiles') {
      for (const caption of childrenOf(node, key)) {
        const captionKey = keyOf(caption);
        if (localName(captionKey) !== 'ClosedCaptionFile') continue;
        const uri = textOrNull(childrenOf(caption, captionKey));
        const a = attributesOf(caption);
        if (uri !== null) captions.push({ uri, type: attr(a, 'type'), language: attr(a, 'language') });
      }
      continue;
    }
    if (name !== 'MediaFile' && name !== 'Mezzanine' && name !== 'InteractiveCreativeFile') continue;
    const uri = textOrNull(childrenOf(node, key));
    if (uri === null) continue;
    const a = attributesOf(node);
    if (name === 'MediaFile') {
      mediaFiles.push({
        uri,
        id: attr(a, 'id'),
        type: attr(a, 'type'),
        delivery: attr(a, 'delivery'),
        width: intAttr(a, 'width'),
        height: intAttr(a, 'height'),
        bitrate: intAttr(a, 'bitrate'),
        minBitrate: intAttr(a, 'minBitrate'),
        maxBitrate: intAttr(a, 'maxBitrate'),
        codec: attr(a, 'codec'),
        apiFramework: attr(a, 'apiFramework'),
        fileSize: intAttr(a, 'fileSize'),
        mediaType: attr(a, 'mediaType'),
      });
    } else if (name === 'Mezzanine') {
      mezzanine.push({
        uri,
        type: attr(a, 'type'),
        delivery: attr(a, 'delivery'),
        width: intAttr(a, 'width'),
        height: intAttr(a, 'height'),
        codec: attr(a, 'codec'),
        fileSize: intAttr(a, 'fileSize'),
        mediaType: attr(a, 'mediaType'),
      });
    } else {
      interactive.push({ uri, type: attr(a, 'type'), apiFramework: attr(a, 'apiFramework'), variableDuration: boolAttr(a, 'variableDuration') });
    }
  }
}

function buildIcon(children: readonly XmlNode[], a: XmlAttributes): Icon {
  const resources: Resource[] = [];
  let clickThrough: string | null = null;
  const clickTrackingUris: string[] = [];
  const viewTrackingUris: string[] = [];
  for (const node of children) {
    const key = keyOf(node);
    const name = localName(key);
    if (pushResource(name, node, key, resources)) continue;
    if (name === 'IconViewTracking') pushText(viewTrackingUris, childrenOf(node, key));
    else if (name === 'IconClicks') {
      for (const click of childrenOf(node, key)) {
        const clickKey = keyOf(click);
        const clickName = localName(clickKey);
        if (clickName === 'IconClickThrough') clickThrough = textOrNull(childrenOf(click, clickKey));
        else if (clickName === 'IconClickTracking') pushText(clickTrackingUris, childrenOf(click, clickKey));
      }
    }
  }
  return {
    program: attr(a, 'program'),
    width: intAttr(a, 'width'),
    height: intAttr(a, 'height'),
    xPosition: attr(a, 'xPosition'),
    yPosition: attr(a, 'yPosition'),
    durationMs: parseTimecode(attr(a, 'duration')),
    offset: attr(a, 'offset'),
    apiFramework: attr(a, 'apiFramework'),
    resources,
    clickThrough,
    clickTrackingUris,
    viewTrackingUris,
  };
}

function buildNonLinearAds(children: readonly XmlNode[], context: CreativeContext, isWrapper: boolean, into: Creative[]): void {
  // <TrackingEvents> belongs to the whole <NonLinearAds>; it may come before or after
  // the <NonLinear> elements, so every entry shares one map filled during the walk.
  const tracking = newTracking();
  let entries = 0;
  for (const node of children) {
    const key = keyOf(node);
    const name = localName(key);
    if (name === 'TrackingEvents') buildTracking(childrenOf(node, key), tracking);
    else if (name === 'NonLinear') {
      into.push(buildNonLinear(childrenOf(node, key), attributesOf(node), context, tracking));
      entries++;
    }
  }
  // A wrapper's NonLinearAds often carries tracking only, for the InLine's non-linear
  // creatives; keep it as an entry so the merge can pass it on.
  if (entries === 0 && isWrapper) into.push(buildNonLinear([], NO_ATTRIBUTES, context, tracking));
}

function buildNonLinear(children: readonly XmlNode[], a: XmlAttributes, context: CreativeContext, tracking: Record<string, TrackingUri[]>): NonLinearCreative {
  const resources: Resource[] = [];
  const clickTrackingUris: string[] = [];
  let clickThrough: string | null = null;
  let adParameters: string | null = null;
  for (const node of children) {
    const key = keyOf(node);
    const name = localName(key);
    if (pushResource(name, node, key, resources)) continue;
    if (name === 'NonLinearClickThrough') clickThrough = textOrNull(childrenOf(node, key));
    else if (name === 'NonLinearClickTracking') pushText(clickTrackingUris, childrenOf(node, key));
    else if (name === 'AdParameters') adParameters = textOrNull(childrenOf(node, key));
  }
  return {
    type: 'nonlinear',
    ...context,
    elementId: attr(a, 'id'),
    width: intAttr(a, 'width'),
    height: intAttr(a, 'height'),
    apiFramework: attr(a, 'apiFramework'),
    minSuggestedDurationMs: parseTimecode(attr(a, 'minSuggestedDuration')),
    durationMs: null,
    skipOffset: null,
    mediaFiles: [],
    clickThrough,
    clickTrackingUris,
    tracking,
    adParameters,
    resources,
  };
}

function buildCompanionAds(children: readonly XmlNode[], a: XmlAttributes, context: CreativeContext, into: Creative[]): void {
  const required = attr(a, 'required');
  for (const node of children) {
    const key = keyOf(node);
    if (localName(key) === 'Companion') into.push(buildCompanion(childrenOf(node, key), attributesOf(node), context, required));
  }
}

function buildCompanion(children: readonly XmlNode[], a: XmlAttributes, context: CreativeContext, required: string | null): CompanionCreative {
  const resources: Resource[] = [];
  const clickTrackingUris: string[] = [];
  const tracking = newTracking();
  let clickThrough: string | null = null;
  let adParameters: string | null = null;
  let altText: string | null = null;
  for (const node of children) {
    const key = keyOf(node);
    const name = localName(key);
    if (pushResource(name, node, key, resources)) continue;
    switch (name) {
      case 'CompanionClickThrough':
        clickThrough = textOrNull(childrenOf(node, key));
        break;
      case 'CompanionClickTracking':
        pushText(clickTrackingUris, childrenOf(node, key));
        break;
      case 'TrackingEvents':
        buildTracking(childrenOf(node, key), tracking);
        break;
      case 'AdParameters':
        adParameters = textOrNull(childrenOf(node, key));
        break;
      case 'AltText':
        altText = textOrNull(childrenOf(node, key));
        break;
      default:
        break;
    }
  }
  return {
    type: 'companion',
    ...context,
    elementId: attr(a, 'id'),
    width: intAttr(a, 'width'),
    height: intAttr(a, 'height'),
    apiFramework: attr(a, 'apiFramework'),
    // VAST 3 spelled it adSlotID.
    adSlotId: attr(a, 'adSlotId') ?? attr(a, 'adSlotID'),
    required,
    altText,
    durationMs: null,
    skipOffset: null,
    mediaFiles: [],
    clickThrough,
    clickTrackingUris,
    tracking,
    adParameters,
    resources,
  };
}

/** Adds a StaticResource, IFrameResource or HTMLResource; false when `name` is none of them. */
function pushResource(name: string, node: XmlNode, key: string, into: Resource[]): boolean {
  let kind: Resource['kind'];
  if (name === 'StaticResource') kind = 'static';
  else if (name === 'IFrameResource') kind = 'iframe';
  else if (name === 'HTMLResource') kind = 'html';
  else return false;
  const value = textOrNull(childrenOf(node, key));
  if (value !== null) into.push({ kind, value, creativeType: kind === 'static' ? attr(attributesOf(node), 'creativeType') : null });
  return true;
}

/** A map keyed by event name (filled through listAt, so any name is safe). */
function newTracking(): Record<string, TrackingUri[]> {
  return {};
}

function buildTracking(children: readonly XmlNode[], into: Record<string, TrackingUri[]>): void {
  for (const node of children) {
    const key = keyOf(node);
    if (localName(key) !== 'Tracking') continue;
    const a = attributesOf(node);
    const event = attr(a, 'event');
    const uri = textOrNull(childrenOf(node, key));
    if (event === null || uri === null) continue;
    const offset = attr(a, 'offset');
    listAt(into, event).push(offset === null ? { uri } : { uri, offset });
  }
}

/** Appends an element's text when it is not empty (`<Impression></Impression>` is common). */
function pushText(into: string[], children: readonly XmlNode[]): void {
  const text = textOf(children);
  if (text !== '') into.push(text);
}

function legacyTagUrl(children: readonly XmlNode[]): string | null {
  for (const node of children) {
    const key = keyOf(node);
    if (localName(key) === 'URL') return textOrNull(childrenOf(node, key));
  }
  return null;
}

/** The raw inner XML of a stop node (an Extension), exactly as served. */
function rawText(children: readonly XmlNode[]): string {
  const first = children[0];
  const text = first === undefined ? undefined : first[TEXT_KEY];
  return typeof text === 'string' ? text : '';
}
