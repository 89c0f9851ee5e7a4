import { WardenError } from '../domain/index.js';
import { parseSwitch } from './http-settings.js';
import type { WardenSpec } from './warden-file.js';

/** Where a setting's value came from, strongest first. */
export type SettingSource = 'flag' | 'env' | 'file' | 'default';

/** How a flag's or variable's text becomes a value (a file's value is typed by its schema already). */
type SettingKind = 'text' | 'int' | 'list' | 'switch';

/** One setting: its flag, its environment variable and its place in warden.yaml. */
export interface Setting {
  /** The command-line option, e.g. `--data-dir`; none for a setting read from the environment only. */
  readonly option?: string;
  readonly env?: string;
  /** Its path under `spec` in warden.yaml; none for a setting kept out of files. */
  readonly file?: readonly string[];
  readonly kind: SettingKind;
  /** Masked when printed (`warden config check`). */
  readonly secret?: boolean;
}

/** What a command was given: the flags typed on its command line (not commander's defaults), the environment, and the file. */
export interface SettingInputs {
  readonly flags: Readonly<Record<string, unknown>>;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly file?: WardenSpec | undefined;
}

const shared = {
  policies: { option: '--policies', env: 'WARDEN_POLICIES', file: ['policies'], kind: 'list' },
  dataDir: { option: '--data-dir', env: 'WARDEN_DATA_DIR', file: ['dataDir'], kind: 'text' },
  databaseUrl: { option: '--database-url', env: 'WARDEN_DATABASE_URL', file: ['databaseUrl'], kind: 'text', secret: true },
  auditKey: { option: '--audit-key', env: 'WARDEN_AUDIT_KEY', file: ['auditKey'], kind: 'text' },
  redis: { option: '--redis', env: 'WARDEN_REDIS_URL', file: ['redis'], kind: 'text', secret: true },
  auditCapture: { option: '--audit-capture', env: 'WARDEN_AUDIT_CAPTURE', file: ['auditCapture'], kind: 'list' },
  allowHost: { option: '--allow-host', env: 'WARDEN_ALLOW_HOSTS', file: ['allowHosts'], kind: 'list' },
  abuseRules: { option: '--abuse-rules', env: 'WARDEN_ABUSE_RULES', file: ['abuseRules'], kind: 'list' },
  abuseDefaultPack: { option: '--no-abuse-default-pack', env: 'WARDEN_ABUSE_DEFAULT_PACK', file: ['abuseDefaultPack'], kind: 'switch' },
  approvalWebhooks: { option: '--approval-webhooks', env: 'WARDEN_APPROVAL_WEBHOOKS', file: ['approvalWebhooks'], kind: 'text' },
  publicUrl: { option: '--public-url', env: 'WARDEN_PUBLIC_URL', file: ['publicUrl'], kind: 'text' },
  checkAllowHosts: { env: 'WARDEN_CHECK_ALLOW_HOSTS', file: ['checkAllowHosts'], kind: 'list' },
  // A secret on the command line would show in `ps`, and in a file it would be copied around: the environment only.
  checkSecret: { env: 'WARDEN_CHECK_SECRET', kind: 'text', secret: true },
} as const satisfies Record<string, Setting>;

/** Every setting of `warden serve`, keyed by its flag's name as commander gives it. */
export const SERVE_SETTINGS = {
  ...shared,
  port: { option: '--port', env: 'WARDEN_PORT', file: ['serve', 'port'], kind: 'int' },
  host: { option: '--host', env: 'WARDEN_HOST', file: ['serve', 'host'], kind: 'text' },
  logLevel: { option: '--log-level', env: 'WARDEN_LOG_LEVEL', file: ['serve', 'logLevel'], kind: 'text' },
  registry: { option: '--registry', env: 'WARDEN_REGISTRY', file: ['serve', 'registry'], kind: 'text' },
  watch: { option: '--no-watch', file: ['serve', 'watch'], kind: 'switch' },
  checkpointInterval: { option: '--checkpoint-interval', env: 'WARDEN_CHECKPOINT_INTERVAL', file: ['serve', 'checkpointInterval'], kind: 'int' },
  destinations: { option: '--destinations', env: 'WARDEN_AUDIT_DESTINATIONS', file: ['serve', 'destinations'], kind: 'text' },
  bootstrapTokenFile: { option: '--bootstrap-token-file', env: 'WARDEN_BOOTSTRAP_TOKEN_FILE', file: ['serve', 'bootstrapTokenFile'], kind: 'text' },
  oidc: { option: '--oidc', env: 'WARDEN_OIDC', file: ['serve', 'oidc'], kind: 'text' },
  tlsCert: { option: '--tls-cert', env: 'WARDEN_TLS_CERT', file: ['serve', 'tlsCert'], kind: 'text' },
  tlsKey: { option: '--tls-key', env: 'WARDEN_TLS_KEY', file: ['serve', 'tlsKey'], kind: 'text' },
  publicHost: { option: '--public-host', env: 'WARDEN_PUBLIC_HOSTS', file: ['serve', 'publicHosts'], kind: 'list' },
  corsOrigin: { option: '--cors-origin', env: 'WARDEN_CORS_ORIGINS', file: ['serve', 'corsOrigins'], kind: 'list' },
  behindProxy: { option: '--behind-proxy', env: 'WARDEN_BEHIND_PROXY', file: ['serve', 'behindProxy'], kind: 'switch' },
  metricsPort: { option: '--metrics-port', env: 'WARDEN_METRICS_PORT', file: ['serve', 'metricsPort'], kind: 'int' },
  metricsHost: { option: '--metrics-host', env: 'WARDEN_METRICS_HOST', file: ['serve', 'metricsHost'], kind: 'text' },
  demo: { option: '--demo', file: ['serve', 'demo'], kind: 'switch' },
} as const satisfies Record<string, Setting>;

