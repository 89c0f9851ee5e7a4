import type { Command } from 'commander';
import pino from 'pino';
import { resolveStoreConfig } from '../../config/store-config.js';
import { parseWindow } from '../../config/gateway-file.js';
import { serveStdio } from '../../gateway/transports/stdio.js';
import { openAnalystGateway } from '../../main/analyst-gateway.js';
import { CliError, EXIT, type CliIo } from '../io.js';
import { withStoreOptions, type StoreFlags } from '../with-core.js';

interface McpFlags extends StoreFlags {
  agent?: string;
  scope?: string;
  tenant?: string;
  policies?: string[];
  approvalWait?: string;
  logLevel?: string;
}

/** The agent id the session's calls are audited under when `--agent` is not given. */
export const DEFAULT_ANALYST_AGENT = 'analyst-agent';

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

const HELP = `
WARDEN_TOKEN (required) is your own API token: a person's token holding owner, admin, analyst or
auditor. The agent may do exactly what that token may do through the API, nothing more: an auditor's
agent reads, an analyst's also works cases, labels and mitigates.

Every call passes the checkpoint as agent --agent acting for you: it is decided by the built-in
analyst policy (reads and case work allowed; case_decide, label_add, label_remove, mitigate and
mitigation_lift need another owner, admin or analyst's approval) and your tenant's own policies,
and audited. A call held for approval waits --approval-wait; then the agent is told the approval
request id and retries the same call once someone approved it.

The calls are filed under --scope: by default your token's scope, or for a tenant-wide token the
tenant's root (its id, where tenant-wide abuse events are filed). Approvers must hold their role there.

stdout carries MCP only; logs go to stderr. MCP client config:
  {"mcpServers": {"warden": {"command": "warden", "args": ["mcp"], "env": {"WARDEN_TOKEN": "wdn_…", "WARDEN_DATA_DIR": "/path/to/data"}}}}
`;

/** `warden mcp`: Warden's analyst tools as an MCP server over stdio, for an analyst's own agent. */
export function registerMcp(program: Command, io: CliIo, done: (code: number) => void): void {
  withStoreOptions(
    program
      .command('mcp')
      .description("serve Warden's analyst tools (cases, labels, mitigations, audit search) to your agent over stdio MCP"),
  )
    .option('--audit-key <file>', 'Ed25519 key that signs audit checkpoints, created when missing (env WARDEN_AUDIT_KEY; default <data-dir>.audit-key.pem)')
    .option('--agent <id>', `agent id the calls are audited under [${DEFAULT_ANALYST_AGENT}]`)
    .option('--scope <path>', "the scope the calls are filed under (at or below your token's) [your token's scope, else the tenant's root]")
    .option('--tenant <id>', "the tenant; must be your token's [your token's]")
    .option('--policies <path>', "your tenant's policy file or directory, applied besides the built-in analyst policy; repeatable (env WARDEN_POLICIES, comma-separated)", collect)
    .option('--approval-wait <duration>', 'how long a call held for approval waits before the agent is told to retry it once approved, e.g. `200ms`, `5m`', '60s')
    .option('--log-level <level>', 'log level on stderr', 'warn')
    .addHelpText('after', HELP)
    .action(async (flags: McpFlags) => {
      const token = io.env.WARDEN_TOKEN;
      if (!token) throw new CliError('set WARDEN_TOKEN to your own API token (a person holding owner, admin, analyst or auditor): the agent acts with its roles', EXIT.usage);
      const approvalWaitMs = parseWindow(flags.approvalWait ?? '60s');
      const store = resolveStoreConfig(flags, io.env);
      const logger = pino({ level: flags.logLevel ?? 'warn', base: { service: 'warden-mcp' } }, pino.destination(2));
      const analyst = await openAnalystGateway({
        database: store.databaseUrl ? { url: store.databaseUrl } : { dataDir: store.dataDir },
        token,
        tenant: flags.tenant,
        scope: flags.scope,
        agentId: flags.agent ?? DEFAULT_ANALYST_AGENT,
        policies: flags.policies ?? io.env.WARDEN_POLICIES?.split(',').filter(Boolean) ?? [],
        approvalWaitMs,
        auditKeyFile: store.auditKeyFile,
        env: io.env,
        logger,
      });
      try {
        logger.info({ agent: analyst.identity.agentId, principal: analyst.identity.principal?.id, scope: analyst.identity.scope }, 'Warden is serving the analyst tools over stdio');
        await Promise.race([serveStdio(analyst.runtime.gateway, analyst.identity), io.untilStopped()]);
      } finally {
        await analyst.close();
      }
      done(EXIT.ok);
    });
}
