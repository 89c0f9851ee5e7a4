import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { CallToolRequestSchema, ErrorCode, ListResourcesRequestSchema, ListToolsRequestSchema, McpError, ReadResourceRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { sql } from 'kysely';
import pino from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../src/cli/program.js';
import type { AuditEvent } from '../src/domain/index.js';
import { AUDIT_MODES, DECISION_META_KEY } from '../src/gateway/index.js';
import type { GatewayRuntime } from '../src/main/index.js';
import { agent, auditEvents, EVERYTHING, inMemoryUpstream, policyDir, runtime, textOf } from './fixtures/gateway-harness.js';

// The two audit modes (docs/gateway.md, "Audit modes"): what each promises when the audit store
// works, and when it fails under a request. Faults are injected in the store itself (a trigger on
// audit_events), so the writer, the group commit and the result batcher run as in production.

const POLICY = `apiVersion: warden.dev/v1
kind: Policy
metadata: { name: modes, scope: acme }
spec:
  rules:
    - { name: all, effect: allow, match: { actions: [tool.list, tool.call, resource.list, resource.read] } }
    - { name: no-forbidden, effect: deny, match: { actions: [tool.call], tools: ["*.forbidden"] }, message: Not this one. }
`;

/** A toy upstream that counts what reaches it. */
function countingServer(calls: string[]): Server {
  const server = new Server({ name: 'toy', version: '1.0.0' }, { capabilities: { tools: {}, resources: {} } });
  const open = { type: 'object' as const, properties: { message: { type: 'string' } } };
  server.setRequestHandler(ListToolsRequestSchema, async () => ({
    tools: ['echo', 'doomed', 'forbidden', 'boom'].map((name) => ({ name, inputSchema: open })),
  }));
  server.setRequestHandler(CallToolRequestSchema, async (req) => {
    calls.push(req.params.name);
    if (req.params.name === 'boom') throw new McpError(-32050, 'the reactor is down');
    return { content: [{ type: 'text', text: `Echo: ${String(req.params.arguments?.message)}` }] };
  });
  server.setRequestHandler(ListResourcesRequestSchema, async () => ({ resources: [{ uri: 'toy://doc', name: 'doc' }] }));
  server.setRequestHandler(ReadResourceRequestSchema, async (req) => {
    calls.push(req.params.uri);
    return { contents: [{ uri: req.params.uri, text: 'the doc' }] };
  });
  return server;
}

/** Installs the fault trigger: `decision` faults fail decision events on one tool; a `down` fault fails every insert. */
async function installFaults(rt: GatewayRuntime): Promise<void> {
  await sql`CREATE TABLE warden_test_faults (kind text NOT NULL, tool text)`.execute(rt.database.db);
  await sql`CREATE FUNCTION warden_test_fault() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF EXISTS (SELECT 1 FROM warden_test_faults f WHERE f.kind = 'down' OR (f.kind = 'decision' AND NEW.type LIKE '%.decided' AND NEW.tool = f.tool)) THEN
        RAISE EXCEPTION 'injected audit store fault';
      END IF;
      RETURN NEW;
    END $$`.execute(rt.database.db);
  await sql`CREATE TRIGGER warden_test_fault BEFORE INSERT ON audit_events FOR EACH ROW EXECUTE FUNCTION warden_test_fault()`.execute(rt.database.db);
}

const metaOf = (r: { _meta?: Record<string, unknown> | undefined }) => r._meta?.[DECISION_META_KEY] as Record<string, unknown> | undefined;

/** Every correlated gateway event points to a decision the log holds. */
function expectNoOrphans(events: AuditEvent[]): void {
  const decisions = new Set(events.filter((e) => e.category === 'decision').map((e) => e.id));
  const orphans = events.filter((e) => e.category === 'tool_call' && e.correlationId !== undefined && !decisions.has(e.correlationId));
  expect(orphans).toEqual([]);
}

for (const mode of AUDIT_MODES) {
  describe(`audit mode ${mode}`, () => {
    let rt: GatewayRuntime;
    let alice: Client;
    const calls: string[] = [];
    const logged: Array<Record<string, unknown>> = [];

    beforeAll(async () => {
      const sink = new Writable({
        write(chunk: Buffer, _enc, done) {
          for (const line of chunk.toString().split('\n').filter(Boolean)) logged.push(JSON.parse(line) as Record<string, unknown>);
          done();
        },
      });
      rt = await runtime({ policies: [policyDir(POLICY)], upstreams: [inMemoryUpstream('toy', () => countingServer(calls))], auditMode: mode, logger: pino({ level: 'error' }, sink) });
      await installFaults(rt);
      alice = await agent(rt.gateway, { agentId: 'alice' });
      // Listed before any fault: a listing is decided (and recorded) too. A denied tool is hidden, not uncallable.
      expect((await alice.listTools()).tools.map((t) => t.name)).toEqual(['echo', 'doomed', 'boom']);
    });
    afterAll(async () => {
      await alice?.close();
      await rt?.close();
    });
    beforeEach(async () => {
      calls.length = 0;
      logged.length = 0;
      await sql`DELETE FROM warden_test_faults`.execute(rt.database.db);
    });

    it('answers an allowed call after its decision and result are recorded, the result pointing to the decision', async () => {
      const r = await alice.callTool({ name: 'echo', arguments: { message: 'hi' } });
      expect(textOf(r)).toBe('Echo: hi');
      const events = await auditEvents(rt);
      const decided = events.filter((e) => e.type === 'tool.call.decided' && e.target?.name === 'toy.echo').at(-1)!;
      expect(events.find((e) => e.type === 'tool.call.completed' && e.correlationId === decided.id)).toMatchObject({ outcome: 'success' });
      expectNoOrphans(events);
    });

    it('never forwards a deny, and records it before answering', async () => {
      const r = await alice.callTool({ name: 'forbidden', arguments: { message: 'x' } });
      expect(r.isError).toBe(true);
      expect(textOf(r)).toContain('Not this one.');
      expect(calls).toEqual([]);
      const events = await auditEvents(rt);
      expect(events.some((e) => e.id === metaOf(r)?.auditEventId && e.decision?.effect === 'deny')).toBe(true);
    });

    it('never forwards a deny whose decision cannot be recorded either, and answers the audit failure', async () => {
      await sql`INSERT INTO warden_test_faults VALUES ('decision', 'toy.forbidden')`.execute(rt.database.db);
      const r = await alice.callTool({ name: 'forbidden', arguments: { message: 'x' } });
      expect(calls).toEqual([]);
      expect(r.isError).toBe(true);
      expect(metaOf(r)).toEqual({ refusal: 'audit_failed', code: 'audit.write_failed' });
      expect(textOf(r)).toMatch(/^Warden could not record its decision on this call in the audit log, so nothing was forwarded: /);
    });

    it('answers the upstream failure only after the decision is recorded, pointing to it', async () => {
      const r = await alice.callTool({ name: 'boom', arguments: {} });
      expect(textOf(r)).toBe('the upstream server `toy` failed during the call to `boom`: the reactor is down');
      const events = await auditEvents(rt);
      expect(events.some((e) => e.id === metaOf(r)?.auditEventId && e.type === 'tool.call.decided')).toBe(true);
      expect(events.find((e) => e.type === 'tool.call.failed' && e.correlationId === metaOf(r)?.auditEventId)).toBeDefined();
    });

    it('withholds the result of a call whose decision cannot be recorded, with audit.write_failed', async () => {
      await sql`INSERT INTO warden_test_faults VALUES ('decision', 'toy.doomed')`.execute(rt.database.db);
      // Another agent's call rides in the same group commit and must not be hurt by the doomed one.
      const bob = await agent(rt.gateway, { agentId: 'bob' });
      const [doomed, fine] = await Promise.all([alice.callTool({ name: 'doomed', arguments: { message: 'pay 100' } }), bob.callTool({ name: 'echo', arguments: { message: 'fine' } })]);
      await bob.close();
      expect(textOf(fine)).toBe('Echo: fine');
      expect(doomed.isError).toBe(true);
      expect(metaOf(doomed)).toEqual({ refusal: 'audit_failed', code: 'audit.write_failed' });
      expect(textOf(doomed)).not.toContain('pay 100');

      const events = await auditEvents(rt);
      expect(events.filter((e) => e.type === 'tool.call.decided' && e.target?.name === 'toy.doomed')).toEqual([]);
      expectNoOrphans(events);
      if (mode === 'before-forward') {
        // Nothing went out, so nothing happened upstream and nothing is left to flag.
        expect(calls).toEqual(['echo']);
        expect(textOf(doomed)).toMatch(/so nothing was forwarded: the audit log could not commit/);
        expect(events.filter((e) => e.type === 'tool.call.audit_failed')).toEqual([]);
        expect(logged).toContainEqual(expect.objectContaining({ code: 'audit.write_failed', agent: 'alice', msg: 'a decision could not be recorded; nothing was forwarded' }));
      } else {
        // The documented risk of before-respond: the upstream was asked, and the agent is told so.
        expect(calls.sort()).toEqual(['doomed', 'echo']);
        expect(textOf(doomed)).toMatch(/withheld the result of `doomed`; the upstream server `toy` was asked and may have acted on it, so check before retrying: the audit log could not commit/);
        const flagged = events.filter((e) => e.type === 'tool.call.audit_failed');
        expect(flagged).toHaveLength(1);
        expect(flagged[0]).toMatchObject({ outcome: 'error', agent: { id: 'alice' }, target: { kind: 'tool', server: 'toy', name: 'toy.doomed' }, details: { refusal: 'audit_failed' } });
        expect(flagged[0]!.correlationId).toBeUndefined();
        expect(typeof flagged[0]!.details?.lostDecisionEventId).toBe('string');
        expect(events.some((e) => e.id === flagged[0]!.details?.lostDecisionEventId)).toBe(false);
        expect(logged).toContainEqual(expect.objectContaining({ code: 'audit.write_failed', agent: 'alice', lostDecisionEventId: flagged[0]!.details?.lostDecisionEventId }));
      }
    });

    it('with the store down: the agent gets the audit failure, no result and no event; the log says what happened', async () => {
      await sql`INSERT INTO warden_test_faults VALUES ('down', NULL)`.execute(rt.database.db);
      const r = await alice.callTool({ name: 'echo', arguments: { message: 'lost' } });
      expect(r.isError).toBe(true);
      expect(metaOf(r)).toEqual({ refusal: 'audit_failed', code: 'audit.write_failed' });
      expect(textOf(r)).not.toContain('Echo: lost');
      const read = await alice.readResource({ uri: 'toy://doc' }).then(
        () => undefined,
        (e: unknown) => e as McpError,
      );
      expect(read).toBeInstanceOf(McpError);
      expect(read!.code).toBe(ErrorCode.InternalError);
      expect((read!.data as Record<string, unknown>)[DECISION_META_KEY]).toEqual({ refusal: 'audit_failed', code: 'audit.write_failed' });
      await rt.gateway.flushResults();
      await rt.audit.flush();
      await sql`DELETE FROM warden_test_faults`.execute(rt.database.db);
      const events = await auditEvents(rt);
      expectNoOrphans(events);
      expect(events.filter((e) => e.type.startsWith('resource.read.'))).toEqual([]);
      // (The doomed call of the test before left its own flagged event.)
      expect(events.filter((e) => e.type.endsWith('.audit_failed') && e.target?.name !== 'toy.doomed')).toEqual([]);
      if (mode === 'before-respond') {
        expect(calls).toEqual(['echo', 'toy://doc']);
        // The flagged events could not be written either: the log is the only trace left.
        expect(logged.filter((l) => l.msg === 'a forwarded request was executed but its decision could not be recorded; the result was withheld from the agent')).toHaveLength(2);
        expect(logged.filter((l) => l.msg === 'could not write the result event')).toHaveLength(2);
      } else {
        expect(calls).toEqual([]);
      }
    });
  });
}

describe('both audit modes over server-everything (stdio)', () => {
  it('answer the same and record the same kinds of events', async () => {
    const seen: string[][] = [];
    for (const mode of AUDIT_MODES) {
      const rt = await runtime({
        policies: [policyDir(POLICY)],
        upstreams: [{ name: 'everything', command: process.execPath, args: [EVERYTHING, 'stdio'] }],
        auditMode: mode,
      });
      try {
        const c = await agent(rt.gateway, { agentId: 'alice' });
        const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => c.callTool({ name: 'echo', arguments: { message: `m${i}` } })));
        expect(answers.map(textOf)).toEqual(Array.from({ length: 20 }, (_, i) => `Echo: m${i}`));
        await c.close();
        const events = await auditEvents(rt);
        expectNoOrphans(events);
        expect(events.filter((e) => e.type === 'tool.call.completed')).toHaveLength(20);
        seen.push([...new Set(events.map((e) => e.type))].sort());
      } finally {
        await rt.close();
      }
    }
    expect(seen[0]).toEqual(seen[1]);
  }, 60_000);
});

