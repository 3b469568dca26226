/** Frequency caps: the rules, the state layout, counting (pipeline) and checking (decisions). */
export { CAP_SCOPES, checkCapRules, parseCapRules, type CapRule, type CapRuleConfig, type CapScope, type CapWindow } from './cap-rules.ts';
export { counterFor, ledgerKey, readKeys, scopeValue, LIVE_EVENT_COUNTER_TTL_MS, type CapSubject, type CounterSlot } from './cap-keys.ts';
export { countImpression, type CapImpression } from './count-impression.ts';
export { CapCheck, readCapCounts } from './cap-check.ts';
export { loadCapKey, profileKeyOf } from './profile-key.ts';
