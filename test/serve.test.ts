import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
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
      if (m && banner.includes('audit trail')) {
        clearTimeout(timer);
        resolve({ url: m[1]!, banner, child });
      }
    });
    child.on('exit', (code) => reject(new Error(`server exited with ${code}:\n${banner}`)));
  });
}

function curlBodies(banner: string): unknown[] {
  return [...banner.matchAll(/-d '(\{.*\})'/g)].map((m) => JSON.parse(m[1]!));
}

describe('warden serve --demo (what npm start runs)', () => {
  it('serves the allow and the deny its banner shows, audits both, and keeps them across a restart', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'warden-serve-'));
    const { url, banner, child } = await serve(dataDir);
    const bodies = curlBodies(banner);
    expect(bodies).toHaveLength(2);
    const effects: string[] = [];
    for (const body of bodies) {
      const res = await fetch(`${url}/api/v1/decide`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      expect(res.status).toBe(200);
      effects.push(((await res.json()) as { effect: string }).effect);
    }
    expect(effects).toEqual(['allow', 'deny']);
    const page = (await (await fetch(`${url}/api/v1/audit/events?limit=5`)).json()) as { events: { decision: { effect: string } }[] };
    expect(page.events.map((e) => e.decision.effect)).toEqual(['deny', 'allow']);

    const exited = new Promise((r) => child.on('exit', r));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    // A clean stop seals what was written under a signed checkpoint.
    const verified = await cli(['audit', 'verify', '--data-dir', dataDir]);
    expect(verified.code).toBe(0);
    expect(verified.stdout).toContain('2 events, last seq 2, 1 checkpoint(s)');

    const again = await serve(dataDir);
    const kept = (await (await fetch(`${again.url}/api/v1/audit/events?limit=5`)).json()) as { events: unknown[] };
    expect(kept.events).toHaveLength(2);
  }, 120_000);
});
