/** Quartile's configuration: spec, loader and redaction. */
export { CONFIG_SPEC, type QuartileConfig } from './spec.ts';
export { loadConfig, redactedConfig, fieldEntries, envVarFor, type ConfigSources, type FieldEntry } from './load.ts';
