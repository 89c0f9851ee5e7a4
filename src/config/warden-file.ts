import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node } from 'yaml';
import { WardenError, compileValidator, type SourceSpan } from '../domain/index.js';
import { GATEWAY_SPEC_PROPERTIES, GatewayDocSchema, type GatewaySpec } from './gateway-file.js';

const d = <S extends TSchema>(schema: S, description: string): S => ({ ...schema, description });
const Path = Type.String({ minLength: 1 });
const Paths = Type.Array(Path);
const LogLevel = Type.Union(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)));
const Port = Type.Integer({ minimum: 0, maximum: 65535 });

/** Settings `warden serve` and `warden gateway` share: one deployment's database, policies and audit. */
const SHARED = {
  policies: Type.Optional(d(Paths, 'policy files or directories (searched recursively for *.yaml); --policies, WARDEN_POLICIES')),
  dataDir: Type.Optional(d(Path, 'embedded database (PGlite) directory, used when no databaseUrl is set; --data-dir, WARDEN_DATA_DIR (default .warden/data)')),
  databaseUrl: Type.Optional(d(Type.String({ pattern: '^postgres(ql)?://' }), 'PostgreSQL URL; replaces the embedded database; --database-url, WARDEN_DATABASE_URL')),
  auditKey: Type.Optional(d(Path, 'Ed25519 private key (PEM) that signs audit checkpoints, created when missing; --audit-key, WARDEN_AUDIT_KEY (default <dataDir>.audit-key.pem)')),
  redis: Type.Optional(d(Type.String({ pattern: '^rediss?://' }), 'Redis shared by replicas: session history, abuse velocity counts, gateway rate limits; --redis, WARDEN_REDIS_URL')),
  auditCapture: Type.Optional(d(Type.Array(Type.Union([Type.Literal('args'), Type.Literal('results')])), 'call bodies audit events keep, masked for secrets and PII; --audit-capture, WARDEN_AUDIT_CAPTURE (default none)')),
  allowHosts: Type.Optional(d(Type.Array(Type.String({ minLength: 1 })), 'hosts (and subdomains) images, links and uploads may reach without an exfiltration finding; --allow-host, WARDEN_ALLOW_HOSTS')),
  abuseRules: Type.Optional(d(Paths, 'files or directories of kind: AbuseRule / AbuseQueue documents; --abuse-rules, WARDEN_ABUSE_RULES')),
  abuseDefaultPack: Type.Optional(d(Type.Boolean(), 'run the default abuse rule pack in shadow mode; --no-abuse-default-pack, WARDEN_ABUSE_DEFAULT_PACK (default true)')),
  approvalWebhooks: Type.Optional(d(Path, 'a kind: ApprovalWebhook file: where new approval requests are announced; --approval-webhooks, WARDEN_APPROVAL_WEBHOOKS')),
  publicUrl: Type.Optional(d(Type.String({ pattern: '^https?://[^/?#@]+(/[^?#]*)?$' }), 'the URL people reach the API by, for approval links; --public-url, WARDEN_PUBLIC_URL')),
  checkAllowHosts: Type.Optional(d(Type.Array(Type.String({ minLength: 1 })), 'hosts status checks may reach although loopback or private; WARDEN_CHECK_ALLOW_HOSTS (the signing secret stays in WARDEN_CHECK_SECRET)')),
};

