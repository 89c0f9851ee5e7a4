import { Type, type Static } from '@sinclair/typebox';
import { WardenError, canonicalHostName, compileValidator, formatIssues } from '../domain/index.js';
import { parseCorsOrigins, parsePublicHosts } from './http-settings.js';
import { resolveSettings, SERVE_SETTINGS, type SettingSource } from './settings.js';
import { resolveStoreConfig } from './store-config.js';
import { telemetrySettingsOf } from './telemetry-settings.js';
import type { WardenSpec } from './warden-file.js';

/** Warden's runtime configuration: validated once at start, then frozen. */
export const ConfigSchema = Type.Object(
  {
    /** TCP port the API listens on. @default 8080 */
    port: Type.Integer({ minimum: 0, maximum: 65535 }),
    /** Interface to bind. @default 127.0.0.1 */
    host: Type.String({ minLength: 1 }),
    /** PGlite data directory, used when no database URL is set. @default .warden/data */
    dataDir: Type.String({ minLength: 1 }),
    /** PostgreSQL URL; when set, PGlite is not used. */
    databaseUrl: Type.Optional(Type.String({ pattern: '^postgres(ql)?://' , description: 'a `postgres://` URL' })),
    /** Policy files or directories (searched recursively for *.yaml). */
    // None: the tenants' managed policies alone (and the default deny) decide.
    policies: Type.Array(Type.String({ minLength: 1 })),
    /** A `kind: Registry` YAML file imported into the database registry at start (entries it lacks are added; the database wins). */
    registryFile: Type.Optional(Type.String({ minLength: 1 })),
    /** pino log level. @default info */
    logLevel: Type.Union(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l))),
    /** Reload policies when their files change. @default true */
    watchPolicies: Type.Boolean(),
    /** Ed25519 private key (PEM) that signs audit checkpoints; created on first start when absent. @default `<dataDir>.audit-key.pem` */
    auditKeyFile: Type.String({ minLength: 1 }),
    /** A YAML file of `kind: AuditDestination` documents (webhooks, NATS JetStream). */
    destinationsFile: Type.Optional(Type.String({ minLength: 1 })),
    /** A YAML file of `kind: ApprovalWebhook` documents: new approval requests are announced there (docs/approval-notifications.md). */
    approvalWebhooksFile: Type.Optional(Type.String({ minLength: 1 })),
    /** Redis that keeps agent sessions' history for `session.history`, shared by replicas. @default in this process's memory */
    sessionRedisUrl: Type.Optional(Type.String({ pattern: '^rediss?://', description: 'a redis:// or rediss:// URL' })),
    /** Files or directories of `kind: AbuseRule` and `kind: AbuseQueue` documents (docs/abuse.md). @default none */
    abuseRules: Type.Array(Type.String({ minLength: 1 })),
    /** Run the default abuse rule pack (every rule in shadow mode). @default true */
    abuseDefaultPack: Type.Boolean(),
    /** The URL people reach the API by, for the links in approval notifications. @default `http://127.0.0.1:<port>` */
    publicUrl: Type.Optional(Type.String({ pattern: '^https?://[^/?#@]+(/[^?#]*)?$', description: 'an http(s) URL without credentials, query or fragment' })),
    /** Seconds between signed audit checkpoints (0 turns the timer off). @default 60 */
    checkpointIntervalSec: Type.Integer({ minimum: 0 }),
    /** Call bodies the audit log keeps besides their digests, masked for secrets and PII. @default none */
    auditCapture: Type.Object({ args: Type.Boolean(), results: Type.Boolean() }, { additionalProperties: false }),
    /** Hosts (and their subdomains) that images, links and uploads may reach without an exfiltration finding. @default none */
    allowedHosts: Type.Array(Type.String({ minLength: 1 })),
    /** Where the first start writes the bootstrap owner token (mode 0600). @default `<dataDir>.bootstrap-token` */
    bootstrapTokenFile: Type.String({ minLength: 1 }),
    /** A `kind: OidcProvider` file: people sign in with JWTs from that issuer. */
    oidcFile: Type.Optional(Type.String({ minLength: 1 })),
    /** TLS certificate (PEM, the chain after the leaf); with `tlsKeyFile`, the API serves HTTPS. */
    tlsCertFile: Type.Optional(Type.String({ minLength: 1 })),
    /** TLS private key (PEM, unencrypted) of `tlsCertFile`. */
    tlsKeyFile: Type.Optional(Type.String({ minLength: 1 })),
    /** Names clients reach the API by, besides the bind address (and loopback names on loopback); `*` turns the Host check off. @default none */
    publicHosts: Type.Array(Type.String({ minLength: 1 })),
    /** Origins a browser may call the API from. @default none (CORS closed) */
    corsOrigins: Type.Array(Type.String({ minLength: 1 })),
    /** A reverse proxy terminates TLS in front: trust its `X-Forwarded-*` headers. @default false */
    behindProxy: Type.Boolean(),
    /** The HMAC-SHA256 key status check requests are signed with (`X-Warden-Signature`); without it they go out unsigned and a warning is logged once. Environment only. */
    checkSecret: Type.Optional(Type.String({ minLength: 1 })),
    /** Hosts status checks may reach although they are loopback, private or link-local (exact names or IP literals, no subdomains). @default none */
    checkAllowHosts: Type.Array(Type.String({ minLength: 1 })),
    /** Metrics and tracing (docs/observability.md): the metrics port and token, the OTLP endpoint. */
    telemetry: Type.Object(
      {
        metricsPort: Type.Optional(Type.Integer({ minimum: 0, maximum: 65535 })),
        metricsHost: Type.Optional(Type.String({ minLength: 1 })),
        metricsToken: Type.Optional(Type.String({ minLength: 16 })),
        otlpEndpoint: Type.Optional(Type.String({ pattern: '^https?://' })),
        otlpHeaders: Type.Optional(Type.Record(Type.String(), Type.String())),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);
export type WardenConfig = Static<typeof ConfigSchema>;

/** The environment variables `warden serve` reads, with the flag each one mirrors (from {@link SERVE_SETTINGS}). */
export const ENV_VARS: Readonly<Record<string, string>> = Object.freeze(
  Object.fromEntries(Object.values(SERVE_SETTINGS as Record<string, { option?: string; env?: string }>).flatMap((s) => (s.env ? [[s.env, s.option ?? '(environment only)']] : []))),
);

/** Flags as the CLI parsed them; each wins over its environment variable. */
export interface ConfigFlags {
  port?: string | number;
  host?: string;
  dataDir?: string;
  databaseUrl?: string;
  policies?: string | string[];
  registry?: string;
  logLevel?: string;
  watch?: boolean;
  auditKey?: string;
  checkpointInterval?: string | number;
  destinations?: string;
  approvalWebhooks?: string;
  publicUrl?: string;
  redis?: string;
  abuseRules?: string[];
  abuseDefaultPack?: boolean;
  auditCapture?: string;
  allowHost?: string[];
  bootstrapTokenFile?: string;
  oidc?: string;
  tlsCert?: string;
  tlsKey?: string;
  publicHost?: string[];
  corsOrigin?: string[];
  behindProxy?: boolean;
  demo?: boolean;
  metricsPort?: string;
  metricsHost?: string;
}

const CAPTURABLE = ['args', 'results'] as const;

/** Parses `args,results` (or `none`) into which call bodies the audit log keeps; throws `config.invalid`. */
export function parseAuditCapture(value: string | undefined): { args: boolean; results: boolean } {
  const parts = (value ?? '').split(',').map((p) => p.trim()).filter((p) => p !== '' && p !== 'none');
  const unknown = parts.filter((p) => !(CAPTURABLE as readonly string[]).includes(p));
  if (unknown.length > 0) {
    throw new WardenError('config.invalid', `audit capture \`${unknown.join(',')}\` is not one of: ${CAPTURABLE.join(', ')}, none`, { help: 'e.g. --audit-capture args,results' });
  }
  return { args: parts.includes('args'), results: parts.includes('results') };
}

// A DNS name or an IPv4 address: no scheme, port, path or wildcard (subdomains are allowed implicitly).
const HOST = /^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
const IPV4 = /^(?:(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])\.){3}(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])$/;