describe('warden gateway --http: the audit mode from the file, the flag over it', () => {
  /** Starts the command, returns its startup line, stops it. */
  async function startupLine(args: string[]): Promise<string> {
    let stop = () => {};
    const stopped = new Promise<void>((r) => (stop = r));
    let stderr = '';
    let found: (line: string) => void = () => {};
    const line = new Promise<string>((r) => (found = r));
    const code = runCli(['gateway', '--http', '0', '--log-level', 'silent', ...args], {
      stdout: () => {},
      stderr: (t) => {
        stderr += t;
        const m = /^Warden gateway is serving MCP at .*$/m.exec(stderr);
        if (m) found(m[0]);
      },
      env: {},
      cwd: process.cwd(),
      untilStopped: () => stopped,
    });
    void code.then((c) => found(`exited ${c}: ${stderr}`));
    const text = await line;
    stop();
    expect(await code).toBe(0);
    return text;
  }

  it('names the mode in force in the startup line', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'warden-gw-mode-'));
    const file = join(dir, 'gateway.yaml');
    writeFileSync(
      file,
      `apiVersion: warden.dev/v1\nkind: Gateway\nspec:\n  scope: acme/platform\n  audit: { mode: before-respond }\n  servers:\n    - { name: everything, command: ${JSON.stringify(process.execPath)}, args: [${JSON.stringify(EVERYTHING)}, stdio] }\n`,
    );
    const common = ['--config', file, '--policies', policyDir(POLICY), '--data-dir', join(dir, 'data')];
    expect(await startupLine(common)).toMatch(/\(everything; audit mode before-respond\)$/);
    expect(await startupLine([...common, '--audit-mode', 'before-forward'])).toMatch(/\(everything; audit mode before-forward\)$/);
  }, 300_000);
});