/** `warden serve`: the decision and audit API. */
const SERVE = Type.Object(
  {
    port: Type.Optional(d(Port, 'TCP port of the API; --port, WARDEN_PORT (default 8080)')),
    host: Type.Optional(d(Type.String({ minLength: 1 }), 'interface to bind; --host, WARDEN_HOST (default 127.0.0.1)')),
    logLevel: Type.Optional(d(LogLevel, 'log level; --log-level, WARDEN_LOG_LEVEL (default info)')),
    registry: Type.Optional(d(Path, 'kind: Registry file imported into the database registry at start; --registry, WARDEN_REGISTRY')),
    watch: Type.Optional(d(Type.Boolean(), 'reload policies when their files change; --no-watch (default true)')),
    checkpointInterval: Type.Optional(d(Type.Integer({ minimum: 0 }), 'seconds between signed audit checkpoints, 0 for none; --checkpoint-interval, WARDEN_CHECKPOINT_INTERVAL (default 60)')),
    destinations: Type.Optional(d(Path, 'kind: AuditDestination file (audit streaming); --destinations, WARDEN_AUDIT_DESTINATIONS')),
    bootstrapTokenFile: Type.Optional(d(Path, 'where the first start writes the bootstrap owner token; --bootstrap-token-file, WARDEN_BOOTSTRAP_TOKEN_FILE (default <dataDir>.bootstrap-token)')),
    oidc: Type.Optional(d(Path, 'kind: OidcProvider file; --oidc, WARDEN_OIDC')),
    tlsCert: Type.Optional(d(Path, 'TLS certificate chain (PEM), with tlsKey; --tls-cert, WARDEN_TLS_CERT')),
    tlsKey: Type.Optional(d(Path, 'TLS private key (PEM) of tlsCert; --tls-key, WARDEN_TLS_KEY')),
    publicHosts: Type.Optional(d(Type.Array(Type.String({ minLength: 1 })), 'names clients reach the API by (the Host check); --public-host, WARDEN_PUBLIC_HOSTS')),
    corsOrigins: Type.Optional(d(Type.Array(Type.String({ minLength: 1 })), 'origins a browser may call the API from; --cors-origin, WARDEN_CORS_ORIGINS')),
    behindProxy: Type.Optional(d(Type.Boolean(), 'trust X-Forwarded-* headers of a TLS-terminating proxy; --behind-proxy, WARDEN_BEHIND_PROXY (default false)')),
    metricsPort: Type.Optional(d(Port, 'serve /metrics, /healthz and /readyz on a port of their own; --metrics-port, WARDEN_METRICS_PORT (docs/observability.md)')),
    metricsHost: Type.Optional(d(Type.String({ minLength: 1 }), 'interface for metricsPort; --metrics-host, WARDEN_METRICS_HOST (default 127.0.0.1)')),
    demo: Type.Optional(d(Type.Boolean(), 'load the demo policies and registry from examples/; --demo')),
  },
  { additionalProperties: false, description: 'warden serve: the decision and audit API' },
);

// The gateway file's own fields (the one source), each optional here: a flag or the command after `--` may give it.
// `redis` is left out: the Redis is the deployment's, in the shared settings.
const { redis: _sharedRedis, scope, servers, ...gatewayRest } = GATEWAY_SPEC_PROPERTIES;

/** `warden gateway`: the MCP gateway. */
const GATEWAY = Type.Object(
  {
    scope: Type.Optional(scope),
    servers: Type.Optional(servers),
    ...gatewayRest,
    stdio: Type.Optional(d(Type.Boolean(), 'serve one agent over stdin/stdout (the default without http); --stdio')),
    http: Type.Optional(d(Port, 'serve agents over Streamable HTTP on this port; --http')),
    host: Type.Optional(d(Type.String({ minLength: 1 }), 'interface for http; --host (default 127.0.0.1)')),
    logLevel: Type.Optional(d(LogLevel, 'log level on stderr; --log-level (default warn)')),
    agent: Type.Optional(d(Type.String({ minLength: 1 }), 'agent id of the stdio session; --agent, WARDEN_AGENT_ID (default stdio-agent)')),
    principal: Type.Optional(d(Type.String({ minLength: 1 }), 'principal the stdio agent acts for; --principal')),
    roles: Type.Optional(d(Type.Array(Type.String({ minLength: 1 })), "the stdio principal's roles; --roles")),
    server: Type.Optional(d(Type.String({ minLength: 1 }), 'registry name of the server wrapped after `--`; --server (default: derived from the command)')),
    registryCacheMs: Type.Optional(d(Type.Integer({ minimum: 0 }), 'how long registry lookups are cached; --registry-cache-ms (default 500)')),
    allowOrigins: Type.Optional(d(Type.Array(Type.String({ minLength: 1 })), 'browser origins that may call the http gateway; --allow-origin')),
    publicHosts: Type.Optional(d(Type.Array(Type.String({ minLength: 1 })), 'names agents reach the http gateway by; * turns the Host check off; --public-host')),
    trustAgentHeader: Type.Optional(d(Type.Boolean(), 'accept X-Warden-Agent without a token over HTTP (trusted networks only); --trust-agent-header')),
    upstreamEnv: Type.Optional(d(Type.Union([Type.Literal('inherit'), Type.Literal('minimal')]), 'environment of spawned servers; --upstream-env (default inherit)')),
    metricsPort: Type.Optional(d(Port, 'serve /metrics, /healthz and /readyz on a port of their own; --metrics-port, WARDEN_METRICS_PORT (docs/observability.md)')),
    metricsHost: Type.Optional(d(Type.String({ minLength: 1 }), 'interface for metricsPort; --metrics-host, WARDEN_METRICS_HOST (default 127.0.0.1)')),
  },
  { additionalProperties: false, description: 'warden gateway: the MCP gateway' },
);

