export { ConfigSchema, ENV_VARS, loadConfig, parseAllowedHosts, parseAuditCapture } from './config.js';
export type { ConfigFlags, WardenConfig } from './config.js';
export { readPolicyFiles } from './policy-files.js';
export type { PolicyFiles } from './policy-files.js';
export { openPolicies, PolicyLoadError } from './policy-watcher.js';
export type { PolicyStatus, PolicyWatcher, WatchLogger } from './policy-watcher.js';
