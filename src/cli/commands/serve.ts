import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import pino from 'pino';
import { configFileOf, loadConfig, loadConfigFile, PolicyLoadError, type ConfigFlags } from '../../config/index.js';
import type { DemoGateway } from '../../main/demo.js';
import { startServer, type RunningServer } from '../../main/server.js';
import { givenOptions } from '../given-options.js';
import { CliError, EXIT, type CliIo } from '../io.js';

// Resolved from this file so `--demo` works from any working directory, in src/ and in dist/.
const EXAMPLES = fileURLToPath(new URL('../../../examples/', import.meta.url));

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** The demo MCP server (a devDependency): its entry point, or undefined when it is not installed. */
function demoServerEntry(): string | undefined {
  try {
    return join(dirname(createRequire(import.meta.url).resolve('@modelcontextprotocol/server-everything/package.json')), 'dist', 'index.js');
  } catch {
    return undefined;
  }
}

function mcpBanner(gw: DemoGateway): string {
  const h = `-H 'authorization: Bearer ${gw.token}' -H 'content-type: application/json' -H 'accept: application/json, text/event-stream'`;
  const rpc = (id: number, method: string, params: object) => `curl -s -X POST ${gw.url} ${h} -H "mcp-session-id: $SID" \\\n    -d '${JSON.stringify({ jsonrpc: '2.0', id, method, params })}'`;
  return [
    `The MCP gateway is in front of the demo server (server-everything) at ${gw.url}`,
    `Agent \`demo-agent\` (acting for bob, a developer) holds the bearer token ${gw.token}`,
    '(an `agent` token that expires in a day; revoking it closes its sessions within a second). An MCP client config:',
    `  { "mcpServers": { "warden-demo": { "type": "http", "url": "${gw.url}", "headers": { "Authorization": "Bearer ${gw.token}" } } } }`,
    '',
    'Or by hand, open a session, then list tools (policy hides what the agent may not use), call an allowed tool and a denied one:',
    `  SID=$(curl -si -X POST ${gw.url} ${h} \\\n    -d '${JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'curl', version: '1' } } })}' \\\n    | tr -d '\\r' | sed -n 's/^mcp-session-id: //Ip')`,
    `  ${rpc(2, 'tools/list', {})}`,
    `  ${rpc(3, 'tools/call', { name: 'echo', arguments: { message: 'hello through Warden' } })}`,
    `  ${rpc(4, 'tools/call', { name: 'get-env', arguments: {} })}`,
    '',
  ].join('\n');
}

function demoBanner(url: string, tokens: DemoTokens): string {
  const base = url.replace('0.0.0.0', '127.0.0.1');
  const post = (body: object) => `curl -s -X POST ${base}/api/v1/decide -H "authorization: Bearer $ENFORCER" -H 'content-type: application/json' \\\n    -d '${JSON.stringify(body)}'`;
  return [
    '',
    `Warden is serving the demo policies at ${base}`,
    '',
    'Every /api route needs a token. The demo made two that expire in a day: an enforcer (a trusted',
    'enforcement point, so it may say which agent acts for whom) and an auditor (reads the audit log):',
    `  ENFORCER=${tokens.enforcer}`,
    `  AUDITOR=${tokens.auditor}`,
    '',
    'An allow (a developer reads a file):',
    `  ${post({ kind: 'tool.call', scope: 'acme/platform/api', agent: { id: 'agent-7' }, principal: { id: 'bob', roles: ['developer'] }, tool: { server: 'files', name: 'files.read_file' }, args: { path: 'README.md' } })}`,
    '',
    'A deny (an agent asks for the environment variables):',
    `  ${post({ kind: 'tool.call', scope: 'acme/platform/api', agent: { id: 'agent-7' }, principal: { id: 'bob', roles: ['developer'] }, tool: { server: 'everything', name: 'get-env' } })}`,
    '',
    'The audit trail of both:',
    `  curl -s '${base}/api/v1/audit/events?limit=5' -H "authorization: Bearer $AUDITOR"`,
    '',
    'A production deploy needs two approvers: the decision opens an approval request bound to this exact',
    'call (`approvalRequest.id`); carol and dave (approvers) answer it; the same call then passes once:',
    `  ${post({ kind: 'tool.call', scope: 'acme/platform/payments', agent: { id: 'agent-7' }, principal: { id: 'alice', roles: ['developer'] }, tool: { server: 'deploy', name: 'deploy.release' }, args: { environment: 'production', version: '1.4.0' } })}`,
    `  CAROL=${tokens.carol}`,
    `  DAVE=${tokens.dave}`,
    '  APPROVAL=apr_…   # the approvalRequest.id it printed',
    `  curl -s -X POST ${base}/api/v1/approvals/$APPROVAL/approve -H "authorization: Bearer $CAROL" -H 'content-type: application/json' -d '{"comment":"ok"}'`,
    `  curl -s -X POST ${base}/api/v1/approvals/$APPROVAL/approve -H "authorization: Bearer $DAVE" -H 'content-type: application/json' -d '{"comment":"ok"}'`,
    '  (then the same deploy decision again: "effect":"allow")',
    '',
  ].join('\n');
}