/** `warden.yaml`: the one configuration file of `warden serve` and `warden gateway` (docs/configuration.md). */
export const WardenFileSchema = Type.Object(
  {
    apiVersion: Type.Literal('warden.dev/v1'),
    kind: Type.Literal('Warden'),
    spec: Type.Object({ ...SHARED, serve: Type.Optional(SERVE), gateway: Type.Optional(GATEWAY) }, { additionalProperties: false }),
  },
  { additionalProperties: false, title: 'warden.yaml', description: 'Warden configuration: settings of warden serve and warden gateway (docs/configuration.md)' },
);
export type WardenFile = Static<typeof WardenFileSchema>;
/** The settings a configuration file holds, with relative paths resolved against the file's directory. */
export type WardenSpec = WardenFile['spec'];
/** The `gateway` section of a configuration file. */
export type GatewaySection = NonNullable<WardenSpec['gateway']>;

const checkWarden = compileValidator(WardenFileSchema);
const checkGateway = compileValidator(GatewayDocSchema);

/** The JSON Schema of warden.yaml as published in schemas/warden.schema.json (editor completion). */
export function wardenJsonSchema(): Record<string, unknown> {
  return { $schema: 'http://json-schema.org/draft-07/schema#', ...(JSON.parse(JSON.stringify(WardenFileSchema)) as Record<string, unknown>) };
}

// Paths inside the file are relative to the file, as in a docker-compose or tsconfig file.
const SHARED_PATHS = ['dataDir', 'auditKey', 'approvalWebhooks'] as const;
const SERVE_PATHS = ['registry', 'destinations', 'bootstrapTokenFile', 'oidc', 'tlsCert', 'tlsKey'] as const;

function resolvePaths(spec: WardenSpec, dir: string): WardenSpec {
  const at = (p: string) => (isAbsolute(p) ? p : resolve(dir, p));
  const out: WardenSpec = { ...spec };
  for (const k of SHARED_PATHS) if (out[k] !== undefined) out[k] = at(out[k]);
  if (out.policies) out.policies = out.policies.map(at);
  if (out.abuseRules) out.abuseRules = out.abuseRules.map(at);
  if (out.serve) {
    const serve = { ...out.serve };
    for (const k of SERVE_PATHS) if (serve[k] !== undefined) serve[k] = at(serve[k]);
    out.serve = serve;
  }
  return out;
}

/** A `kind: Gateway` spec (the gateway's own file) as the settings of a warden.yaml. */
function fromGatewaySpec(spec: GatewaySpec): WardenSpec {
  const { redis, ...gateway } = spec;
  return { ...(redis !== undefined ? { redis } : {}), gateway };
}

/** Where the value at a JSON pointer (or, for an unknown field, its key) starts in the source. */
function locate(file: string, doc: ReturnType<typeof parseDocument>, lc: LineCounter, pointer: string, key?: string): SourceSpan {
  const path = pointer === '/' || pointer === '' ? [] : pointer.slice(1).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
  let node: Node | null | undefined = doc.contents;
  for (const seg of path) {
    let next: unknown;
    if (isMap(node)) next = node.items.find((p) => isScalar(p.key) && String(p.key.value) === seg)?.value;
    else if (isSeq(node)) next = node.items[Number(seg)];
    if (!next || typeof next !== 'object' || !('range' in next)) break;
    node = next as Node;
  }
  let offset = node?.range?.[0] ?? 0;
  if (key !== undefined && isMap(node)) {
    const k = node.items.find((p) => isScalar(p.key) && String(p.key.value) === key)?.key as Node | undefined;
    if (k?.range) offset = k.range[0];
  }
  const p = lc.linePos(offset);
  return { file, line: p.line, col: p.col };
}

