import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cli } from './support/cli.js';

const ROOT = join(import.meta.dirname, '..');
const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) c.kill('SIGKILL');
});

/** Starts `warden serve --demo` as a real process and resolves with its URL and the commands it printed. */
function serve(dataDir: string): Promise<{ url: string; banner: string; child: ChildProcess }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'serve', '--demo', '--port', '0', '--data-dir', dataDir, '--log-level', 'warn'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let banner = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${banner}`)), 45_000);
    child.stderr!.on('data', (b: Buffer) => {
      banner += b.toString();
      const m = /serving the demo policies at (http:\/\/\S+)/.exec(banner);
      // The decision API's banner, then the MCP gateway's (or why there is none).
      // The MCP banner's last command (the decide banner names get-env too, without arguments).
      if (m && /"name":"get-env","arguments".*\n|no MCP gateway demo|Could not start the demo MCP gateway/.test(banner)) {
        clearTimeout(timer);
        resolve({ url: m[1]!, banner, child });
      }
    });
    child.on('exit', (code) => reject(new Error(`server exited with ${code}:\n${banner}`)));
  });
}

function curlBodies(banner: string): unknown[] {
  const api = banner.slice(0, banner.indexOf('The MCP gateway'));
  return [...api.matchAll(/-d '(\{.*\})'/g)].map((m) => JSON.parse(m[1]!));
}

/** The shell commands the banner prints for the MCP gateway, as one script. */
function mcpScript(banner: string): string {
  const from = banner.indexOf('Or by hand');
  return banner.slice(banner.indexOf('\n', from) + 1).trim();
}

function run(script: string): Promise<{ code: number | null; out: string }> {
  const child = spawn('bash', ['-c', `set -e\n${script}`], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (out += b.toString()));
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, out })));
}

/** The JSON-RPC messages in a Streamable HTTP response stream (`data: {...}` lines). */
function messages(out: string): Array<{ id?: number; result?: Record<string, unknown> }> {
  return [...out.matchAll(/^data: (\{.*\})$/gm)].map((m) => JSON.parse(m[1]!));
}

describe('warden serve --demo (what npm start runs)', () => {
  it('serves the allow and the deny its banner shows, audits both, and keeps them across a restart', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'warden-serve-'));
    const { url, banner, child } = await serve(dataDir);
    const bodies = curlBodies(banner).filter((b) => typeof b === 'object' && b !== null && 'kind' in b);
    expect(bodies).toHaveLength(3);
    const token = (name: string, text: string) => new RegExp(`${name}=(wdn_[0-9a-f_]+)`).exec(text)![1]!;
    // A fresh data directory: the bootstrap owner token is printed once and kept in a file only its owner reads.
    const bootstrap = token('export WARDEN_TOKEN', banner);
    const file = `${dataDir}.bootstrap-token`;
    expect(readFileSync(file, 'utf8').trim()).toBe(bootstrap);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect((await fetch(`${url}/api/v1/whoami`, { headers: { authorization: `Bearer ${bootstrap}` } })).status).toBe(200);
    expect((await fetch(`${url}/api/v1/audit/events`)).status).toBe(401);
    const auth = (name: string) => ({ authorization: `Bearer ${token(name, banner)}` });
    const effects: string[] = [];
    for (const body of bodies) {
      const res = await fetch(`${url}/api/v1/decide`, { method: 'POST', headers: { 'content-type': 'application/json', ...auth('ENFORCER') }, body: JSON.stringify(body) });
      expect(res.status).toBe(200);
      effects.push(((await res.json()) as { effect: string }).effect);
    }
    expect(effects).toEqual(['allow', 'deny', 'require_approval']);
    const page = (await (await fetch(`${url}/api/v1/audit/events?category=decision&limit=5`, { headers: auth('AUDITOR') })).json()) as { events: { decision: { effect: string } }[] };
    expect(page.events.map((e) => e.decision.effect)).toEqual(['require_approval', 'deny', 'allow']);
    // The approval walk-through: the two approvers the banner names release the same deploy once.
    const decide = async () => (await (await fetch(`${url}/api/v1/decide`, { method: 'POST', headers: { 'content-type': 'application/json', ...auth('ENFORCER') }, body: JSON.stringify(bodies[2]) })).json()) as { effect: string; approvalRequest?: { id: string } };
    const pending = await decide();
    for (const who of ['CAROL', 'DAVE']) {
      const res = await fetch(`${url}/api/v1/approvals/${pending.approvalRequest!.id}/approve`, { method: 'POST', headers: { 'content-type': 'application/json', ...auth(who) }, body: '{"comment":"ok"}' });
      expect(res.status, await res.clone().text()).toBe(200);
    }
    expect((await decide()).effect).toBe('allow');

    const exited = new Promise((r) => child.on('exit', r));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    // A clean stop seals what was written under a signed checkpoint.
    const verified = await cli(['audit', 'verify', '--data-dir', dataDir]);
    expect(verified.code).toBe(0);
    expect(verified.stdout).toMatch(/\d+ events, last seq \d+, 1 checkpoint\(s\)/);

    const again = await serve(dataDir);
    // Created once per installation: the second start prints no bootstrap token, and the first one still works.
    expect(again.banner).not.toContain('export WARDEN_TOKEN');
    const kept = (await (await fetch(`${again.url}/api/v1/audit/events?category=decision&limit=5`, { headers: { authorization: `Bearer ${bootstrap}` } })).json()) as { events: unknown[] };
    expect(kept.events).toHaveLength(5);
  }, 120_000);

  it('puts the MCP gateway in front of a demo server; the printed curl session lists, allows and denies with the policy named', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'warden-serve-'));
    const { url, banner } = await serve(dataDir);
    expect(banner).toMatch(/MCP gateway is in front of the demo server \(server-everything\) at http:\/\/\S+\/mcp/);
    const { code, out } = await run(mcpScript(banner));
    expect(code).toBe(0);
    const byId = new Map(messages(out).map((m) => [m.id, m.result]));
    const tools = (byId.get(2)!.tools as Array<{ name: string }>).map((t) => t.name);
    expect(tools).toContain('echo');
    expect(tools).not.toContain('get-env'); // hidden: the agent may not use it
    expect(JSON.stringify(byId.get(3))).toContain('Echo: hello through Warden');
    expect(byId.get(4)!.isError).toBe(true);
    expect(JSON.stringify(byId.get(4))).toContain('rule `no-environment-dumps`');
    // The decision API's audit trail holds the gateway's events too (one database).
    const auditor = /AUDITOR=(wdn_[0-9a-f_]+)/.exec(banner)![1]!;
    const page = (await (await fetch(`${url}/api/v1/audit/events?type=tool.call.decided&limit=10`, { headers: { authorization: `Bearer ${auditor}` } })).json()) as { events: Array<{ target?: { name?: string }; outcome: string }> };
    expect(page.events.map((e) => [e.target?.name, e.outcome])).toEqual([
      ['everything.get-env', 'denied'],
      ['everything.echo', 'success'],
    ]);
  }, 120_000);
});