interface DemoTokens {
  enforcer: string;
  auditor: string;
  carol: string;
  dave: string;
}

/** The demo's short-lived tokens (an enforcer, an auditor, two approvers), made by the local operator (who holds the database). */
async function demoTokens(server: RunningServer): Promise<DemoTokens> {
  const actor = { tenantId: 'default', method: 'local' as const, id: 'demo', name: 'warden serve --demo', grants: [{ role: 'owner' as const }] };
  const expiresAt = new Date(server.core.clock.now().getTime() + 86_400_000).toISOString();
  const enforcer = await server.core.identity.createToken(actor, { name: 'demo-enforcer', role: 'enforcer', expiresAt });
  const auditor = await server.core.identity.createToken(actor, { name: 'demo-auditor', role: 'auditor', expiresAt });
  const approver = async (name: string) => (await server.core.identity.createToken(actor, { name: `demo-${name}`, role: 'approver', principal: name, scope: 'acme', expiresAt })).token;
  return { enforcer: enforcer.token, auditor: auditor.token, carol: await approver('carol'), dave: await approver('dave') };
}

/** `warden serve`: the decision API over the embedded database or PostgreSQL. */
export function registerServe(program: Command, io: CliIo, done: (code: number) => void): void {
  program
    .command('serve')
    .description('serve the decision and audit API')
    .option('--config <file>', 'warden.yaml: settings of serve (and gateway); flags and environment variables override it (env WARDEN_CONFIG; docs/configuration.md)')
    .option('--port <port>', 'TCP port (env WARDEN_PORT)')
    .option('--host <host>', 'interface to bind (env WARDEN_HOST)')
    .option('--data-dir <dir>', 'embedded database directory (env WARDEN_DATA_DIR)')
    .option('--database-url <url>', 'PostgreSQL URL; replaces the embedded database (env WARDEN_DATABASE_URL)')
    .option('--policies <path>', 'policy file or directory; repeatable (env WARDEN_POLICIES, comma-separated)', collect)
    .option('--registry <file>', 'registry YAML imported into the database registry at start (env WARDEN_REGISTRY)')
    .option('--log-level <level>', 'fatal|error|warn|info|debug|trace|silent (env WARDEN_LOG_LEVEL)')
    .option('--no-watch', 'do not reload policies when their files change')
    .option('--audit-key <file>', 'Ed25519 key that signs audit checkpoints (env WARDEN_AUDIT_KEY)')
    .option('--checkpoint-interval <seconds>', 'seconds between signed audit checkpoints, 0 for none (env WARDEN_CHECKPOINT_INTERVAL)')
    .option('--destinations <file>', 'audit streaming destinations YAML (env WARDEN_AUDIT_DESTINATIONS)')
    .option('--approval-webhooks <file>', 'kind: ApprovalWebhook YAML: where new approval requests are announced, signed (env WARDEN_APPROVAL_WEBHOOKS)')
    .option('--redis <url>', "keep agent sessions' history (session.history) and abuse rules' velocity counts in Redis, shared by replicas (env WARDEN_REDIS_URL; default this process's memory)")
    .option('--abuse-rules <path>', 'a file or directory of kind: AbuseRule / AbuseQueue documents; repeatable (env WARDEN_ABUSE_RULES, comma-separated)', collect)
    .option('--no-abuse-default-pack', 'do not run the default abuse rule pack (shadow mode; env WARDEN_ABUSE_DEFAULT_PACK=0)')
    .option('--public-url <url>', 'the URL people reach the API by, for links in approval notifications (env WARDEN_PUBLIC_URL; default http://127.0.0.1:<port>)')
    .option('--audit-capture <list>', 'keep call bodies in audit events, masked for secrets/PII: args, results, or args,results (env WARDEN_AUDIT_CAPTURE)')
    .option('--allow-host <host...>', 'hosts (and subdomains) images, links and uploads may reach without an exfiltration finding (env WARDEN_ALLOW_HOSTS, comma-separated)')
    .option('--bootstrap-token-file <file>', 'where the first start writes the bootstrap owner token, mode 0600 (env WARDEN_BOOTSTRAP_TOKEN_FILE)')
    .option('--oidc <file>', 'a kind: OidcProvider file; people sign in with JWTs from that issuer (env WARDEN_OIDC)')
    .option('--tls-cert <file>', 'TLS certificate chain (PEM); with --tls-key the API serves HTTPS (env WARDEN_TLS_CERT)')
    .option('--tls-key <file>', 'private key (PEM, unencrypted) of --tls-cert (env WARDEN_TLS_KEY)')
    .option('--public-host <name>', 'a name clients reach the API by (the Host check refuses others); repeatable (env WARDEN_PUBLIC_HOSTS, comma-separated)', collect)
    .option('--cors-origin <origin>', 'an origin a browser may call the API from, e.g. https://console.example.com; repeatable (env WARDEN_CORS_ORIGINS, comma-separated)', collect)
    .option('--behind-proxy', 'a reverse proxy terminates TLS in front: trust its X-Forwarded-* headers (env WARDEN_BEHIND_PROXY=1)')
    .option('--metrics-port <port>', 'serve /metrics, /healthz and /readyz on a port of their own (env WARDEN_METRICS_PORT; docs/observability.md)')
    .option('--metrics-host <host>', 'interface for --metrics-port (env WARDEN_METRICS_HOST; default 127.0.0.1)')
    .option('--demo', 'load the demo policies and registry from examples/ and print curl commands to try')
    .action(async (_opts: unknown, cmd: Command) => {
      const given = givenOptions(cmd) as ConfigFlags & { config?: string };
      const configFile = configFileOf(given.config, io.env);
      const file = configFile ? await loadConfigFile(configFile) : undefined;
      const flags: ConfigFlags = { ...given };
      const demo = flags.demo ?? file?.serve?.demo ?? false;
      if (demo) {
        flags.policies ??= [`${EXAMPLES}policies`];
        if (!flags.registry && existsSync(`${EXAMPLES}registry.yaml`)) flags.registry = `${EXAMPLES}registry.yaml`;
      }
      const config = loadConfig(flags, io.env, file);
      let server;
      try {
        server = await startServer(config, { env: io.env });
      } catch (err) {
        if (err instanceof PolicyLoadError) throw new CliError(err.message, EXIT.usage);
        throw err;
      }
      if (server.bootstrap) {
        io.stderr(
          [
            '',
            'This is a new installation: a bootstrap owner token was created. It is shown this once and kept in',
            `${server.bootstrap.file} (readable by you only). Use it to create your own tokens, then revoke it:`,
            `  export WARDEN_TOKEN=${server.bootstrap.token}`,
            `  curl -s ${server.url.replace('0.0.0.0', '127.0.0.1')}/api/v1/whoami -H "authorization: Bearer $WARDEN_TOKEN"`,
            '',
          ].join('\n') + '\n',
        );
      }
      io.stderr(demo ? `${demoBanner(server.url, await demoTokens(server))}\n` : `Warden is serving at ${server.url}\n`);
      if (server.metricsUrl) io.stderr(`Metrics at ${server.metricsUrl} (and /healthz, /readyz)\n`);
      let demoGateway: DemoGateway | undefined;
      if (demo) {
        const entry = demoServerEntry();
        if (entry === undefined) io.stderr('The demo MCP server (@modelcontextprotocol/server-everything) is not installed (npm ci installs it); no MCP gateway demo.\n');
        else {
          try {
            // Only the demo spawns and governs an MCP server: its modules load only then.
            const { startDemoGateway } = await import('../../main/demo.js');
            demoGateway = await startDemoGateway(server, {
              scope: 'acme/platform/api',
              upstream: { name: 'everything', command: process.execPath, args: [entry, 'stdio'] },
              port: config.port === 0 ? 0 : config.port + 1,
              host: config.host,
              logger: pino({ level: config.logLevel, base: { service: 'warden-gateway' } }),
            });
            io.stderr(`${mcpBanner(demoGateway)}\n`);
          } catch (err) {
            // The decision API still serves; only the MCP part of the demo is missing.
            io.stderr(`Could not start the demo MCP gateway: ${err instanceof Error ? err.message : String(err)}\n`);
          }
        }
      }
      await io.untilStopped();
      await demoGateway?.close();
      await server.close();
      done(EXIT.ok);
    });
}