// An allowed host also allows its subdomains, so a public suffix would allow everyone's sites. The full
// Public Suffix List is not available offline; this refuses every single-label name (`com`) and the
// shared-hosting and country suffixes most often given by mistake, where anyone can publish.
const PUBLIC_SUFFIXES = new Set([
  'co.uk', 'org.uk', 'ac.uk', 'gov.uk', 'com.au', 'net.au', 'org.au', 'co.nz', 'co.jp', 'ne.jp', 'or.jp', 'co.kr', 'co.in', 'com.br', 'com.cn', 'com.mx', 'com.tr', 'co.za',
  'github.io', 'gitlab.io', 'herokuapp.com', 'vercel.app', 'netlify.app', 'pages.dev', 'workers.dev', 'web.app', 'firebaseapp.com', 'appspot.com',
  'azurewebsites.net', 'cloudapp.net', 'blob.core.windows.net', 'cloudfront.net', 's3.amazonaws.com', 'amazonaws.com', 'blogspot.com', 'glitch.me', 'repl.co', 'ngrok.io', 'ngrok-free.app', 'trycloudflare.com',
]);

// Why `host` may not be on the allow-list, or undefined when it may.
function badHost(host: string): string | undefined {
  if (!HOST.test(host)) return 'is not a host name';
  if (IPV4.test(host) || host === 'localhost') return undefined;
  const labels = host.split('.');
  if (/^[0-9]+$/.test(labels.at(-1)!)) return 'is neither a DNS name nor a valid IPv4 address';
  if (labels.length < 2) return 'is a top-level domain; it would allow every site under it';
  if (PUBLIC_SUFFIXES.has(host)) return 'is a public suffix (shared hosting); it would allow every site under it';
  return undefined;
}

