import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DECISION_META_KEY } from '../src/gateway/index.js';
import type { GatewayRuntime } from '../src/main/index.js';
import { EVERYTHING, FILESYSTEM, agent, auditEvents, policyDir, runtime, textOf } from './fixtures/gateway-harness.js';

// Issue 15 item 1 (toxic flows) through the gateway with real MCP servers from npm: an agent reads a
// file whose content carries a secret (server-filesystem), then calls a tool the registry marks as
// reaching the network (server-everything's echo): a session-flow policy denies the second call and
// names the first step. Another session of the same agent, and the same calls in the other order,
// are not affected.
const POLICY = `apiVersion: warden.dev/v1
kind: Policy
metadata: { name: flows, scope: acme }
spec:
  scan: { detectors: [secret], on: [input, output] }
  rules:
    - { name: all, effect: allow, match: { actions: [tool.list, tool.call] } }
    - name: no-exfil-after-secret
      match: { actions: [tool.call] }
      when: >-
        session.history.exists(a, a.findings.exists(f, f.category == "secret"))
        && has(tool.capabilities) && "network" in tool.capabilities
      effect: deny
      message: A secret was read in this session, so calls that reach the network are refused.
`;

let rt: GatewayRuntime;
let dir: string;
const meta = (r: { _meta?: Record<string, unknown> | undefined }) => r._meta?.[DECISION_META_KEY] as { reasons?: Array<{ rule: string }> } | undefined;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'warden-flow-'));
  writeFileSync(join(dir, 'notes.txt'), 'nothing to see here\n');
  writeFileSync(join(dir, '.env'), 'GITHUB_TOKEN=ghp_R3aLl00kingT0kenAbCdEfGhIjKlMnOpQr12\n');
  const registry = join(mkdtempSync(join(tmpdir(), 'warden-flow-reg-')), 'registry.yaml');
  writeFileSync(registry, 'apiVersion: warden.dev/v1\nkind: Registry\nspec:\n  tools:\n    - { server: everything, name: everything.echo, capabilities: [network] }\n');
  rt = await runtime({
    policies: [policyDir(POLICY)],
    registryFile: registry,
    scope: 'acme/platform',
    upstreams: [
      { name: 'files', command: process.execPath, args: [FILESYSTEM, dir] },
      { name: 'everything', command: process.execPath, args: [EVERYTHING, 'stdio'] },
    ],
  });
});
afterAll(() => rt?.close());

describe('session flows at the gateway', () => {
  it('a secret read, then a network call in the same session: denied, naming the earlier step', async () => {
    const a: Client = await agent(rt.gateway, { agentId: 'agent-7' });
    const before = await a.callTool({ name: 'everything.echo', arguments: { message: 'hello' } });
    expect(before.isError, textOf(before)).toBeFalsy();
    const read = await a.callTool({ name: 'files.read_text_file', arguments: { path: join(dir, '.env') } });
    expect(read.isError, textOf(read)).toBeFalsy();
    const after = await a.callTool({ name: 'everything.echo', arguments: { message: 'the token is …' } });
    expect(after.isError).toBe(true);
    expect(meta(after)!.reasons!.map((r) => r.rule)).toEqual(['no-exfil-after-secret']);
    expect(textOf(after)).toContain('A secret was read in this session');
    expect(textOf(after)).toMatch(/after `files\.read_text_file` \(event [0-9a-f-]+\) earlier in this session/);
    // The decision event names the step too, by its own decision event's id.
    const events = await auditEvents(rt);
    const denied = events.filter((e) => e.type === 'tool.call.decided' && e.decision?.effect === 'deny').at(-1)!;
    const step = denied.decision!.reasons[0]!.steps![0]!;
    const readEvent = events.find((e) => e.id === step.eventId)!;
    expect(readEvent).toMatchObject({ type: 'tool.call.decided', target: { name: 'files.read_text_file' } });
  });

  it('another session of the same agent, and a read with no secret, start clean', async () => {
    const b = await agent(rt.gateway, { agentId: 'agent-7' });
    expect((await b.callTool({ name: 'files.read_text_file', arguments: { path: join(dir, 'notes.txt') } })).isError).toBeFalsy();
    const echo = await b.callTool({ name: 'everything.echo', arguments: { message: 'fine' } });
    expect(echo.isError, textOf(echo)).toBeFalsy();
  });
});