/** The outcome of reading a configuration file: its settings, or every problem with its `file:line:col`. */
export type ConfigFileResult = { ok: true; spec: WardenSpec } | { ok: false; errors: WardenError[] };

/**
 * Reads a configuration file's text: a `kind: Warden` file (warden.yaml), or a `kind: Gateway`
 * file, which is the same gateway settings on their own. Never throws; see {@link readConfigFile}.
 */
export function checkConfigFile(file: string, text: string): ConfigFileResult {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    return { ok: false, errors: doc.errors.map((e) => new WardenError('config.invalid', `not valid YAML: ${e.message.split('\n')[0]!}`, { span: locateOffset(file, lc, e.pos[0]) })) };
  }
  const raw: unknown = doc.toJS({ maxAliasCount: 100 });
  const kind = raw && typeof raw === 'object' ? (raw as { kind?: unknown }).kind : undefined;
  const gatewayFile = kind === 'Gateway';
  const r = gatewayFile ? checkGateway(raw) : checkWarden(raw);
  if (!r.ok) {
    return {
      ok: false,
      errors: r.issues.map((i) => {
        const unknown = /^unknown field `(.*)`$/.exec(i.message)?.[1];
        return new WardenError('config.invalid', `\`${i.path}\` ${i.message}`, {
          span: locate(file, doc, lc, i.path, unknown),
          help: i.path === '/kind' ? 'a configuration file is `kind: Warden` (warden.yaml) or `kind: Gateway`' : 'see docs/configuration.md, or schemas/warden.schema.json in your editor',
        });
      }),
    };
  }
  const spec = gatewayFile ? fromGatewaySpec((r.value as Static<typeof GatewayDocSchema>).spec) : (r.value as WardenFile).spec;
  const errors: WardenError[] = [];
  const names = new Set<string>();
  for (const [i, s] of (spec.gateway?.servers ?? []).entries()) {
    const at = locate(file, doc, lc, `/spec${gatewayFile ? '' : '/gateway'}/servers/${i}`);
    if (names.has(s.name)) errors.push(new WardenError('config.invalid', `server \`${s.name}\` is named twice`, { span: at }));
    names.add(s.name);
    if ((s.command === undefined) === (s.url === undefined)) errors.push(new WardenError('config.invalid', `server \`${s.name}\` needs exactly one of \`command\` and \`url\``, { span: at }));
  }
  const tls = spec.serve;
  if (tls && (tls.tlsCert === undefined) !== (tls.tlsKey === undefined)) {
    errors.push(new WardenError('config.invalid', `\`${tls.tlsCert ? 'tlsCert' : 'tlsKey'}\` is given without \`${tls.tlsCert ? 'tlsKey' : 'tlsCert'}\``, { span: locate(file, doc, lc, '/spec/serve'), help: 'give both to serve HTTPS, or neither' }));
  }
  if (errors.length > 0) return { ok: false, errors };
  return { ok: true, spec: Object.freeze(resolvePaths(spec, dirname(resolve(file)))) };
}

function locateOffset(file: string, lc: LineCounter, offset: number): SourceSpan {
  const p = lc.linePos(offset);
  return { file, line: p.line, col: p.col };
}

/** Reads a configuration file's text; throws the first problem as `config.invalid` with its `file:line:col`. */
export function readConfigFile(file: string, text: string): WardenSpec {
  const r = checkConfigFile(file, text);
  if (!r.ok) throw r.errors[0]!;
  return r.spec;
}

/** The configuration file a command reads: `--config FILE`, else `WARDEN_CONFIG`, else none. */
export function configFileOf(flag: string | undefined, env: Readonly<Record<string, string | undefined>>): string | undefined {
  const file = flag ?? env.WARDEN_CONFIG;
  return file === undefined || file.trim() === '' ? undefined : file;
}

/** Reads and checks a configuration file; throws `config.invalid` when it cannot be read, with `file:line:col` when it is wrong. */
export async function loadConfigFile(file: string): Promise<WardenSpec> {
  return readConfigFile(file, await readConfigText(file));
}

/** A configuration file's text; throws `config.invalid` naming the file when it cannot be read. */
export async function readConfigText(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    throw new WardenError('config.invalid', `cannot read the configuration file \`${file}\``, { help: (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'check the path given to --config or WARDEN_CONFIG' : String((err as Error).message) });
  }
}