/** Parses the exfiltration allow-list (`--allow-host`, or comma-separated WARDEN_ALLOW_HOSTS); throws `config.invalid`. */
export function parseAllowedHosts(values: readonly string[] | string | undefined): string[] {
  const list = (typeof values === 'string' ? [values] : (values ?? [])).flatMap((v) => v.split(',')).map((h) => h.trim().toLowerCase()).filter((h) => h !== '');
  for (const h of list) {
    const why = badHost(h);
    if (why !== undefined) {
      throw new WardenError('config.invalid', `allowed host \`${h}\` ${why}`, { help: 'give bare hosts such as `docs.example.com` (subdomains are included), or `localhost` or an IPv4 address; no scheme, port, path, top-level domain or public suffix' });
    }
  }
  return [...new Set(list)];
}

/**
 * Parses the status check allow-list (WARDEN_CHECK_ALLOW_HOSTS, comma-separated): host names or IP
 * literals, each exactly (no subdomains: a private address is reachable only where it is named).
 * Throws `config.invalid`.
 */
export function parseCheckAllowHosts(value: string | undefined): string[] {
  const list = (value ?? '').split(',').map((h) => h.trim()).filter((h) => h !== '');
  return [
    ...new Set(
      list.map((h) => {
        const host = canonicalHostName(h);
        if (host === undefined) throw new WardenError('config.invalid', `status check host \`${h}\` is not a host name or IP address`, { help: 'give bare hosts such as `checks.internal` or `10.0.0.5`; no scheme, port or path' });
        return host;
      }),
    ),
  ];
}

const check = compileValidator(ConfigSchema);

/** The serve configuration and where each of its settings came from. */
export interface ResolvedServeConfig {
  config: Readonly<WardenConfig>;
  sources: Readonly<Record<keyof typeof SERVE_SETTINGS, SettingSource>>;
}

/**
 * Builds the frozen serve config: each setting from its flag, else its environment variable, else
 * the configuration file, else its default (one resolver: {@link resolveSetting}). Throws `config.invalid`.
 */
