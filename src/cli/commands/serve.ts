import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { loadConfig, PolicyLoadError, type ConfigFlags } from '../../config/index.js';
import { startServer } from '../../main.js';
import { CliError, EXIT, type CliIo } from '../io.js';

// Resolved from this file so `--demo` works from any working directory, in src/ and in dist/.
const EXAMPLES = fileURLToPath(new URL('../../../examples/', import.meta.url));

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

function demoBanner(url: string): string {
  const base = url.replace('0.0.0.0', '127.0.0.1');
  const post = (body: object) => `curl -s -X POST ${base}/api/v1/decide -H 'content-type: application/json' \\\n    -d '${JSON.stringify(body)}'`;
  return [
    '',
    `Warden is serving the demo policies at ${base}`,
    '',
    'An allow (a developer reads a file):',
    `  ${post({ kind: 'tool.call', scope: 'acme/platform/api', agent: { id: 'agent-7' }, principal: { id: 'bob', roles: ['developer'] }, tool: { server: 'files', name: 'files.read_file' }, args: { path: 'README.md' } })}`,
    '',
    'A deny (a developer opens a shell at night):',
    `  ${post({ kind: 'tool.call', scope: 'acme/platform/api', agent: { id: 'agent-7' }, principal: { id: 'bob', roles: ['developer'] }, tool: { server: 'ops', name: 'shell.run' }, context: { time: '2026-11-24T22:00:00Z' } })}`,
    '',
    'The audit trail of both:',
    `  curl -s '${base}/api/v1/audit/events?limit=5'`,
    '',
  ].join('\n');
}

/** `warden serve`: the decision API over the embedded database or PostgreSQL. */
export function registerServe(program: Command, io: CliIo, done: (code: number) => void): void {
  program
    .command('serve')
    .description('serve the decision and audit API')
    .option('--port <port>', 'TCP port (env WARDEN_PORT)')
    .option('--host <host>', 'interface to bind (env WARDEN_HOST)')
    .option('--data-dir <dir>', 'embedded database directory (env WARDEN_DATA_DIR)')
    .option('--database-url <url>', 'PostgreSQL URL; replaces the embedded database (env WARDEN_DATABASE_URL)')
    .option('--policies <path>', 'policy file or directory; repeatable (env WARDEN_POLICIES, comma-separated)', collect)
    .option('--registry <file>', 'static registry YAML (env WARDEN_REGISTRY)')
    .option('--log-level <level>', 'fatal|error|warn|info|debug|trace|silent (env WARDEN_LOG_LEVEL)')
    .option('--no-watch', 'do not reload policies when their files change')
    .option('--audit-key <file>', 'Ed25519 key that signs audit checkpoints (env WARDEN_AUDIT_KEY)')
    .option('--checkpoint-interval <seconds>', 'seconds between signed audit checkpoints, 0 for none (env WARDEN_CHECKPOINT_INTERVAL)')
    .option('--destinations <file>', 'audit streaming destinations YAML (env WARDEN_AUDIT_DESTINATIONS)')
    .option('--audit-capture <list>', 'keep call bodies in audit events, masked for secrets/PII: args, results, or args,results (env WARDEN_AUDIT_CAPTURE)')
    .option('--demo', 'load the demo policies and registry from examples/ and print curl commands to try')
    .action(async (opts: ConfigFlags & { demo?: boolean }) => {
      const flags: ConfigFlags = { ...opts };
      if (opts.demo) {
        flags.policies ??= [`${EXAMPLES}policies`];
        if (!flags.registry && existsSync(`${EXAMPLES}registry.yaml`)) flags.registry = `${EXAMPLES}registry.yaml`;
      }
      const config = loadConfig(flags, io.env);
      let server;
      try {
        server = await startServer(config, { env: io.env });
      } catch (err) {
        if (err instanceof PolicyLoadError) throw new CliError(err.message, EXIT.usage);
        throw err;
      }
      io.stderr(opts.demo ? `${demoBanner(server.url)}\n` : `Warden is serving at ${server.url}\n`);
      await io.untilStopped();
      await server.close();
      done(EXIT.ok);
    });
}
