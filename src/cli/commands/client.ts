import { copyFile, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, isAbsolute, resolve } from 'node:path';
import type { Command } from 'commander';
import { defaultConfigPath, MCP_CLIENTS, mergeClientConfig, renderClientConfig, type McpClient } from '../mcp-clients.js';
import { CliError, EXIT, type CliIo } from '../io.js';

interface ClientFlags {
  server: string;
  config?: string;
  scope?: string;
  policies?: string[];
  agent?: string;
  principal?: string;
  roles?: string;
  dataDir?: string;
  warden?: string;
  write?: string | boolean;
}

// The gateway's own rule for server names (they prefix tool names): letters, digits, `_` and `-`.
const SERVER_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** The arguments of `warden gateway --stdio` wrapping `command`, as `warden gateway` reads them. */
export function gatewayArgs(flags: Omit<ClientFlags, 'write' | 'warden'>, command: readonly string[], cwd: string): string[] {
  const abs = (p: string) => (isAbsolute(p) ? p : resolve(cwd, p));
  return [
    'gateway',
    '--stdio',
    // Clients start servers from their own working directory: every path is made absolute.
    ...(flags.config ? ['--config', abs(flags.config)] : []),
    ...(flags.scope ? ['--scope', flags.scope] : []),
    ...(flags.policies ?? []).flatMap((p) => ['--policies', abs(p)]),
    ...(flags.agent ? ['--agent', flags.agent] : []),
    ...(flags.principal ? ['--principal', flags.principal] : []),
    ...(flags.roles ? ['--roles', flags.roles] : []),
    ...(flags.dataDir ? ['--data-dir', abs(flags.dataDir)] : []),
    '--server',
    flags.server,
    '--',
    ...command,
  ];
}

async function readIfPresent(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new CliError(`cannot read \`${file}\`: ${(err as Error).message}`, EXIT.runtime);
  }
}

/** `warden client config <client> --server NAME -- CMD…`: an MCP client's entry for a server behind the gateway. */
export function registerClient(program: Command, io: CliIo, done: (code: number) => void): Command {
  const client = program.command('client').description("print or merge an MCP client's configuration so a server runs behind `warden gateway --stdio`");
  client
    .command('config')
    .description(`print the MCP configuration of ${MCP_CLIENTS.join(', ')} for a server wrapped in \`warden gateway --stdio\`; --write merges it into the client's file`)
    .argument('<client>', MCP_CLIENTS.join('|'))
    .argument('<command...>', 'the stdio MCP server to wrap, after `--`')
    .requiredOption('--server <name>', 'the server name in the client and in the registry (letters, digits, `_`, `-`)')
    .option('--config <file>', 'warden.yaml the gateway reads (scope, policies, database)')
    .option('--scope <path>', 'the scope actions are filed under')
    .option('--policies <path>', 'policy file or directory; repeatable', collect)
    .option('--agent <id>', 'agent id of the session')
    .option('--principal <id>', 'principal the agent acts for')
    .option('--roles <list>', "the principal's roles, comma-separated")
    .option('--data-dir <dir>', 'embedded database directory')
    .option('--warden <command>', 'how the client starts Warden (an absolute path when the client does not see your PATH)', 'warden')
    .option('--write [file]', "merge into the client's file (default: its usual place); keeps other servers and a .bak copy")
    .action(async (name: string, command: string[], flags: ClientFlags) => {
      if (!(MCP_CLIENTS as readonly string[]).includes(name)) throw new CliError(`unknown client \`${name}\`: use ${MCP_CLIENTS.map((c) => `\`${c}\``).join(', ')}`, EXIT.usage);
      if (!SERVER_NAME.test(flags.server)) throw new CliError(`server name \`${flags.server}\` is not letters, digits, \`_\` and \`-\``, EXIT.usage);
      const mcp = name as McpClient;
      const entry = { command: flags.warden ?? 'warden', args: gatewayArgs(flags, command, io.cwd) };
      if (!flags.config && !(flags.scope && flags.policies?.length) && !io.env.WARDEN_CONFIG) {
        io.stderr('note: the gateway needs a scope and policies: pass --config warden.yaml, or --scope and --policies\n');
      }
      if (flags.write === undefined) {
        io.stdout(renderClientConfig(mcp, flags.server, entry));
        done(EXIT.ok);
        return;
      }
      const file =
        typeof flags.write === 'string'
          ? resolve(io.cwd, flags.write)
          : defaultConfigPath(mcp, { home: io.env.HOME ?? homedir(), cwd: io.cwd, platform: process.platform, appData: io.env.APPDATA });
      const before = await readIfPresent(file);
      const after = mergeClientConfig(mcp, before, flags.server, entry, file);
      await mkdir(dirname(file), { recursive: true });
      if (before !== undefined) await copyFile(file, `${file}.bak`);
      // Written beside it and renamed over it: a reader sees the old file or the new one, never half of one.
      const tmp = `${file}.${process.pid}.tmp`;
      await writeFile(tmp, after, { mode: 0o600 });
      await rename(tmp, file);
      io.stderr(`${before === undefined ? 'created' : 'updated'} ${file} with server \`${flags.server}\`${before === undefined ? '' : ` (the previous file is ${file}.bak)`}\n`);
      done(EXIT.ok);
    });
  return client;
}