export function resolveServeConfig(flags: ConfigFlags, env: Readonly<Record<string, string | undefined>>, file?: WardenSpec): ResolvedServeConfig {
  const { values: v, sources } = resolveSettings(SERVE_SETTINGS, { flags: flags as Record<string, unknown>, env, file });
  const text = (x: unknown) => (typeof x === 'string' && x !== '' ? x : undefined);
  const list = (x: unknown) => (x === undefined ? undefined : (x as string[]));
  const store = resolveStoreConfig(flags, env, file);
  const cert = text(v.tlsCert);
  const key = text(v.tlsKey);
  if (!cert !== !key) {
    throw new WardenError('config.invalid', `${cert ? '--tls-cert' : '--tls-key'} is given without ${cert ? '--tls-key' : '--tls-cert'}`, {
      help: 'pass both --tls-cert FILE and --tls-key FILE (env WARDEN_TLS_CERT, WARDEN_TLS_KEY; tlsCert and tlsKey in warden.yaml), or neither to serve plain HTTP',
    });
  }
  const publicUrl = text(v.publicUrl);
  const raw = {
    port: (v.port as number | undefined) ?? 8080,
    host: text(v.host) ?? '127.0.0.1',
    dataDir: store.dataDir,
    ...(store.databaseUrl ? { databaseUrl: store.databaseUrl } : {}),
    policies: list(v.policies) ?? [],
    ...(text(v.registry) ? { registryFile: text(v.registry) } : {}),
    logLevel: text(v.logLevel) ?? 'info',
    watchPolicies: (v.watch as boolean | undefined) ?? true,
    auditKeyFile: store.auditKeyFile,
    ...(text(v.destinations) ? { destinationsFile: text(v.destinations) } : {}),
    ...(text(v.approvalWebhooks) ? { approvalWebhooksFile: text(v.approvalWebhooks) } : {}),
    ...(publicUrl ? { publicUrl: publicUrl.replace(/\/+$/, '') } : {}),
    ...(text(v.redis) ? { sessionRedisUrl: text(v.redis) } : {}),
    abuseRules: list(v.abuseRules) ?? [],
    abuseDefaultPack: (v.abuseDefaultPack as boolean | undefined) ?? true,
    checkpointIntervalSec: (v.checkpointInterval as number | undefined) ?? 60,
    auditCapture: parseAuditCapture(list(v.auditCapture)?.join(',')),
    allowedHosts: parseAllowedHosts(list(v.allowHost)),
    bootstrapTokenFile: text(v.bootstrapTokenFile) ?? `${store.dataDir.replace(/\/+$/, '')}.bootstrap-token`,
    ...(text(v.oidc) ? { oidcFile: text(v.oidc) } : {}),
    ...(cert && key ? { tlsCertFile: cert, tlsKeyFile: key } : {}),
    publicHosts: parsePublicHosts(list(v.publicHost)),
    corsOrigins: parseCorsOrigins(list(v.corsOrigin)),
    // Resolved above (flag > env > file); telemetrySettingsOf reads the OTEL_* variables and WARDEN_METRICS_TOKEN.
    telemetry: telemetrySettingsOf({ metricsPort: v.metricsPort === undefined ? undefined : String(v.metricsPort), metricsHost: text(v.metricsHost) }, env),
    behindProxy: (v.behindProxy as boolean | undefined) ?? false,
    ...(text(v.checkSecret) ? { checkSecret: text(v.checkSecret) } : {}),
    checkAllowHosts: parseCheckAllowHosts(list(v.checkAllowHosts)?.join(',')),
  };
  const r = check(raw);
  if (!r.ok) {
    const noPolicies = r.issues.some((i) => i.path === '/policies');
    throw new WardenError('config.invalid', noPolicies ? 'no policies given' : `invalid configuration: ${formatIssues(r.issues)}`, {
      help: noPolicies ? 'pass --policies DIR, set WARDEN_POLICIES or list `policies` in warden.yaml' : 'see docs/configuration.md',
    });
  }
  const frozen = (l: string[]): string[] => Object.freeze([...l]) as string[];
  const config = Object.freeze({
    ...r.value,
    policies: frozen(r.value.policies),
    abuseRules: frozen(r.value.abuseRules),
    allowedHosts: frozen(r.value.allowedHosts),
    publicHosts: frozen(r.value.publicHosts),
    corsOrigins: frozen(r.value.corsOrigins),
    checkAllowHosts: frozen(r.value.checkAllowHosts),
  });
  return { config, sources: Object.freeze(sources) };
}

/** Builds the frozen serve config from flags over environment over the file over defaults; throws `config.invalid`. */
export function loadConfig(flags: ConfigFlags, env: Readonly<Record<string, string | undefined>>, file?: WardenSpec): Readonly<WardenConfig> {
  return resolveServeConfig(flags, env, file).config;
}
