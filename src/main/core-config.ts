import type { WardenConfig } from '../config/index.js';
import type { CoreConfig } from './core.js';

/** The core's part of `warden serve`'s configuration. */
export function coreConfigOf(config: Readonly<WardenConfig>): CoreConfig {
  return {
    database: config.databaseUrl ? { url: config.databaseUrl } : { dataDir: config.dataDir },
    policies: config.policies,
    watchPolicies: config.watchPolicies,
    registryFile: config.registryFile,
    auditKeyFile: config.auditKeyFile,
    checkpointIntervalSec: config.checkpointIntervalSec,
    destinationsFile: config.destinationsFile,
    approvalWebhooksFile: config.approvalWebhooksFile,
    publicUrl: config.publicUrl ?? `http://127.0.0.1:${config.port}`,
    auditCapture: config.auditCapture,
    allowedHosts: config.allowedHosts,
    checkSecret: config.checkSecret,
    checkAllowHosts: config.checkAllowHosts,
    ...(config.sessionRedisUrl ? { sessionRedisUrl: config.sessionRedisUrl, velocityRedisUrl: config.sessionRedisUrl } : {}),
    abuseRules: config.abuseRules,
    abuseDefaultPack: config.abuseDefaultPack,
    ...(config.telemetry.otlpEndpoint ? { otlpEndpoint: config.telemetry.otlpEndpoint } : {}),
    ...(config.telemetry.otlpHeaders ? { otlpHeaders: config.telemetry.otlpHeaders } : {}),
  };
}
