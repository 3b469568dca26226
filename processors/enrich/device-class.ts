/**
 * Device class, OS and bot flag from a user agent, cached by UA string: a fleet of
 * devices sends a few thousand distinct user agents, each millions of times.
 * ua-parser-js 1.x is used (MIT; 2.x is AGPL).
 */
import { UAParser } from 'ua-parser-js';
import { isbot } from 'isbot';
import { readFileSync } from 'node:fs';
import { LruCache } from '../../src/core/lru-cache.ts';

/** What enrich learns from a user agent. */
export interface UserAgentFacts {
  readonly deviceClass: 'ctv' | 'mobile' | 'tablet' | 'desktop' | 'console' | 'unknown';
  readonly osName: string;
  readonly bot: boolean;
}

const DESKTOP_OS = new Set(['Windows', 'Mac OS', 'macOS', 'Linux', 'Ubuntu', 'Chromium OS', 'Debian', 'Fedora']);
// Streaming devices ua-parser-js does not always type as smart TVs.
const CTV_HINTS = /roku|appletv|apple tv|tvos|aft[a-z]|firetv|fire tv|chromecast|crkey|smarttv|smart-tv|tizen|webos|hbbtv|vizio|androidtv|android tv|bravia|playstation vue/i;

/** Classifies user agents; `botPatterns` (an IAB/ABC list) replaces isbot when given. */
export class UserAgentClassifier {
  readonly #cache = new LruCache<string, UserAgentFacts>({ maxEntries: 20_000, ttlMs: 0 });
  readonly #botPatterns: RegExp | undefined;

  constructor(botListFile = '') {
    if (botListFile !== '') {
      const patterns = readFileSync(botListFile, 'utf8')
        .split('\n')
        .map((line) => line.split('|')[0]!.trim())
        .filter((line) => line !== '' && !line.startsWith('#'))
        .map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
      this.#botPatterns = patterns.length === 0 ? undefined : new RegExp(patterns.join('|'), 'i');
    }
  }

  classify(userAgent: string | null): UserAgentFacts {
    if (userAgent === null || userAgent === '') return { deviceClass: 'unknown', osName: '', bot: false };
    const cached = this.#cache.get(userAgent);
    if (cached !== undefined) return cached;
    const result = new UAParser(userAgent).getResult();
    const type = result.device.type;
    const osName = result.os.name ?? '';
    let deviceClass: UserAgentFacts['deviceClass'] = 'unknown';
    if (type === 'smarttv' || CTV_HINTS.test(userAgent)) deviceClass = 'ctv';
    else if (type === 'console') deviceClass = 'console';
    else if (type === 'tablet') deviceClass = 'tablet';
    else if (type === 'mobile' || type === 'wearable') deviceClass = 'mobile';
    else if (type === undefined && DESKTOP_OS.has(osName)) deviceClass = 'desktop';
    const bot = this.#botPatterns === undefined ? isbot(userAgent) : this.#botPatterns.test(userAgent);
    const facts: UserAgentFacts = { deviceClass, osName, bot };
    this.#cache.set(userAgent, facts);
    return facts;
  }
}
