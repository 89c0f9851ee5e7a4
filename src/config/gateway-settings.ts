import type { Static } from '@sinclair/typebox';
import { WardenError, type PrincipalSchema } from '../domain/index.js';
import { parseAllowedHosts, parseAuditCapture, parseCheckAllowHosts } from './config.js';
import { parseWindow, rateLimitsOf, sessionLimitsOf, upstreamsOf } from './gateway-file.js';
import { GATEWAY_SETTINGS, resolveSettings, type SettingSource } from './settings.js';
import { resolveStoreConfig, type StoreConfig } from './store-config.js';
import { telemetrySettingsOf, type TelemetrySettings } from './telemetry-settings.js';
import type { WardenSpec } from './warden-file.js';

/** Everything `warden gateway` runs with, resolved from flags over environment over the file over defaults. */
export interface GatewayConfig {
  /** Serve one agent over stdio; true unless only `http` is given. */
  stdio: boolean;
  http?: number;
  /** @default 127.0.0.1 */
  host: string;
  /** @default warn */
  logLevel: string;
  scope?: string;
  /** @default default */
  tenant: string;
  /** The stdio session's agent. @default stdio-agent */
  agent: string;
  principal?: Static<typeof PrincipalSchema>;
  /** The registry name of the server wrapped after `--`. */
  server?: string;
  policies: readonly string[];
  store: StoreConfig;
  redis?: string;
  redisTimeoutMs?: number;
  sessionLimits: { maxSessions?: number; maxSessionsPerAgent?: number; idleTimeoutMs?: number };
  /** @default 500 */
  registryCacheMs: number;
  allowOrigins?: readonly string[];
  publicHosts?: readonly string[];
  trustAgentHeader: boolean;
  approvalWebhooksFile?: string;
  publicUrl?: string;
  approvalWaitMs?: number;
  /** As given; the gateway checks it and applies its default. */
  auditMode?: string;
  auditCapture: { args: boolean; results: boolean };
  allowedHosts: readonly string[];
  /** @default inherit */
  upstreamEnv: string;
  abuseRules: readonly string[];
  abuseDefaultPack: boolean;
  checkSecret?: string;
  checkAllowHosts: readonly string[];
  /** The file's upstream servers, agents and rate limits. */
  servers: ReturnType<typeof upstreamsOf>;
  agents: NonNullable<NonNullable<WardenSpec['gateway']>['agents']>;
  rateLimits: ReturnType<typeof rateLimitsOf>;
  /** Metrics port and token, OTLP export (docs/observability.md). */
  telemetry: TelemetrySettings;
}

function positiveInt(option: string, n: number): number {
  if (n < 1) throw new WardenError('config.invalid', `${option} takes a whole number of at least 1, not \`${n}\``);
  return n;
}

/** Resolves the gateway's configuration (one resolver: {@link resolveSettings}); throws `config.invalid`. */
export function resolveGatewayConfig(flags: Readonly<Record<string, unknown>>, env: Readonly<Record<string, string | undefined>>, file?: WardenSpec): { config: GatewayConfig; sources: Record<keyof typeof GATEWAY_SETTINGS, SettingSource> } {
  const { values: v, sources } = resolveSettings(GATEWAY_SETTINGS, { flags, env, file });
  const text = (x: unknown) => (typeof x === 'string' && x !== '' ? x : undefined);
  const list = (x: unknown) => (x === undefined ? undefined : (x as string[]));
  const gw = file?.gateway ?? {};
  const principalId = text(v.principal);
  const roles = list(v.roles);
  const redisTimeout = text(v.redisTimeout);
  const approvalWait = text(v.approvalWait);
  const idle = text(v.sessionIdleTimeout);
  const publicUrl = text(v.publicUrl);
  const config: GatewayConfig = {
    // stdio unless asked for HTTP alone (as the flags always did)
    stdio: (v.stdio as boolean | undefined) ?? v.http === undefined,
    ...(v.http !== undefined ? { http: v.http as number } : {}),
    host: text(v.host) ?? '127.0.0.1',
    logLevel: text(v.logLevel) ?? 'warn',
    ...(text(v.scope) ? { scope: text(v.scope) } : {}),
    tenant: gw.tenant ?? 'default',
    agent: text(v.agent) ?? 'stdio-agent',
    ...(principalId ? { principal: { id: principalId, ...(roles ? { roles } : {}) } } : {}),
    ...(text(v.server) ? { server: text(v.server) } : {}),
    policies: list(v.policies) ?? [],
    store: resolveStoreConfig(flags, env, file),
    ...(text(v.redis) ? { redis: text(v.redis) } : {}),
    ...(redisTimeout ? { redisTimeoutMs: parseWindow(redisTimeout) } : {}),
    sessionLimits: {
      ...sessionLimitsOf(gw),
      ...(v.maxSessionsPerAgent !== undefined ? { maxSessionsPerAgent: positiveInt('--max-sessions-per-agent', v.maxSessionsPerAgent as number) } : {}),
      ...(idle ? { idleTimeoutMs: parseWindow(idle) } : {}),
    },
    registryCacheMs: (v.registryCacheMs as number | undefined) ?? 500,
    ...(list(v.allowOrigin) ? { allowOrigins: list(v.allowOrigin) } : {}),
    ...(list(v.publicHost) ? { publicHosts: list(v.publicHost) } : {}),
    trustAgentHeader: (v.trustAgentHeader as boolean | undefined) ?? false,
    ...(text(v.approvalWebhooks) ? { approvalWebhooksFile: text(v.approvalWebhooks) } : {}),
    ...(publicUrl ? { publicUrl: publicUrl.replace(/\/+$/, '') } : {}),
    ...(approvalWait ? { approvalWaitMs: parseWindow(approvalWait) } : {}),
    ...(text(v.auditMode) ? { auditMode: text(v.auditMode) } : {}),
    auditCapture: parseAuditCapture(list(v.auditCapture)?.join(',')),
    allowedHosts: parseAllowedHosts(list(v.allowHost)),
    upstreamEnv: text(v.upstreamEnv) ?? 'inherit',
    abuseRules: list(v.abuseRules) ?? [],
    abuseDefaultPack: (v.abuseDefaultPack as boolean | undefined) ?? true,
    ...(text(v.checkSecret) ? { checkSecret: text(v.checkSecret) } : {}),
    checkAllowHosts: parseCheckAllowHosts(list(v.checkAllowHosts)?.join(',')),
    servers: upstreamsOf(gw),
    agents: gw.agents ?? [],
    rateLimits: rateLimitsOf(gw),
    // Resolved above (flag > env > file); telemetrySettingsOf reads the OTEL_* variables and WARDEN_METRICS_TOKEN.
    telemetry: telemetrySettingsOf({ metricsPort: v.metricsPort === undefined ? undefined : String(v.metricsPort), metricsHost: text(v.metricsHost) }, env),
  };
  return { config: Object.freeze(config), sources };
}