/** Every setting of `warden gateway`, keyed by its flag's name as commander gives it. */
export const GATEWAY_SETTINGS = {
  ...shared,
  stdio: { option: '--stdio', file: ['gateway', 'stdio'], kind: 'switch' },
  http: { option: '--http', file: ['gateway', 'http'], kind: 'int' },
  host: { option: '--host', file: ['gateway', 'host'], kind: 'text' },
  logLevel: { option: '--log-level', file: ['gateway', 'logLevel'], kind: 'text' },
  scope: { option: '--scope', file: ['gateway', 'scope'], kind: 'text' },
  agent: { option: '--agent', env: 'WARDEN_AGENT_ID', file: ['gateway', 'agent'], kind: 'text' },
  principal: { option: '--principal', file: ['gateway', 'principal'], kind: 'text' },
  roles: { option: '--roles', file: ['gateway', 'roles'], kind: 'list' },
  server: { option: '--server', file: ['gateway', 'server'], kind: 'text' },
  redisTimeout: { option: '--redis-timeout', file: ['gateway', 'redisTimeout'], kind: 'text' },
  maxSessionsPerAgent: { option: '--max-sessions-per-agent', file: ['gateway', 'sessions', 'maxPerAgent'], kind: 'int' },
  sessionIdleTimeout: { option: '--session-idle-timeout', file: ['gateway', 'sessions', 'idleTimeout'], kind: 'text' },
  registryCacheMs: { option: '--registry-cache-ms', file: ['gateway', 'registryCacheMs'], kind: 'int' },
  allowOrigin: { option: '--allow-origin', file: ['gateway', 'allowOrigins'], kind: 'list' },
  publicHost: { option: '--public-host', file: ['gateway', 'publicHosts'], kind: 'list' },
  trustAgentHeader: { option: '--trust-agent-header', file: ['gateway', 'trustAgentHeader'], kind: 'switch' },
  approvalWait: { option: '--approval-wait', file: ['gateway', 'approvals', 'wait'], kind: 'text' },
  auditMode: { option: '--audit-mode', file: ['gateway', 'audit', 'mode'], kind: 'text' },
  upstreamEnv: { option: '--upstream-env', file: ['gateway', 'upstreamEnv'], kind: 'text' },
  metricsPort: { option: '--metrics-port', env: 'WARDEN_METRICS_PORT', file: ['gateway', 'metricsPort'], kind: 'int' },
  metricsHost: { option: '--metrics-host', env: 'WARDEN_METRICS_HOST', file: ['gateway', 'metricsHost'], kind: 'text' },
} as const satisfies Record<string, Setting>;

function wholeNumber(where: string, v: unknown): number {
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  if (typeof v === 'string' && /^\d+$/.test(v)) return Number(v);
  throw new WardenError('config.invalid', `${where} \`${String(v)}\` is not a whole number`, { help: 'see docs/configuration.md' });
}

function fromText(s: Setting, where: string, v: unknown): unknown {
  switch (s.kind) {
    case 'int':
      return wholeNumber(where, v);
    case 'list':
      return Array.isArray(v) ? v : String(v).split(',').map((x) => x.trim()).filter((x) => x !== '');
    case 'switch':
      return typeof v === 'boolean' ? v : parseSwitch(where, String(v));
    case 'text':
      return v;
  }
}

function fileValue(file: WardenSpec | undefined, path: readonly string[] | undefined): unknown {
  let v: unknown = file;
  for (const k of path ?? ['\u0000']) v = v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined;
  return v;
}

/**
 * The one resolver: a setting's value from its flag, else its environment variable, else the
 * configuration file, else undefined (the caller's default). Text from a flag or variable is read as
 * the setting's kind; an empty variable counts as unset. Throws `config.invalid` on a bad number or switch.
 */
export function resolveSetting(name: string, s: Setting, inputs: SettingInputs): { value: unknown; source: Exclude<SettingSource, 'default'> } | undefined {
  const flag = inputs.flags[name];
  if (s.option !== undefined && flag !== undefined) return { value: fromText(s, s.option, flag), source: 'flag' };
  const env = s.env === undefined ? undefined : inputs.env[s.env];
  if (s.env !== undefined && env !== undefined && env.trim() !== '') return { value: fromText(s, s.env, env), source: 'env' };
  const file = fileValue(inputs.file, s.file);
  if (file !== undefined) return { value: file, source: 'file' };
  return undefined;
}

/** The resolved values of a table of settings, and where each came from (`default` when nothing gave it). */
export function resolveSettings<T extends Record<string, Setting>>(table: T, inputs: SettingInputs): { values: { [K in keyof T]?: unknown }; sources: { [K in keyof T]: SettingSource } } {
  const values: Record<string, unknown> = {};
  const sources: Record<string, SettingSource> = {};
  for (const [name, s] of Object.entries(table)) {
    const r = resolveSetting(name, s, inputs);
    if (r) values[name] = r.value;
    sources[name] = r?.source ?? 'default';
  }
  return { values: values as { [K in keyof T]?: unknown }, sources: sources as { [K in keyof T]: SettingSource } };
}
