import { join } from 'node:path';
import { WardenError } from '../domain/errors.js';
import { tomlStatements, TomlShapeError, tomlString } from './toml-tables.js';

/** The MCP clients `warden client config` writes for. */
export const MCP_CLIENTS = ['claude-desktop', 'cursor', 'vscode', 'codex'] as const;
export type McpClient = (typeof MCP_CLIENTS)[number];

/** A stdio server as every client starts it: a command and its arguments. */
export interface StdioEntry {
  command: string;
  args: readonly string[];
}

/** Where a client reads its MCP servers: the file format, and the key (or TOML table) that holds them. */
interface ClientFormat {
  format: 'json' | 'toml';
  /** `mcpServers`, `servers` or `mcp_servers`. */
  key: string;
  /** The server's entry as the client's documentation shows it. */
  entry(e: StdioEntry): Record<string, unknown>;
}

const FORMATS: Readonly<Record<McpClient, ClientFormat>> = {
  // Claude Desktop: claude_desktop_config.json, `mcpServers.<name>: { command, args, env? }`.
  'claude-desktop': { format: 'json', key: 'mcpServers', entry: (e) => ({ command: e.command, args: [...e.args] }) },
  // Cursor: .cursor/mcp.json (project) or ~/.cursor/mcp.json (user), the same `mcpServers` shape.
  cursor: { format: 'json', key: 'mcpServers', entry: (e) => ({ command: e.command, args: [...e.args] }) },
  // VS Code: .vscode/mcp.json, `servers.<name>: { type: "stdio", command, args }` (`type` is required there).
  vscode: { format: 'json', key: 'servers', entry: (e) => ({ type: 'stdio', command: e.command, args: [...e.args] }) },
  // Codex: ~/.codex/config.toml, a `[mcp_servers.<name>]` table with `command` and `args`.
  codex: { format: 'toml', key: 'mcp_servers', entry: (e) => ({ command: e.command, args: [...e.args] }) },
};

/** Where each client looks by default: the user's file, or the project's for editors with per-project files. */
export function defaultConfigPath(client: McpClient, where: { home: string; cwd: string; platform: NodeJS.Platform; appData?: string | undefined }): string {
  switch (client) {
    case 'claude-desktop':
      if (where.platform === 'darwin') return join(where.home, 'Library', 'Application Support', 'Claude', 'claude_desktop_config.json');
      if (where.platform === 'win32') return join(where.appData ?? join(where.home, 'AppData', 'Roaming'), 'Claude', 'claude_desktop_config.json');
      return join(where.home, '.config', 'Claude', 'claude_desktop_config.json');
    case 'cursor':
      return join(where.cwd, '.cursor', 'mcp.json');
    case 'vscode':
      return join(where.cwd, '.vscode', 'mcp.json');
    case 'codex':
      return join(where.home, '.codex/config.toml');
  }
}

/** The client's configuration holding just this server, as it would be printed. */
export function renderClientConfig(client: McpClient, name: string, e: StdioEntry): string {
  return mergeClientConfig(client, undefined, name, e, '(printed)');
}

function malformed(file: string, why: string): WardenError {
  return new WardenError('client.config_malformed', `\`${file}\` ${why}; it was left as it is`, { help: 'fix the file by hand (or move it away), then run the command again; without --write the entry is printed for you to paste' });
}

/**
 * The client's configuration with this server added or replaced, every other server and setting
 * kept. `text` undefined means the file does not exist yet. Throws `client.config_malformed` for a
 * file it cannot read safely: it never overwrites what it does not understand.
 */
export function mergeClientConfig(client: McpClient, text: string | undefined, name: string, e: StdioEntry, file: string): string {
  const f = FORMATS[client];
  const entry = f.entry(e);
  if (f.format === 'toml') return mergeToml(text ?? '', f.key, name, entry, file);
  let doc: unknown = {};
  if (text !== undefined && text.trim() !== '') {
    try {
      doc = JSON.parse(text);
    } catch (err) {
      throw malformed(file, `is not valid JSON (${(err as Error).message.split('\n')[0]!})`);
    }
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) throw malformed(file, 'does not hold a JSON object');
  const servers = (doc as Record<string, unknown>)[f.key] ?? {};
  if (servers === null || typeof servers !== 'object' || Array.isArray(servers)) throw malformed(file, `holds a \`${f.key}\` that is not an object`);
  const merged = { ...(doc as Record<string, unknown>), [f.key]: { ...(servers as Record<string, unknown>), [name]: entry } };
  return `${JSON.stringify(merged, null, 2)}\n`;
}

function mergeToml(text: string, key: string, name: string, entry: Record<string, unknown>, file: string): string {
  let statements;
  try {
    statements = tomlStatements(text);
  } catch (err) {
    if (err instanceof TomlShapeError) throw malformed(file, `is not valid TOML at line ${err.line} (${err.message})`);
    throw err;
  }
  const table = `${key}.${name}`;
  // The server's own table and its subtables (`[mcp_servers.NAME.env]`) are replaced; all else is kept.
  const ours = (h: string | undefined) => h !== undefined && (h === table || h.startsWith(`${table}.`));
  let header: string | undefined;
  let kept = '';
  for (const s of statements) {
    if (s.kind === 'header') header = s.name;
    if (s.kind === 'pair') {
      const full = header === undefined ? s.name! : `${header}.${s.name!}`;
      // Defined as a dotted key or an inline table: a second definition would make the file invalid.
      if (!ours(header) && (full === table || full.startsWith(`${table}.`))) throw malformed(file, `defines \`${table}\` as a key, not a table, which this command does not edit`);
    }
    if (!ours(header)) kept += text.slice(s.start, s.end);
  }
  const body = Object.entries(entry)
    .map(([k, v]) => `${k} = ${Array.isArray(v) ? `[${v.map((x) => tomlString(String(x))).join(', ')}]` : tomlString(String(v))}`)
    .join('\n');
  const before = kept === '' ? '' : `${kept.replace(/\n*$/, '')}\n\n`;
  return `${before}[${table}]\n${body}\n`;
}
