import { basename } from 'node:path';
import type { Command } from 'commander';
import pino from 'pino';
// Deep imports, not the barrels: the stdio agent's `initialize` is answered before the store, the
// policies, the detectors or the HTTP transport load (bench/startup).
import { resolveGatewayConfig, type GatewayConfig } from '../../config/gateway-settings.js';
import { configFileOf, loadConfigFile } from '../../config/warden-file.js';
import { WardenError } from '../../domain/index.js';
import { AUDIT_MODES, DEFAULT_AUDIT_MODE, isAuditMode } from '../../gateway/audit-mode.js';
import type { HttpListener } from '../../gateway/index.js';
import type { SessionIdentity } from '../../gateway/ports.js';
import { serveStdio } from '../../gateway/transports/stdio.js';
import type { UpstreamSpec } from '../../gateway/upstream.js';
import type { SeededAgent } from '../../main/agent-token-seed.js';
import { openGateway, type GatewayRuntime } from '../../main/gateway-runtime.js';
import { givenOptions } from '../given-options.js';
import { CliError, EXIT, type CliIo } from '../io.js';

/** A registry name for a wrapped command: `server-everything` from `node …/server-everything/dist/index.js`. */
export function serverNameOf(command: string, args: readonly string[]): string {
  for (const token of [command, ...args]) {
    const m = /(?:^|\/)(?:@[^/]+\/)?((?:mcp-)?server-[A-Za-z0-9-]+)/.exec(token);
    if (m) return m[1]!;
  }
  return basename(command).replace(/\.[a-z]+$/, '').replace(/[^A-Za-z0-9_-]/g, '-') || 'upstream';
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** `warden gateway`: the MCP gateway, as a drop-in stdio wrapper or a Streamable HTTP server. */
export function registerGateway(program: Command, io: CliIo, done: (code: number) => void): void {
  program
    .command('gateway')
    .description('put the checkpoint in front of MCP servers (stdio drop-in or Streamable HTTP)')
    .argument('[command...]', 'the stdio MCP server to wrap, after `--`')
    .option('--stdio', 'serve one agent over stdin/stdout (the drop-in form)')
    .option('--http <port>', 'serve agents over Streamable HTTP on this port')
    .option('--host <host>', 'interface for --http (default 127.0.0.1)')
    .option('--config <file>', 'warden.yaml (its `gateway` section and shared settings) or a `kind: Gateway` file: servers to aggregate, agents (static tokens are imported into the identity store), rate limits (env WARDEN_CONFIG)')
    .option('--policies <path>', 'policy file or directory; repeatable (env WARDEN_POLICIES, comma-separated)', collect)
    .option('--scope <path>', 'the scope actions are filed under (overrides the config file)')
    .option('--agent <id>', 'agent id of the stdio session (env WARDEN_AGENT_ID)')
    .option('--principal <id>', 'principal the stdio agent acts for')
    .option('--roles <list>', "the principal's roles, comma-separated")
    .option('--server <name>', 'registry name of the wrapped server (default: derived from the command)')
    .option('--data-dir <dir>', 'embedded database directory (env WARDEN_DATA_DIR)')
    .option('--database-url <url>', 'PostgreSQL URL (env WARDEN_DATABASE_URL)')
    .option('--audit-key <file>', 'Ed25519 key that signs audit checkpoints, created when missing (env WARDEN_AUDIT_KEY; default <data-dir>.audit-key.pem)')
    .option('--redis <url>', 'share rate-limit counters through Redis (env WARDEN_REDIS_URL; overrides the config file)')
    .option('--redis-timeout <duration>', 'how long a rate-limited call waits for Redis before it is refused, e.g. 500ms (overrides the config file; default 500ms)')
    .option('--max-sessions-per-agent <n>', 'most open Streamable HTTP sessions one agent may hold (overrides the config file; default 50)')
    .option('--session-idle-timeout <duration>', 'close a Streamable HTTP session idle this long, e.g. 15m (overrides the config file; default 15m)')
    .option('--registry-cache-ms <ms>', 'how long registry lookups are cached (kill switch delay across processes; default 500)')
    .option('--allow-origin <origin>', 'a browser origin that may call the --http gateway, e.g. http://localhost:6274; repeatable (any other Origin is refused)', collect)
    .option('--public-host <name>', 'a name agents reach the --http gateway by, besides the loopback names (the Host check refuses others); repeatable; * turns the check off', collect)
    .option('--trust-agent-header', 'accept `X-Warden-Agent` without a token over HTTP (trusted networks only)')
    .option('--approval-webhooks <file>', 'announce new approval requests to the webhooks of this file (kind: ApprovalWebhook; env WARDEN_APPROVAL_WEBHOOKS; docs/approval-notifications.md)')
    .option('--public-url <url>', "the API server's URL people sign in to, for approval links (env WARDEN_PUBLIC_URL)")
    .option('--approval-wait <duration>', 'how long a call held for approval waits before the agent is told to retry it once approved, e.g. `60s`, `5m` (overrides the config file; default 60s)')
    .option('--audit-mode <mode>', `when each call's decision must be durable: before-forward (nothing is forwarded before it) or before-respond (the commit overlaps the upstream call; nothing is answered before it) (overrides the config file; default ${DEFAULT_AUDIT_MODE})`)
    .option('--audit-capture <list>', 'keep call bodies in audit events, masked for secrets/PII: args, results, or args,results (env WARDEN_AUDIT_CAPTURE)')
    .option('--allow-host <host...>', 'hosts (and subdomains) images, links and uploads may reach without an exfiltration finding (env WARDEN_ALLOW_HOSTS, comma-separated)')
    .option('--upstream-env <mode>', 'environment of spawned servers: inherit (all but WARDEN_* variables, the default) or minimal (HOME, LOGNAME, PATH, SHELL, TERM, USER); a config file\'s `env:` goes on top')
    .option('--abuse-rules <path>', 'a file or directory of kind: AbuseRule / AbuseQueue documents; repeatable (env WARDEN_ABUSE_RULES, comma-separated)', collect)
    .option('--no-abuse-default-pack', 'do not run the default abuse rule pack (shadow mode; env WARDEN_ABUSE_DEFAULT_PACK=0)')
    .option('--metrics-port <port>', 'serve /metrics, /healthz and /readyz on a port of their own (env WARDEN_METRICS_PORT; docs/observability.md)')
    .option('--metrics-host <host>', 'interface for --metrics-port (env WARDEN_METRICS_HOST; default 127.0.0.1)')
    .option('--log-level <level>', 'log level on stderr (default warn)')
    .action(async (command: string[], _opts: unknown, cmd: Command) => {
      const flags = givenOptions(cmd);
      const configFile = configFileOf(flags.config as string | undefined, io.env);
      const file = configFile ? await loadConfigFile(configFile) : undefined;
      const config = resolveGatewayConfig(flags, io.env, file).config;
      const telemetry = config.telemetry;
      const upstreams: UpstreamSpec[] = [...config.servers];
      if (command.length > 0) {
        upstreams.push({ name: config.server ?? serverNameOf(command[0]!, command.slice(1)), command: command[0]!, args: command.slice(1) });
      }
      if (upstreams.length === 0) throw new CliError('no upstream server: give a command after `--` or servers in --config', EXIT.usage);
      const scope = config.scope;
      if (!scope) throw new CliError('no scope: pass --scope PATH (e.g. `acme/platform`)', EXIT.usage);
      const policies = [...config.policies];
      if (!policies.length) throw new CliError('no policies given: pass --policies DIR or set WARDEN_POLICIES', EXIT.usage);
      const upstreamEnv = config.upstreamEnv;
      if (upstreamEnv !== 'inherit' && upstreamEnv !== 'minimal') throw new CliError(`unknown --upstream-env \`${upstreamEnv}\`: use \`inherit\` or \`minimal\``, EXIT.usage);
      const auditMode = config.auditMode ?? DEFAULT_AUDIT_MODE;
      if (!isAuditMode(auditMode)) throw new CliError(`unknown --audit-mode \`${auditMode}\`: use ${AUDIT_MODES.map((m) => `\`${m}\``).join(' or ')}`, EXIT.usage);
      const stdio = config.stdio;
      const store = config.store;
      const logger = pino({ level: config.logLevel, base: { service: 'warden-gateway' } }, pino.destination(2));

      const tenant = config.tenant;
      const identity: SessionIdentity = { agentId: config.agent, scope, principal: config.principal, via: 'config', tenantId: tenant };
      // Resolved before anything starts: a `tokenEnv` naming an unset variable stops the start.
      const agents = resolveAgents(config, io.env);

      let runtime: GatewayRuntime;
      let serving: Promise<void> | undefined;
      try {
        const opening = openGateway({
          policies,
          scope,
          tenant,
          // Only agents connecting over HTTP hold tokens; the file's static ones seed the identity store.
          ...(config.http !== undefined && configFile ? { agentTokens: { source: configFile, agents } } : {}),
          upstreams,
          database: store.databaseUrl ? { url: store.databaseUrl } : { dataDir: store.dataDir },
          // The gateway writes events, so it seals them (and runs retention) like a server.
          auditKeyFile: store.auditKeyFile,
          rateLimits: config.rateLimits,
          auditMode,
          ...(config.approvalWaitMs !== undefined ? { approvalWaitMs: config.approvalWaitMs } : {}),
          redisUrl: config.redis,
          abuseRules: [...config.abuseRules],
          abuseDefaultPack: config.abuseDefaultPack,
          ...(config.redisTimeoutMs !== undefined ? { redisTimeoutMs: config.redisTimeoutMs } : {}),
          registryCacheMs: config.registryCacheMs,
          capture: config.auditCapture,
          allowedHosts: [...config.allowedHosts],
          ...(config.checkSecret ? { checkSecret: config.checkSecret } : {}),
          ...(config.approvalWebhooksFile ? { approvalWebhooksFile: config.approvalWebhooksFile } : {}),
          ...(config.publicUrl ? { publicUrl: config.publicUrl } : {}),
          env: io.env,
          checkAllowHosts: [...config.checkAllowHosts],
          // In the stdio form, the server's stderr is the agent's log; keep it visible.
          upstreamStderr: 'inherit',
          // A drop-in wrapper is transparent: the server sees the variables its MCP client's `env` block set.
          ...(upstreamEnv === 'inherit' ? { upstreamEnv: io.env } : {}),
          processMetrics: true,
          ...(telemetry.otlpEndpoint ? { otlpEndpoint: telemetry.otlpEndpoint } : {}),
          ...(telemetry.otlpHeaders ? { otlpHeaders: telemetry.otlpHeaders } : {}),
          logger,
        });
        // The stdio agent is answered at once (`initialize` needs no core); its other requests wait for it.
        if (stdio) {
          serving = serveStdio(opening.gateway, identity);
          serving.catch(() => {}); // awaited below; a failed start closes the session first
        }
        runtime = await opening.ready;
      } catch (err) {
        const { PolicyLoadError } = await import('../../config/policy-watcher.js');
        if (err instanceof PolicyLoadError) throw new CliError(err.message, EXIT.usage);
        if (err instanceof Error && !(err instanceof WardenError) && /spawn|ENOENT|Connection closed/i.test(err.message)) {
          throw new CliError(`cannot start the upstream server: ${err.message}`, EXIT.runtime);
        }
        throw err;
      }

      let http: HttpListener | undefined;
      let ops: { url: string; close(): Promise<void> } | undefined;
      try {
        const { listenOps, opsHandler } = await import('../../main/ops-endpoints.js');
        const endpoints = { metrics: runtime.core.telemetry.metrics, token: telemetry.metricsToken, readiness: runtime.readiness };
        if (telemetry.metricsPort !== undefined) {
          ops = await listenOps(endpoints, { port: telemetry.metricsPort, host: telemetry.metricsHost });
          io.stderr(`Warden gateway metrics at ${ops.url}/metrics (and /healthz, /readyz)\n`);
        }
        if (config.http !== undefined) {
          const { createHttpIdentity, listenHttp } = await import('../../gateway/index.js');
          const { createAuthFailureLimiter } = await import('../../identity/index.js');
          const { signallingFailures } = await import('../../main/auth-failure-signal.js');
          const identityService = runtime.core.identity;
          http = await listenHttp(runtime.gateway, {
            port: config.http,
            host: config.host,
            identify: createHttpIdentity({ scope, tenant, agents, policies: runtime.policies, authenticate: (bearer) => identityService.authenticate(bearer), trustAgentHeader: config.trustAgentHeader }),
            tokens: identityService,
            // The abuse kill switch: kills made here at once, other processes' within a quarter second.
            kills: runtime.core.abuse.kills,
            // The Host check defends a loopback gateway against DNS rebinding; another bind checks the names given.
            ...(config.publicHosts?.includes('*') ? { allowedHosts: 'any' as const } : config.publicHosts ? { allowedHosts: ['localhost', '127.0.0.1', '[::1]', config.host, ...config.publicHosts] } : {}),
            ...(config.allowOrigins ? { allowedOrigins: [...config.allowOrigins] } : {}),
            failures: signallingFailures(createAuthFailureLimiter({ clock: runtime.core.clock }), runtime.core.abuse.engine, runtime.core.clock, 'gateway'),
            ...config.sessionLimits,
            audit: runtime.audit,
            clock: runtime.core.clock,
            logger,
            // Probes on the MCP port; /metrics there only behind the scrape token.
            ops: opsHandler(endpoints, { metricsOnlyWithToken: true }),
          });
          io.stderr(`Warden gateway is serving MCP at ${http.url} (${upstreams.map((u) => u.name).join(', ')}; audit mode ${auditMode})\n`);
        } else {
          logger.info({ auditMode, upstreams: upstreams.map((u) => u.name) }, 'Warden gateway is serving MCP over stdio');
        }
        if (serving) {
          await Promise.race([serving, io.untilStopped()]);
        } else {
          await io.untilStopped();
        }
      } finally {
        await http?.close();
        await ops?.close();
        await runtime.close();
      }
      done(EXIT.ok);
    });
}

/** The file's agents: bindings, and the static tokens that seed the identity store. */
function resolveAgents(config: GatewayConfig, env: CliIo['env']): SeededAgent[] {
  return config.agents.map((a) => {
    const token = a.token ?? (a.tokenEnv ? env[a.tokenEnv] : undefined);
    if (a.tokenEnv && !token) throw new CliError(`agent \`${a.id}\` names \`tokenEnv: ${a.tokenEnv}\`, which is not set`, EXIT.usage);
    // Without a static token the agent's tokens are all in the store (`warden token create --agent ID`).
    return { id: a.id, principal: a.principal, scope: a.scope, scopes: a.scopes, ...(token ? { token } : {}) };
  });
}
